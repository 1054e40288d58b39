import { Context } from '@temporalio/activity';
import type { NotificationDocument } from '../src/db/models';
import type { ManualRedeliveryOutcome, RedeliveryReport, WebhookRedeliveryActivities } from '../workflows/webhook-redelivery-workflow';
import type { UpgradeActivityDeps } from './deps';
import { deliverOutboxEntry, type DeliveryResult } from './webhook-delivery';

/**
 * Redelivery of webhooks whose upgrade run gave up (outbox status `undeliverable`): the `webhook-redelivery` Schedule
 * (src/temporal/maintenance-schedules.ts) runs `redeliverDueWebhooks` every `intervalMs`; each entry is tried again
 * when due, backing off after each failure (interval × 2^(n−1), at most `MAX_BACKOFF_MS`), until `windowDays` after it
 * failed. After that it stays `undeliverable` with `redeliveryEndedAt` set: only an operator's (or its reseller's)
 * `POST /v1/webhooks/deliveries/:id/redeliver` tries it again. A redelivery goes to the account's current
 * `webhookUrl` (a portal that fixed its receiver gets what it missed) with the same `webhook-id`.
 */
export interface RedeliveryPolicy {
  /** `WEBHOOK_REDELIVERY_INTERVAL_MINUTES`: how often the schedule runs, and the first backoff. */
  intervalMs: number;
  /** `WEBHOOK_REDELIVERY_DAYS`: how long after the run gave up the schedule keeps trying. */
  windowDays: number;
}

export const DEFAULT_REDELIVERY_POLICY: RedeliveryPolicy = { intervalMs: 15 * 60_000, windowDays: 3 };
export const MAX_BACKOFF_MS = 6 * 3_600_000;
/** Entries tried per scheduled run (the rest wait for the next run), and how many at once. */
const BATCH_SIZE = 200;
const CONCURRENCY = 4;

/** How long after its `failedRedeliveries`-th failed scheduled redelivery an entry is tried again. */
export function redeliveryBackoffMs(failedRedeliveries: number, policy: RedeliveryPolicy): number {
  const exponent = Math.min(Math.max(failedRedeliveries - 1, 0), 30);
  return Math.min(policy.intervalMs * 2 ** exponent, MAX_BACKOFF_MS);
}

/** Inside an activity, tells Temporal it is alive; called directly (a test), there is nobody to tell. */
function heartbeatIfInActivity(details: unknown): void {
  let context: Context;
  try {
    context = Context.current();
  } catch {
    return;
  }
  context.heartbeat(details);
}

type OutboxEntry = NotificationDocument & { _id: string; updatedAt?: Date };

export function createWebhookRedeliveryActivities(deps: UpgradeActivityDeps) {
  const { models } = deps;
  const policy = deps.webhooks.redelivery ?? DEFAULT_REDELIVERY_POLICY;

  /** One try to the account's current URL (none any more is a failure no retry fixes until the account has one). */
  async function tryOnce(entry: OutboxEntry): Promise<DeliveryResult> {
    const account = await models.accounts.findById(entry.accountId, { webhookUrl: 1 }).lean();
    const webhookUrl = account?.webhookUrl;
    if (!webhookUrl) {
      const error = 'the account has no webhook URL any more';
      await models.notifications.updateOne({ _id: entry._id }, { $inc: { attempts: 1 }, $set: { lastError: error } });
      return { delivered: false, error, final: true };
    }
    if (webhookUrl !== entry.webhookUrl) await models.notifications.updateOne({ _id: entry._id }, { $set: { webhookUrl } });
    return deliverOutboxEntry(deps, { id: entry._id, event: entry.event, accountId: entry.accountId, webhookUrl, payload: entry.payload });
  }

  /** A scheduled try, and what it means for the entry's next one. */
  async function redeliverOnSchedule(entry: OutboxEntry): Promise<'delivered' | 'failed' | 'ended'> {
    const result = await tryOnce(entry);
    const redeliveryAttempts = (entry.redeliveryAttempts ?? 0) + 1;
    if (result.delivered) {
      await models.notifications.updateOne({ _id: entry._id }, { $set: { redeliveryAttempts } });
      deps.logger.info({ deliveryId: entry._id, redeliveryAttempts }, 'webhook redelivered');
      return 'delivered';
    }
    const now = deps.clock();
    // Entries from before `failedAt` existed start their window at their last write.
    const failedAt = entry.failedAt ?? entry.updatedAt ?? now;
    const windowEnds = failedAt.getTime() + policy.windowDays * 86_400_000;
    const next = now.getTime() + redeliveryBackoffMs(redeliveryAttempts, policy);
    if (next > windowEnds) {
      await models.notifications.updateOne({ _id: entry._id }, { $set: { redeliveryAttempts, nextRedeliveryAt: null, redeliveryEndedAt: now } });
      deps.logger.warn(
        { deliveryId: entry._id, redeliveryAttempts, lastError: result.error },
        'webhook redelivery window ended; only a manual redelivery tries it again',
      );
      return 'ended';
    }
    await models.notifications.updateOne({ _id: entry._id }, { $set: { redeliveryAttempts, nextRedeliveryAt: new Date(next) } });
    return 'failed';
  }

  return {
    /** The schedule's run: every undeliverable entry that is due, oldest first, a batch at a time. */
    async redeliverDueWebhooks(): Promise<RedeliveryReport> {
      const now = deps.clock();
      const due = (await models.notifications
        .find({
          status: 'undeliverable',
          redeliveryEndedAt: null,
          $or: [{ nextRedeliveryAt: null }, { nextRedeliveryAt: { $lte: now } }],
        })
        .sort({ _id: 1 })
        .limit(BATCH_SIZE)
        .lean()) as OutboxEntry[];
      const report: RedeliveryReport = { tried: 0, delivered: 0, failed: 0, ended: 0 };
      for (let start = 0; start < due.length; start += CONCURRENCY) {
        const outcomes = await Promise.all(due.slice(start, start + CONCURRENCY).map(redeliverOnSchedule));
        for (const outcome of outcomes) report[outcome] += 1;
        report.tried += outcomes.length;
        heartbeatIfInActivity(report);
      }
      return report;
    },

    /**
     * An operator's or reseller's redelivery of one entry, now, whatever its schedule: only an undeliverable entry (a
     * pending one is still being retried by its run; a delivered one was received). Its schedule is left as it was.
     */
    async redeliverWebhook(deliveryId: string): Promise<ManualRedeliveryOutcome> {
      const entry = (await models.notifications.findById(deliveryId).lean()) as OutboxEntry | null;
      if (!entry) return 'not_found';
      if (entry.status !== 'undeliverable') return 'not_failed';
      const result = await tryOnce(entry);
      deps.logger.info({ deliveryId, delivered: result.delivered }, 'webhook redelivered by request');
      return result.delivered ? 'delivered' : 'failed';
    },
  } satisfies WebhookRedeliveryActivities;
}
