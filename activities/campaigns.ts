import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { campaignModelsOf } from '../src/db/campaign-models';
import { isDuplicateKeyError } from '../src/db/duplicate-key';
import { findByIds } from '../src/db/find-by-ids';
import { loadCatalog } from '../src/db/mappers';
import type { Models } from '../src/db/models';
import type { EligibilityPolicy } from '../src/domain/eligibility-policies';
import type { UpgradeRequest } from '../src/domain/types';
import type { MicrosoftEligibilitySource } from '../src/partner-center/microsoft-eligibility';
import type { UpgradeUseCaseDeps } from '../src/upgrades/deps';
import { UpgradeError } from '../src/upgrades/errors';
import { scheduleUpgrade, type UpgradeWhen } from '../src/upgrades/schedule';
import { startUpgrade } from '../src/upgrades/start';
import { itemOutcomeOf } from '../src/campaigns/item-outcome';
import { changeWrittenAtMicrosoft, countCampaignItems, currentUpgradesOf, type StoredCampaign, type StoredCampaignItem } from '../src/campaigns/read';
import {
  campaignWorkflowIdOf,
  type CampaignActivities,
  type CampaignCounts,
  type CampaignItemStart,
  type CampaignRunStatus,
} from '../workflows/campaign-messages';
import type { DeliveryResult, OutboxDelivery } from './webhook-delivery';

/**
 * The CampaignWorkflow's activities (docs/campaigns.md): each item is started through the ordinary start use case
 * (`startUpgrade`, as `POST /v1/upgrades` does) under an idempotency key derived from the campaign and the
 * subscription, so the upgrade id is the one a single start with that key would get, and a repeated start (a retried
 * activity, a restarted worker, a re-executed campaign) answers with the same upgrade instead of a second one.
 */
export interface CampaignActivityDeps {
  models: Models;
  /** Starts the items' UpgradeWorkflows (the worker's own connection). */
  temporalClient: Client;
  taskQueue: string;
  policy: EligibilityPolicy;
  clock: () => Date;
  logger: Logger;
  microsoftEligibility?: MicrosoftEligibilitySource;
  /**
   * Items a campaign keeps started but not yet sent to Partner Center. The request limit is applied where the POST
   * is made (src/partner-center/transition-limit.ts); this bound keeps a campaign from starting thousands of
   * upgrades that would all wait there.
   */
  maxQueuedItems: number;
  /** Signs, checks the destination and POSTs one outbox entry (activities/webhook-delivery.ts), recording the attempt. */
  deliverWebhook(entry: OutboxDelivery): Promise<DeliveryResult>;
}

/** The Idempotency-Key a campaign's item is started with: one per (campaign, subscription). */
export const campaignItemIdempotencyKey = (campaignId: string, subscriptionId: string): string => `campaign:${campaignId}:${subscriptionId}`;

/** How long a run whose queue is full waits before asking again (a slot frees every interval / limit). */
const QUEUE_RECHECK_MS = 2_000;
/** Upgrade statuses before the transition request: an upgrade in one of them without a vendor record still waits. */
const BEFORE_VENDOR_REQUEST: ReadonlySet<string> = new Set(['accepted', 'validating', 'awaiting_vendor']);

/**
 * Refusals that make an item `skipped` rather than retried: the subscription changed, someone else's upgrade holds it,
 * or (at renewal) another upgrade is scheduled on it already.
 */
const SKIPPING_REFUSALS: ReadonlySet<string> = new Set([
  'UPGRADE_IN_PROGRESS',
  'UPGRADE_ALREADY_SCHEDULED',
  'NOT_ELIGIBLE',
  'NOT_FOUND',
  'IDEMPOTENCY_KEY_REUSED',
]);

function skipReasonOf(error: UpgradeError): string {
  if (error.code === 'UPGRADE_IN_PROGRESS') {
    const heldBy = (error.details?.heldBy as Array<{ subscriptionId: string; upgradeId: string }> | undefined) ?? [];
    return `locked by another upgrade: ${heldBy.map((held) => held.upgradeId).join(', ') || error.message}`;
  }
  if (error.code === 'UPGRADE_ALREADY_SCHEDULED') {
    const holder = error.details as { upgradeId?: string; dueDate?: string } | undefined;
    return `another upgrade is scheduled on it: ${holder?.upgradeId ?? error.message}${holder?.dueDate ? ` (due ${holder.dueDate})` : ''}`;
  }
  return `${error.code}: ${error.message}`;
}

