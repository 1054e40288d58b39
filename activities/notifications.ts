import { ApplicationFailure } from '@temporalio/activity';
import type { UpgradePlan } from '../src/domain/upgrade-plan';
import type { NotificationEvent, UpgradeActivities } from '../workflows/activity-contract';
import { FAILURE_TYPES } from '../workflows/failure-types';
import type { UpgradeActivityDeps } from './deps';
import { findPlan } from './frozen-plans';
import { isDuplicateKeyError } from '../src/db/duplicate-key';
import { deliverOutboxEntry } from './webhook-delivery';

export { signWebhook, standardWebhookHeaders, standardWebhookSecret, verifyStandardWebhook, verifyWebhookSignature } from './webhook-signatures';

/** One outbox entry per event (reminders are numbered): retries and re-runs find it and never add a second. */
const notificationIdFor = (upgradeId: string, event: NotificationEvent, sequence?: number) =>
  `${upgradeId}:${event}${sequence === undefined ? '' : `:${sequence}`}`;

function messageFor(
  event: NotificationEvent,
  plan: UpgradePlan | undefined,
  error: { code: string; message: string } | undefined,
  attention: { code: string; message: string } | undefined,
): string {
  const what = plan?.summary ?? 'the upgrade';
  switch (event) {
    case 'seats_reassigned_automatically':
      return `The users' licences were reassigned automatically to the upgraded product. (${what})`;
    case 'manual_seat_reassignment_required':
      return `The upgrade completed at Microsoft, but the licences could not be reassigned automatically: assign the new product to the users by hand, then confirm. Reason: ${plan?.seatReassignment.reason ?? 'unknown'}. (${what})`;
    case 'manual_seat_reassignment_reminder':
      return `Reminder: the licences of this upgrade still wait for manual reassignment and confirmation. (${what})`;
    case 'manual_seat_reassignment_escalated':
      return `Escalation: manual licence reassignment has not been confirmed in time. (${what})`;
    case 'upgrade_completed':
      return `Upgrade completed. (${what})`;
    case 'auto_renew_enabled':
      return `Auto-renew was turned on for the source subscription: Microsoft applies an upgrade at renewal only to a subscription that renews. Cancel the scheduled upgrade to leave it as it was. (${what})`;
    case 'upgrade_failed':
      // "Nothing was changed" only when Microsoft's answers say so: not when whether it converted is unknown.
      return `Upgrade failed: ${error ? `${error.code}: ${error.message}` : 'unknown reason'}. ${
        error && OUTCOME_UNKNOWN_CODES.includes(error.code)
          ? 'Microsoft may have converted the subscription: an operator checks at Microsoft before anything else is done.'
          : 'Nothing was changed.'
      }`;
    case 'upgrade_needs_attention':
      return `Whether Microsoft converted the subscription is unknown (${attention ? `${attention.code}: ${attention.message}` : 'no reason recorded'}). The subscriptions stay locked until an operator has checked at Microsoft and settled the upgrade. (${what})`;
  }
}

/** Failure codes after which Microsoft may have converted (docs/partner-center.md, "Unknown outcomes"). */
const OUTCOME_UNKNOWN_CODES: readonly string[] = [FAILURE_TYPES.vendorOutcomeUnknown, 'VENDOR_TRANSITION_UNREADABLE'];

