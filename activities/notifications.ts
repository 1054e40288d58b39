import { createHmac, timingSafeEqual } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import type { UpgradePlan } from '../src/domain/upgrade-plan';
import type { NotificationEvent, UpgradeActivities } from '../workflows/activity-contract';
import { FAILURE_TYPES } from '../workflows/failure-types';
import type { UpgradeActivityDeps } from './deps';
import { findPlan } from './frozen-plans';
import { isDuplicateKeyError } from '../src/db/duplicate-key';
import { checkWebhookDestination, postToCheckedAddress, WebhookDestinationRefused, type CheckedAddress } from './webhook-destination';

/** One outbox entry per event (reminders are numbered): retries and re-runs find it and never add a second. */
const notificationIdFor = (upgradeId: string, event: NotificationEvent, sequence?: number) =>
  `${upgradeId}:${event}${sequence === undefined ? '' : `:${sequence}`}`;

/**
 * Standard Webhooks (https://www.standardwebhooks.com): `webhook-id`, `webhook-timestamp` and
 * `webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, signed by the `standardwebhooks` library
 * so portals verify with any off-the-shelf one. The key is the UTF-8 bytes of `WEBHOOK_SIGNING_SECRET`; in the
 * libraries' own notation that is `standardWebhookSecret(secret)`.
 */
export function standardWebhookHeaders(secret: string, deliveryId: string, timestampSeconds: number, body: string): Record<string, string> {
  const signer = new Webhook(Buffer.from(secret, 'utf8'), { format: 'raw' });
  return {
    'webhook-id': deliveryId,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': signer.sign(deliveryId, new Date(timestampSeconds * 1000), body),
  };
}

/** The secret as Standard Webhooks libraries take it: `whsec_` + base64 of its bytes. */
export const standardWebhookSecret = (secret: string): string => `whsec_${Buffer.from(secret, 'utf8').toString('base64')}`;

/**
 * The receiver's side of `standardWebhookHeaders` (what a portal does with the `standardwebhooks` package): true when
 * the headers sign `body` and the timestamp is within 5 minutes of now.
 */
export function verifyStandardWebhook(secret: string, body: string, headers: Record<string, string>): boolean {
  try {
    new Webhook(standardWebhookSecret(secret)).verify(body, headers);
    return true;
  } catch (error) {
    if (error instanceof WebhookVerificationError) return false;
    throw error;
  }
}

/** Kept for one release beside the Standard Webhooks headers (docs/http-api.md#webhooks). `X-NCE-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, verifiable by the receiver. */
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
      const upgrade = await deps.models.upgrades.findById(upgradeId).lean();
      if (!upgrade) throw ApplicationFailure.nonRetryable(`upgrade ${upgradeId} not found`, FAILURE_TYPES.upgradeDataInconsistent);
      const [account, plan] = await Promise.all([
        deps.models.accounts.findById(upgrade.accountId, { webhookUrl: 1 }).lean(),
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

      const body = JSON.stringify(notification.payload);
      const timestamp = Math.floor(deps.clock().getTime() / 1000);
      let failure: string | undefined;
      let checked: CheckedAddress;
      try {
        checked = await checkWebhookDestination(notification.webhookUrl!, deps.webhooks.destinations, deps.webhooks.resolve);
      } catch (error) {
        if (!(error instanceof WebhookDestinationRefused)) throw error;
        // No retry makes a refused destination acceptable: the entry is kept, undeliverable, with the rule it broke.
        await deps.models.notifications.updateOne({ _id: id }, { $inc: { attempts: 1 }, $set: { lastError: error.message } });
        throw ApplicationFailure.nonRetryable(error.message, FAILURE_TYPES.webhookDeliveryFailed);
      }
      try {
        const status = await postToCheckedAddress(
          notification.webhookUrl!,
          checked,
          {
            'content-type': 'application/json',
            'x-nce-event': event,
            'x-nce-delivery': id,
            'x-nce-signature': signWebhook(deps.webhooks.signingSecret, body, timestamp),
            ...standardWebhookHeaders(deps.webhooks.signingSecret, id, timestamp, body),
          },
          body,
          AbortSignal.timeout(deps.webhooks.timeoutMs),
        );
        // A redirect is not followed (it would re-post the body and signature to a host nobody checked): it fails.
        if (status < 200 || status > 299) failure = `webhook answered HTTP ${status}${status >= 300 && status < 400 ? ' (redirects are not followed)' : ''}`;
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
