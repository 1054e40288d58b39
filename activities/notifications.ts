import { createHmac, timingSafeEqual } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import type { UpgradePlan } from '../src/domain/upgrade-plan';
import type { NotificationEvent, UpgradeActivities } from '../workflows/activity-contract';
import { FAILURE_TYPES } from '../workflows/failure-types';
import type { UpgradeActivityDeps } from './deps';
import { findPlan } from './frozen-plans';
import { isDuplicateKeyError } from '../src/db/duplicate-key';

/** One outbox entry per event (reminders are numbered): retries and re-runs find it and never add a second. */
const notificationIdFor = (upgradeId: string, event: NotificationEvent, sequence?: number) =>
  `${upgradeId}:${event}${sequence === undefined ? '' : `:${sequence}`}`;

/** `X-NCE-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, verifiable by the receiver. */
export function signWebhook(secret: string, body: string, timestampSeconds: number): string {
  const digest = createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex');
  return `t=${timestampSeconds},v1=${digest}`;
}

/**
 * The receiver's side of `signWebhook`: true when `header` signs `body` with `secret` and its timestamp is within
 * `toleranceSeconds` of `nowSeconds` (an old delivery replayed by someone else is refused).
 */
export function verifyWebhookSignature(secret: string, body: string, header: string | undefined, nowSeconds: number, toleranceSeconds = 300): boolean {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? '');
  if (!match) return false;
  const timestamp = Number(match[1]);
  if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) return false;
  const expected = Buffer.from(signWebhook(secret, body, timestamp).slice(`t=${timestamp},v1=`.length), 'hex');
  return timingSafeEqual(expected, Buffer.from(match[2]!, 'hex'));
}

function messageFor(event: NotificationEvent, plan: UpgradePlan | undefined, error: { code: string; message: string } | undefined): string {
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
    case 'upgrade_failed':
      return `Upgrade failed: ${error ? `${error.code}: ${error.message}` : 'unknown reason'}. Nothing was changed.`;
  }
}

export function createNotificationActivities(deps: UpgradeActivityDeps) {
  const fetchImpl = deps.webhooks.fetch ?? fetch;

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
      const upgrade = await deps.models.upgrades.findById(upgradeId).lean();
      if (!upgrade) throw ApplicationFailure.nonRetryable(`upgrade ${upgradeId} not found`, FAILURE_TYPES.upgradeDataInconsistent);
      const [account, plan] = await Promise.all([
        deps.models.accounts.findById(upgrade.accountId, { webhookUrl: 1 }).lean(),
        findPlan(deps, upgradeId, 'maybeBeforeConversion'), // absent when validation rejected the upgrade
      ]);
      const error = (upgrade.error ?? undefined) as { code: string; message: string } | undefined;
      const payload = {
        id,
        event,
        upgradeId,
        accountId: upgrade.accountId,
        occurredAt: deps.clock().toISOString(),
        message: messageFor(event, plan, error),
        upgrade: {
          status: upgrade.status,
          kind: upgrade.kind,
          destinationType: upgrade.destinationType,
          sourceSubscriptionId: plan?.sourceSubscriptionId ?? (upgrade.request as { sourceSubscriptionId?: string }).sourceSubscriptionId,
          targetProductId: plan?.targetProductId ?? (upgrade.request as { targetProductId?: string }).targetProductId,
          quantity: plan?.quantity,
          ...(error ? { error } : {}),
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

      const body = JSON.stringify(notification.payload);
      const timestamp = Math.floor(deps.clock().getTime() / 1000);
      let failure: string | undefined;
      try {
        const response = await fetchImpl(notification.webhookUrl!, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-nce-event': event,
            'x-nce-delivery': id,
            'x-nce-signature': signWebhook(deps.webhooks.signingSecret, body, timestamp),
          },
          body,
          signal: AbortSignal.timeout(deps.webhooks.timeoutMs),
        });
        if (!response.ok) failure = `webhook answered HTTP ${response.status}`;
      } catch (error) {
        failure = `webhook unreachable: ${error instanceof Error ? error.message : String(error)}`;
      }
      if (failure) {
        await deps.models.notifications.updateOne({ _id: id }, { $inc: { attempts: 1 }, $set: { lastError: failure } });
        throw ApplicationFailure.retryable(failure, FAILURE_TYPES.webhookDeliveryFailed);
      }
      await deps.models.notifications.updateOne(
        { _id: id },
        { $inc: { attempts: 1 }, $set: { status: 'delivered', deliveredAt: deps.clock(), lastError: null } },
      );
      return 'delivered';
    },

    /** After the retries ran out: keep the outbox entry for redelivery and say so, without failing the upgrade. */
    async markNotificationUndeliverable(upgradeId: string, event: NotificationEvent, sequence?: number): Promise<void> {
      const id = notificationIdFor(upgradeId, event, sequence);
      const notification = await deps.models.notifications.findById(id, { status: 1 }).lean();
      if (notification?.status === 'pending') await deps.models.notifications.updateOne({ _id: id }, { $set: { status: 'undeliverable' } });
    },
  } satisfies Partial<UpgradeActivities>;
}