export function createCampaignActivities(deps: CampaignActivityDeps): CampaignActivities {
  const useCaseDeps = (campaign: StoredCampaign): UpgradeUseCaseDeps => ({
    models: deps.models,
    temporalClient: deps.temporalClient,
    taskQueue: deps.taskQueue,
    catalog: () => loadCatalog(deps.models),
    policy: deps.policy,
    seatReassignment: campaign.seatReassignment as UpgradeUseCaseDeps['seatReassignment'],
    clock: deps.clock,
    ...(deps.microsoftEligibility ? { microsoftEligibility: deps.microsoftEligibility } : {}),
    queryTimeoutMs: 1_000,
    updateTimeoutMs: 10_000,
  });

  async function loadCampaign(campaignId: string) {
    const models = await campaignModelsOf(deps.models);
    const campaign = (await models.campaigns.findById(campaignId).lean()) as StoredCampaign | null;
    if (!campaign) throw ApplicationFailure.nonRetryable(`campaign ${campaignId} not found`, 'CampaignNotFound');
    return { campaign, ...models };
  }

  return {
    /** The next items still to start, in item order (started and skipped ones have left `pending`). */
    async nextPendingCampaignItems(campaignId: string, limit: number): Promise<string[]> {
      const { campaignItems } = await campaignModelsOf(deps.models);
      const items = await campaignItems.find({ campaignId, outcome: 'pending' }, { _id: 1 }).sort({ _id: 1 }).limit(limit).lean();
      return items.map((item) => String(item._id));
    },

    /**
     * Up to `wanted` starts, as many as keep the campaign's queue (items started whose transition has not been sent
     * to Partner Center) within `maxQueuedItems`, or how long to wait. Items whose upgrade has sent its request or
     * ended leave the queue here. `campaignId` is absent in tasks scheduled before it was passed: the run's id says.
     */
    async takeCampaignStartSlots(wanted: number, campaignId?: string): Promise<{ granted: number; retryAfterMs: number }> {
      const id = campaignId ?? Context.current().info.workflowExecution!.workflowId.slice(campaignWorkflowIdOf('').length);
      const { campaignItems } = await campaignModelsOf(deps.models);
      const queued = await campaignItems.find({ campaignId: id, queuedForPartnerCenter: true }, { _id: 1, upgradeId: 1 }).lean();
      const { byId: upgrades } = await findByIds(
        deps.models.upgrades,
        queued.flatMap((item) => (item.upgradeId ? [item.upgradeId] : [])),
        { status: 1, 'vendor.requestId': 1, 'steps.written_to_microsoft': 1 },
      );
      const left = queued.filter((item) => {
        const upgrade = item.upgradeId ? upgrades.get(item.upgradeId) : undefined;
        if (!upgrade) return true;
        // At renewal the item's one write at Partner Center is its scheduled change: queued until it is written.
        if (upgrade.status === 'scheduled') return changeWrittenAtMicrosoft(upgrade);
        return !BEFORE_VENDOR_REQUEST.has(upgrade.status) || (upgrade.vendor as { requestId?: string } | null | undefined)?.requestId !== undefined;
      });
      // One `_id` update each: FerretDB answers `_id: { $in }` by reading the whole collection.
      if (left.length > 0) {
        await campaignItems.bulkWrite(left.map((item) => ({ updateOne: { filter: { _id: item._id }, update: { $set: { queuedForPartnerCenter: false } } } })));
      }
      const granted = Math.max(0, Math.min(wanted, deps.maxQueuedItems - (queued.length - left.length)));
      return { granted, retryAfterMs: granted > 0 ? 0 : QUEUE_RECHECK_MS };
    },

    /**
     * Starts one item's upgrade (at renewal: schedules it), or skips it with the reason; an item already started is
     * answered as it stands.
     */
    async startCampaignItem(campaignId: string, itemId: string): Promise<CampaignItemStart> {
      const { campaign, campaignItems } = await loadCampaign(campaignId);
      const item = (await campaignItems.findById(itemId).lean()) as StoredCampaignItem | null;
      if (!item) throw ApplicationFailure.nonRetryable(`campaign item ${itemId} not found`, 'CampaignNotFound');
      if (item.outcome !== 'pending') {
        return { outcome: item.outcome === 'skipped' ? 'skipped' : 'running', ...(item.upgradeId ? { upgradeId: item.upgradeId } : {}) };
      }
      const scope = campaign.scopeAccountIds as string[] | null;
      const actor = {
        keyId: campaign.requestedByKeyId,
        mayActOnAccount: (accountId: string) => scope === null || scope.includes(accountId),
        campaignId,
      };
      const request: UpgradeRequest = {
        sourceSubscriptionId: item.subscriptionId,
        targetProductId: campaign.targetProductId,
        quantity: item.quantity,
        destination: campaign.destination as UpgradeRequest['destination'],
      };
      const idempotencyKey = campaignItemIdempotencyKey(campaignId, item.subscriptionId);
      const when = campaign.when as UpgradeWhen | null;
      try {
        // At renewal: scheduled as a single upgrade at renewal is (its ScheduledUpgradeWorkflow writes the change at
        // Microsoft; the refresh sees it written). Otherwise started now, as a single start.
        const started =
          when?.type === 'at_renewal'
            ? await scheduleUpgrade(useCaseDeps(campaign), actor, request, when, idempotencyKey, deps.logger)
            : await startUpgrade(useCaseDeps(campaign), actor, request, idempotencyKey, deps.logger);
        const dueDate = 'dueDate' in started && started.dueDate ? { dueDate: started.dueDate } : {};
        await campaignItems.updateOne(
          { _id: itemId },
          { $set: { outcome: 'running', upgradeId: started.upgradeId, outcomeReason: null, queuedForPartnerCenter: true, ...dueDate } },
        );
        return { outcome: 'running', upgradeId: started.upgradeId };
      } catch (error) {
        // Anything else (Temporal or Partner Center unavailable, the database) is retried by the activity's policy.
        if (!(error instanceof UpgradeError) || !SKIPPING_REFUSALS.has(error.code)) throw error;
        const reason = skipReasonOf(error);
        await campaignItems.updateOne({ _id: itemId }, { $set: { outcome: 'skipped', outcomeReason: reason } });
        return { outcome: 'skipped', reason };
      }
    },

    /** Brings the started items up to date with their upgrades (`itemOutcomeOf`). Returns the counts after. */
    async refreshCampaignItems(campaignId: string): Promise<CampaignCounts> {
      const { campaignItems } = await campaignModelsOf(deps.models);
      // Two equality queries, each served by its index (an `$or` is not: FerretDB filters it after reading every item).
      const projection = { _id: 1, upgradeId: 1, outcome: 1, seatReassignmentPending: 1 };
      const [running, awaitingSeats] = await Promise.all([
        campaignItems.find({ campaignId, outcome: 'running' }, projection).lean(),
        campaignItems.find({ campaignId, seatReassignmentPending: true }, projection).lean(),
      ]);
      const open = [...new Map([...running, ...awaitingSeats].map((item) => [String(item._id), item])).values()] as Array<
        Pick<StoredCampaignItem, '_id' | 'upgradeId' | 'outcome' | 'seatReassignmentPending'>
      >;
      const upgrades = await currentUpgradesOf(deps.models, open);
      const writes = open.flatMap((item) => {
        const upgrade = upgrades.get(item.upgradeId!);
        const set = upgrade ? itemOutcomeOf(upgrade) : undefined;
        if (!set || (set.outcome === item.outcome && (set.seatReassignmentPending ?? false) === item.seatReassignmentPending)) return [];
        return [{ updateOne: { filter: { _id: item._id }, update: { $set: set } } }];
      });
      if (writes.length > 0) await campaignItems.bulkWrite(writes);
      return countCampaignItems(campaignItems, campaignId);
    },

    async countCampaign(campaignId: string): Promise<CampaignCounts> {
      const { campaignItems } = await campaignModelsOf(deps.models);
      return countCampaignItems(campaignItems, campaignId);
    },

    /** The campaign's status as the run decides it (the run is its one writer once executing). */
    async recordCampaignStatus(campaignId: string, status: CampaignRunStatus): Promise<void> {
      const { campaigns } = await campaignModelsOf(deps.models);
      const ended = status === 'completed' || status === 'cancelled';
      await campaigns.updateOne({ _id: campaignId }, { $set: { status, ...(ended ? { endedAt: deps.clock() } : {}) } });
    },

    /**
     * `campaign_completed` to the webhook of each account with items in the campaign, carrying that account's own
     * counts (no account learns of another's subscriptions). One outbox entry per (campaign, account), written once;
     * signed and delivered as the upgrade notifications are (README "Webhooks for portals").
     */
    async notifyCampaignCompleted(campaignId: string, status: CampaignRunStatus): Promise<number> {
      const { campaign, campaignItems } = await loadCampaign(campaignId);
      // The items' accounts from an indexed find (FerretDB's `distinct` reads the whole collection).
      const accountIds = [...new Set((await campaignItems.find({ campaignId }, { accountId: 1 }).lean()).map((item) => item.accountId))];
      const accounts = (await findByIds(deps.models.accounts, accountIds, { webhookUrl: 1 })).found.filter((account) => typeof account.webhookUrl === 'string');
      let delivered = 0;
      for (const account of accounts) {
        const accountId = String(account._id);
        const items = await campaignItems.find({ campaignId, accountId }, { outcome: 1, seatReassignmentPending: 1 }).lean();
        const counts: CampaignCounts = { total: items.length, pending: 0, running: 0, scheduled: 0, completed: 0, failed: 0, skipped: 0 };
        for (const item of items) counts[item.outcome as keyof Omit<CampaignCounts, 'total'>] += 1;
        const id = `${campaignId}:campaign_completed:${accountId}`;
        const payload = {
          id,
          event: 'campaign_completed',
          campaignId,
          accountId,
          occurredAt: deps.clock().toISOString(),
          message: `Campaign “${campaign.name}” ${status}: ${counts.completed} upgraded, ${counts.scheduled > 0 ? `${counts.scheduled} scheduled at renewal, ` : ''}${counts.failed} failed, ${counts.skipped} skipped of ${counts.total} subscriptions of this account.`,
          campaign: { name: campaign.name, status, sourceProductId: campaign.sourceProductId, targetProductId: campaign.targetProductId, counts },
          manualSeatReassignmentsPending: items.filter((item) => item.seatReassignmentPending).length,
        };
        const entry = {
          _id: id,
          upgradeId: campaignId,
          accountId,
          event: 'campaign_completed',
          payload,
          webhookUrl: account.webhookUrl,
          status: 'pending' as const,
        };
        let stored: { status: string; payload: unknown; webhookUrl?: string | null } | null = entry;
        try {
          await deps.models.notifications.create(entry);
        } catch (error) {
          if (!isDuplicateKeyError(error)) throw error;
          stored = await deps.models.notifications.findById(id, { status: 1, payload: 1, webhookUrl: 1 }).lean();
        }
        if (!stored || stored.status !== 'pending') continue;
        // Signed and recorded as every outbox entry is (the account's own secret, the destination rules).
        const result = await deps.deliverWebhook({ id, event: 'campaign_completed', accountId, webhookUrl: stored.webhookUrl!, payload: stored.payload });
        if (!result.delivered) {
          if (result.final) {
            await deps.models.notifications.updateOne({ _id: id }, { $set: { status: 'undeliverable' } });
            continue;
          }
          throw ApplicationFailure.retryable(`campaign_completed to ${accountId}: ${result.error}`, 'WebhookDeliveryFailed');
        }
        delivered += 1;
      }
      return delivered;
    },

    async markCampaignNotificationsUndeliverable(campaignId: string): Promise<void> {
      await deps.models.notifications.updateMany(
        { upgradeId: campaignId, event: 'campaign_completed', status: 'pending' },
        { $set: { status: 'undeliverable', failedAt: deps.clock(), nextRedeliveryAt: null } },
      );
    },
  } satisfies CampaignActivities;
}