export function createNotificationActivities(deps: UpgradeActivityDeps) {
  return {
    /**
     * Writes the event to the outbox (once: its id is the key, the first write wins) and delivers it to the account's
     * webhook, signed. A failed delivery throws so Temporal retries it with backoff; the delivery id header lets the
     * receiver drop a duplicate if our "delivered" write is lost after its 2xx.
     */
    async sendUpgradeNotification(upgradeId: string, event: NotificationEvent, sequence?: number): Promise<'delivered' | 'no_webhook'> {
      const id = notificationIdFor(upgradeId, event, sequence);
      /** What delivery needs of the outbox entry. */
      type OutboxEntry = { status: string; payload: unknown; webhookUrl?: string | null };
      // Written first, read only if it exists: a retry after a failed delivery finds the entry by its key.
      let notification: OutboxEntry | null;
      // Only what the payload says: not the steps, the vendor record or the plan summary the record also holds.
      const upgrade = await deps.models.upgrades
        .findById(upgradeId, { accountId: 1, status: 1, kind: 1, destinationType: 1, request: 1, error: 1, attention: 1 })
        .lean();
      if (!upgrade) throw ApplicationFailure.nonRetryable(`upgrade ${upgradeId} not found`, FAILURE_TYPES.upgradeDataInconsistent);
      const [account, plan] = await Promise.all([
        // With the signing secrets: one read of the account for the entry and its signature.
        deps.models.accounts.findById(upgrade.accountId, { webhookUrl: 1, webhookSecrets: 1 }).lean(),
        findPlan(deps, upgradeId, 'maybeBeforeConversion'), // absent when validation rejected the upgrade
      ]);
      const error = (upgrade.error ?? undefined) as { code: string; message: string } | undefined;
      const attention = (upgrade.attention ?? undefined) as { code: string; message: string; during: string } | undefined;
      const payload = {
        id,
        event,
        upgradeId,
        accountId: upgrade.accountId,
        occurredAt: deps.clock().toISOString(),
        message: messageFor(event, plan, error, attention),
        upgrade: {
          status: upgrade.status,
          kind: upgrade.kind,
          destinationType: upgrade.destinationType,
          sourceSubscriptionId: plan?.sourceSubscriptionId ?? (upgrade.request as { sourceSubscriptionId?: string }).sourceSubscriptionId,
          targetProductId: plan?.targetProductId ?? (upgrade.request as { targetProductId?: string }).targetProductId,
          quantity: plan?.quantity,
          ...(error ? { error } : {}),
          ...(event === 'upgrade_needs_attention' && attention
            ? { attention: { code: attention.code, message: attention.message, during: attention.during } }
            : {}),
          ...(sequence !== undefined ? { reminder: sequence } : {}),
        },
      };
      const entry = {
        _id: id,
        upgradeId,
        accountId: upgrade.accountId,
        event,
        payload,
        webhookUrl: account?.webhookUrl ?? null,
        status: account?.webhookUrl ? ('pending' as const) : ('no_webhook' as const),
      };
      try {
        await deps.models.notifications.create(entry);
        notification = entry;
      } catch (writeError) {
        if (!isDuplicateKeyError(writeError)) throw writeError;
        // Written by an earlier attempt (or a racing one): deliver what it wrote, as it wrote it.
        notification = await deps.models.notifications.findById(id, { status: 1, payload: 1, webhookUrl: 1 }).lean();
      }
      if (!notification || notification.status === 'no_webhook') return 'no_webhook';
      if (notification.status === 'delivered') return 'delivered';

      const result = await deliverOutboxEntry(deps, {
        id,
        event,
        accountId: upgrade.accountId,
        webhookUrl: notification.webhookUrl!,
        payload: notification.payload,
        accountSecrets: account ?? null,
      });
      if (result.delivered) return 'delivered';
      // No retry makes a refused destination acceptable: the entry is kept, undeliverable, with the rule it broke.
      if (result.final) throw ApplicationFailure.nonRetryable(result.error, FAILURE_TYPES.webhookDeliveryFailed);
      throw ApplicationFailure.retryable(result.error, FAILURE_TYPES.webhookDeliveryFailed);
    },

    /**
     * After the retries ran out: keep the outbox entry for redelivery and say so, without failing the upgrade. `failedAt`
     * starts the redelivery window (activities/webhook-redelivery.ts).
     */
    async markNotificationUndeliverable(upgradeId: string, event: NotificationEvent, sequence?: number): Promise<void> {
      const id = notificationIdFor(upgradeId, event, sequence);
      const notification = await deps.models.notifications.findById(id, { status: 1 }).lean();
      if (notification?.status === 'pending') {
        await deps.models.notifications.updateOne({ _id: id }, { $set: { status: 'undeliverable', failedAt: deps.clock(), nextRedeliveryAt: null } });
      }
    },
  } satisfies Partial<UpgradeActivities>;
}
