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
import { microsoftItemFor, microsoftReasons, transitionTypeAllowed } from '../src/domain/vendor-eligibility';
import { microsoftEligibilityOf } from '../src/partner-center/microsoft-eligibility';
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

/**
 * What to POST, by Microsoft's transition eligibilities for the source, asked again now: its catalog item id for the
 * target (matched on product and SKU, since the availability id can change), and the planned transition type if
 * Microsoft allows it, else `transition_only` (e.g. conflicting services refuse the licence transfer; the seat step
 * then moves the licences through Microsoft Graph). A target Microsoft refuses outright is a final rejection.
 */
async function microsoftTerms(deps: UpgradeActivityDeps, customerTenantId: string, plan: UpgradePlan, upgradeId: string, earlier: unknown) {
  // A retry moments later (a 429 or 5xx on the POST) reuses the answer: asking again would spend the request budget
  // the POST needs, and under a one-request window the two calls would starve each other for ever.
  const recent = earlier as MicrosoftTerms | null | undefined;
  if (recent && deps.clock().getTime() - Date.parse(recent.askedAt) < MICROSOFT_TERMS_REUSE_MS) return recent;
  const answer = microsoftEligibilityOf(
    await deps.vendor.getTransitionEligibilities(customerTenantId, plan.vendor.fromSubscriptionId, 'immediate', { upgradeId }),
  );
  const productAndSku = (catalogItemId: string) => catalogItemId.split(':').slice(0, 2).join(':').toLowerCase();
  const item =
    microsoftItemFor(answer, plan.vendor.toCatalogItemId) ??
    answer.find((candidate) => productAndSku(candidate.catalogItemId) === productAndSku(plan.vendor.toCatalogItemId));
  const transitionType = transitionTypeAllowed(item, plan.vendor.transitionType);
  if (item === undefined || transitionType === undefined) {
    const reason = microsoftReasons(answer, plan.vendor.toCatalogItemId)[0];
    throw ApplicationFailure.create({
      type: 'VendorBusinessRejectionError',
      message: reason?.message ?? 'Microsoft refuses this transition',
      nonRetryable: true,
      details: [reason ?? null],
    });
  }
  if (transitionType !== plan.vendor.transitionType) {
    deps.logger.info(
      { upgradeId, planned: plan.vendor.transitionType, transitionType },
      'Microsoft refuses the licence transfer; transition only, licences moved through Graph',
    );
  }
  const terms: MicrosoftTerms = { toCatalogItemId: item.catalogItemId, transitionType, askedAt: deps.clock().toISOString() };
  await updateUpgradeRecord(deps, upgradeId, { set: { vendorTerms: terms } });
  return terms;
}

interface MicrosoftTerms {
  toCatalogItemId: string;
  transitionType: UpgradePlan['vendor']['transitionType'];
  askedAt: string;
}
const MICROSOFT_TERMS_REUSE_MS = 10 * 60_000;

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
      const before = await deps.models.upgrades.findById(upgradeId, { vendor: 1, vendorTerms: 1 }).lean();
      const recorded = (before?.vendor ?? undefined) as RecordedTransition | undefined;
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
        // Microsoft's verdict right before the POST (catalog item ids change; a licence transfer may be refused).
        const { toCatalogItemId, transitionType } = await microsoftTerms(deps, customerTenantId, plan, upgradeId, before?.vendorTerms);
        transition = await deps.vendor.createTransition(
          customerTenantId,
          plan.vendor.fromSubscriptionId,
          {
            toCatalogItemId,
            quantity: plan.vendor.quantity,
            transitionType,
            ...(plan.vendor.toSubscriptionId ? { toSubscriptionId: plan.vendor.toSubscriptionId } : {}),
            termDuration: plan.vendor.termDuration,
            billingCycle: capitalised(plan.vendor.billingCycle),
            ...(plan.vendor.promotionId ? { promotionId: plan.vendor.promotionId } : {}),
          },
          { requestId, upgradeId },
        );
      } catch (error) {
        if (error instanceof ApplicationFailure) throw error;
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
          const transitions = await deps.vendor.listTransitions(record.customerTenantId, record.vendorSubscriptionId, { upgradeId });
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
