import { randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { UpgradeDocument } from '../db/models';
import { lockSubscriptions, releaseSubscriptions } from '../db/subscription-locks';
import { subscriptionsHeldBy, type PlanSummary, type UpgradeRequest } from '../domain';
import { restartFailedUpgradeWorkflow, type UpgradeDisplay } from '../temporal/upgrade-client';
import type { UpgradeWorkflowInput } from '../../workflows/messages';
import type { UpgradeUseCaseDeps, UseCaseLog } from './deps';
import { UpgradeError, upgradeNotFound } from './errors';
import { planRetry, type RetryPlanning, type VendorRecordSummary } from './replan-on-retry';

/**
 * Re-runs a failed upgrade (an operator's action): re-takes the locks under a claim token of its own (two concurrent
 * retries contend on the first lock's insert, and the loser gives back only what its token took), claims the record
 * (`failed` with the retry count it read → `accepted`, one claimant wins) and starts a new run under the same workflow id. The activities are keyed by the upgrade id, so the
 * re-run never makes a second vendor transition or invoice. When Microsoft never converted, the plan is re-checked and
 * re-frozen on the retry date first (replan-on-retry.ts). A refusal gives back what it took.
 */
export interface RetryUpgradeResult {
  upgradeId: string;
  status: 'accepted';
  kind: string;
  destinationType: string;
  /** Re-planned on the retry date (with the plan it replaced), or why the frozen plan stays. */
  plan: { replanned: true; previous: PlanSummary | null; current: PlanSummary } | { replanned: false; reason: string; current: PlanSummary | null };
}

export async function retryUpgrade(deps: UpgradeUseCaseDeps, upgradeId: string, log?: UseCaseLog): Promise<RetryUpgradeResult> {
  const { models } = deps;
  const doc = (await models.upgrades.findById(upgradeId).lean()) as (UpgradeDocument & { _id: unknown; createdAt?: Date }) | null;
  if (!doc) throw upgradeNotFound(`Upgrade ${upgradeId}`);
  if (doc.status !== 'failed') throw new UpgradeError('UPGRADE_NOT_FAILED', `Only failed upgrades can be retried; ${upgradeId} is ${doc.status}`);
  const request = doc.request as UpgradeRequest;
  const lockIds = subscriptionsHeldBy(request);
  const lockClaim = `retry-${randomUUID()}`;
  const lock = await lockSubscriptions(models, upgradeId, doc.accountId, lockIds, lockClaim);
  if (!lock.locked) {
    const byThisUpgrade = lock.heldBy.every((holder) => holder.upgradeId === upgradeId);
    // Held by this very upgrade under another claim: a concurrent retry took it first.
    if (byThisUpgrade) throw new UpgradeError('UPGRADE_NOT_FAILED', `Upgrade ${upgradeId} is already being retried`);
    throw new UpgradeError('UPGRADE_IN_PROGRESS', 'Another upgrade is running on this subscription', { heldBy: lock.heldBy });
  }
  const claimed = await models.upgrades.updateOne(
    { _id: upgradeId, status: 'failed', ...(doc.retries === undefined ? {} : { retries: doc.retries }) },
    // A needs_attention episode of the failed run is settled: the new run starts without it.
    { $set: { status: 'accepted', completedAt: null, error: null, attention: null }, $inc: { retries: 1 } },
  );
  if (claimed.modifiedCount !== 1) {
    await releaseSubscriptions(models, upgradeId, lockIds, lockClaim);
    throw new UpgradeError('UPGRADE_NOT_FAILED', `Upgrade ${upgradeId} is already being retried`);
  }
  const undoClaim = async () => {
    await releaseSubscriptions(models, upgradeId, lockIds, lockClaim);
    await models.upgrades.updateOne(
      { _id: upgradeId, status: 'accepted' },
      { $set: { status: 'failed', error: doc.error ?? null, attention: doc.attention ?? null }, $inc: { retries: -1 } },
    );
  };
  // Re-planned on the retry date when Microsoft never converted (replan-on-retry.ts); otherwise the frozen plan stays.
  let planning: RetryPlanning;
  try {
    planning = await planRetry(deps, { id: upgradeId, request, vendor: doc.vendor as VendorRecordSummary | null });
  } catch (error) {
    await undoClaim();
    throw error;
  }
  const kind = planning.replanned ? planning.current.kind : doc.kind;
  const destinationType = planning.replanned ? planning.plan.destinationType : doc.destinationType;
  const catalog = await deps.catalog();
  const sourceDoc = await models.subscriptions.findById(request.sourceSubscriptionId, { quantity: 1, productId: 1 }).lean();
  const input: UpgradeWorkflowInput = {
    upgradeId,
    accountId: doc.accountId,
    request,
    requestedByKeyId: doc.requestedByKeyId,
    acceptedAt: (doc.createdAt ?? deps.clock()).toISOString(),
    requestFingerprint: doc.requestFingerprint,
    // Advances the vendor request id only where the activity allows it (after a vendor rejection).
    runAttempt: (doc.retries ?? 0) + 1,
    lockClaim,
    seatReassignment: deps.seatReassignment,
  };
  const display: UpgradeDisplay = {
    // The kind the upgrade was planned as (the source may have been converted since).
    kind: kind === 'full' ? 'full' : 'partial',
    sourceQuantity: sourceDoc?.quantity ?? request.quantity,
    sourceProductName: catalog.nameOf(sourceDoc?.productId ?? ''),
    targetProductName: catalog.nameOf(request.targetProductId),
  };
  try {
    await restartFailedUpgradeWorkflow(deps.temporalClient, deps.taskQueue, input, display);
  } catch (error) {
    await undoClaim();
    if (error instanceof WorkflowExecutionAlreadyStartedError) {
      throw new UpgradeError('RETRY_NOT_POSSIBLE', 'Temporal refused the re-run: the last run of this upgrade did not fail, or one is still running');
    }
    log?.error({ err: error, upgradeId }, 'restarting the upgrade workflow failed');
    throw new UpgradeError('TEMPORAL_UNAVAILABLE', 'The re-run could not be started; try again');
  }
  const plan: RetryUpgradeResult['plan'] = planning.replanned
    ? { replanned: true, previous: planning.previous, current: planning.current }
    : { replanned: false, reason: planning.reason, current: (doc.plan as PlanSummary | null) ?? null };
  return { upgradeId, status: 'accepted', kind, destinationType, plan };
}
