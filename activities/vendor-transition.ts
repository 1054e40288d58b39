import { ApplicationFailure, Context } from '@temporalio/activity';
import { loadAccount, loadSubscription } from '../src/db/mappers';
import type { UpgradePlan } from '../src/domain/upgrade-plan';
import { vendorRequestIdFor } from '../src/temporal/upgrade-ids';
import { VendorError, VendorThrottledError } from '../src/partner-center/errors';
import type { Transition } from '../src/partner-center/partner-center-schemas';
import { findMatchingTransition, summarizeTransition, type TransitionProgress } from '../src/partner-center/transition-progress';
import type { UpgradeActivities, VendorOutcome, VendorRecord } from '../workflows/activity-contract';
import { FAILURE_TYPES } from '../workflows/failure-types';
import type { UpgradeActivityDeps } from './deps';
import { loadPlan } from './frozen-plans';
import { updateUpgradeRecord } from './upgrade-record';
import { vendorFailure } from './vendor-failures';

/** The vendor record as the activities know it: with the transition Partner Center answered. */
type RecordedTransition = VendorRecord<Transition>;

const capitalised = (value: string) => value.charAt(0).toUpperCase() + value.slice(1);

/** Sleeps in slices of at most 10 s, heartbeating between them, so a lost worker is noticed within the heartbeat timeout. */
async function sleepHeartbeating(ms: number, details: unknown): Promise<void> {
  const context = Context.current();
  for (let left = ms; left > 0; left -= 10_000) {
    context.heartbeat(details);
    await context.sleep(Math.min(left, 10_000));
  }
}

export function createVendorTransitionActivities(deps: UpgradeActivityDeps) {
  async function vendorRecordOf(upgradeId: string): Promise<RecordedTransition | undefined> {
    const upgrade = await deps.models.upgrades.findById(upgradeId, { vendor: 1 }).lean();
    return (upgrade?.vendor ?? undefined) as RecordedTransition | undefined;
  }

  /** For plans frozen before they carried the tenant: the source's account's. */
  async function tenantOfSource(sourceSubscriptionId: string): Promise<string> {
    const source = await loadSubscription(deps.models, sourceSubscriptionId);
    const account = source && (await loadAccount(deps.models, source.accountId));
    if (!account) throw ApplicationFailure.nonRetryable(`source ${sourceSubscriptionId} or its account vanished`, FAILURE_TYPES.upgradeDataInconsistent);
    return account.tenantId;
  }

  return {
    /**
     * Asks Partner Center for the transition, once per upgrade. A transition already recorded is returned as-is
     * (re-runs and resets never create a second one); the request id is derived from the upgrade id, so even a
     * crash between the vendor's answer and our write is absorbed by the vendor's MS-RequestId idempotency.
     * `runAttempt` > the recorded attempt only after an operator retry of a vendor-rejected upgrade.
     * Returns what was recorded, for the workflow to hand to `awaitVendorTransition` (which then reads nothing).
     */
    async requestVendorTransition(upgradeId: string, runAttempt: number): Promise<RecordedTransition> {
      const recorded = await vendorRecordOf(upgradeId);
      const retryingRejected = recorded?.outcome?.conversion === 'failed' && recorded.attempt < runAttempt;
      if (recorded && !retryingRejected) return recorded;

      const plan: UpgradePlan = await loadPlan(deps, upgradeId, 'maybeBeforeConversion');
      const customerTenantId = plan.vendor.customerTenantId ?? (await tenantOfSource(plan.sourceSubscriptionId));
      // No transition recorded means no earlier run got one from the vendor (a run only ends before recording it on a
      // final rejection), so an operator retry may ask again under a fresh request id.
      const attempt = recorded && !retryingRejected ? recorded.attempt : runAttempt;
      const requestId = vendorRequestIdFor(upgradeId, attempt);
      let transition: Transition;
      try {
        transition = await deps.vendor.createTransition(
          customerTenantId,
          plan.vendor.fromSubscriptionId,
          {
            toCatalogItemId: plan.vendor.toCatalogItemId,
            quantity: plan.vendor.quantity,
            transitionType: plan.vendor.transitionType,
            ...(plan.vendor.toSubscriptionId ? { toSubscriptionId: plan.vendor.toSubscriptionId } : {}),
            termDuration: plan.vendor.termDuration,
            billingCycle: capitalised(plan.vendor.billingCycle),
            ...(plan.vendor.promotionId ? { promotionId: plan.vendor.promotionId } : {}),
          },
          { requestId, correlationId: upgradeId },
        );
      } catch (error) {
        throw vendorFailure(error);
      }
      const record: RecordedTransition = {
        attempt,
        requestId,
        customerTenantId,
        vendorSubscriptionId: plan.vendor.fromSubscriptionId,
        transition,
        requestedAt: deps.clock().toISOString(),
      };
      await updateUpgradeRecord(deps, upgradeId, { set: { vendor: record } });
      return record;
    },

    /**
     * Follows the asynchronous transition until Partner Center reports it finished. One long activity that polls
     * with a growing interval and heartbeats, instead of a workflow loop of short activities: the history stays
     * small however long the vendor takes, and a worker crash resumes polling from the last heartbeat.
     * `requested`: what `requestVendorTransition` returned; runs recorded before it returned the whole record pass
     * `{ requestId, attempt }` only, and the record is read instead.
     */
    async awaitVendorTransition(upgradeId: string, requested?: Partial<VendorRecord>): Promise<VendorOutcome> {
      const record = requested?.transition ? (requested as RecordedTransition) : await vendorRecordOf(upgradeId);
      if (!record) throw ApplicationFailure.nonRetryable(`upgrade ${upgradeId} has no vendor transition`, FAILURE_TYPES.vendorTransitionMissing);
      if (record.outcome) return record.outcome;
      const context = Context.current();
      let interval = (context.info.heartbeatDetails as number | undefined) ?? deps.vendorPolling.initialIntervalMs;
      for (;;) {
        let progress: TransitionProgress | undefined;
        let current: Transition | undefined;
        try {
          const transitions = await deps.vendor.listTransitions(record.customerTenantId, record.vendorSubscriptionId, { correlationId: upgradeId });
          current = findMatchingTransition(transitions, record.transition);
          progress = current && summarizeTransition(current);
        } catch (error) {
          if (!(error instanceof VendorError) || !error.retryable) throw vendorFailure(error);
          // Transient or throttled while polling: wait (at least Retry-After) and poll again.
          if (error instanceof VendorThrottledError && error.retryAfterMs) interval = Math.max(interval, error.retryAfterMs);
        }
        if (progress?.finished && current) {
          const outcome: VendorOutcome = {
            conversion: progress.conversion === 'completed' ? 'completed' : 'failed',
            licenseReassignment: progress.licenseReassignment,
            errors: progress.errors.map((e) => ({ code: String(e.code ?? ''), description: e.description ?? '' })),
            ...((current.toSubscriptionId ?? record.transition.toSubscriptionId)
              ? { toSubscriptionId: (current.toSubscriptionId ?? record.transition.toSubscriptionId)! }
              : {}),
            completedAt: deps.clock().toISOString(),
          };
          await updateUpgradeRecord(deps, upgradeId, { set: { 'vendor.outcome': outcome } });
          return outcome;
        }
        await sleepHeartbeating(interval, interval);
        interval = Math.min(interval * 2, deps.vendorPolling.maxIntervalMs);
      }
    },
  } satisfies Partial<UpgradeActivities>;
}
