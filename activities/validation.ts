import { ApplicationFailure } from '@temporalio/activity';
import type { EligibilityReason } from '../src/domain/eligibility';
import { planUpgrade, type UpgradePlan } from '../src/domain/upgrade-plan';
import { subscriptionsHeldBy } from '../src/domain/upgrade-shape';
import { loadAccount, loadAccountSubscriptions, loadCatalog, loadSubscription } from '../src/db/mappers';
import { lockSubscriptions, subscriptionsLockedByOthers } from '../src/db/subscription-locks';
import type { SeatReassignmentMode, UpgradeWorkflowInput } from '../workflows/messages';
import type { UpgradeActivityDeps } from './deps';
import { findPlan, freezePlan } from './frozen-plans';
import { updateUpgradeRecord } from './upgrade-record';

/** What the workflow needs to steer; the full plan stays in the database (keeps the history small). */
export interface ValidatedUpgrade {
  ok: true;
  kind: UpgradePlan['kind'];
  destinationType: UpgradePlan['destinationType'];
  seatReassignment: { mode: SeatReassignmentMode; reason: string };
  summary: string;
  upgradeDate: string;
}
export type ValidationOutcome = ValidatedUpgrade | { ok: false; reasons: EligibilityReason[] };

/** The part of the plan portals show, kept on the upgrade record. */
export const planSummaryOf = (plan: UpgradePlan) => ({ summary: plan.summary, quote: plan.quote, kind: plan.kind, upgradeDate: plan.upgradeDate });

function outcomeOf(plan: UpgradePlan): ValidatedUpgrade {
  return {
    ok: true,
    kind: plan.kind,
    destinationType: plan.destinationType,
    seatReassignment: plan.seatReassignment,
    summary: plan.summary,
    upgradeDate: plan.upgradeDate,
  };
}

const inProgress = (holders: Array<{ subscriptionId: string; upgradeId: string | null }>): EligibilityReason[] =>
  holders.map((holder) => ({
    code: 'UPGRADE_IN_PROGRESS',
    message: `subscription ${holder.subscriptionId} is being upgraded by ${holder.upgradeId ?? 'another upgrade'}`,
  }));

export function createValidationActivities(deps: UpgradeActivityDeps) {
  return {
    /**
     * Re-checks eligibility against current data, locks the subscriptions, and freezes the plan (the quote and the
     * upgrade date) in the upgrade record. A plan frozen by an earlier run is reused as-is: after the vendor has
     * converted the source, re-evaluating would wrongly find it ineligible.
     */
    async validateAndLockUpgrade(input: UpgradeWorkflowInput): Promise<ValidationOutcome> {
      const { upgradeId, request } = input;
      const frozen = await findPlan(deps, upgradeId);
      if (frozen) {
        const plan = frozen;
        const lock = await lockSubscriptions(deps.models, upgradeId, input.accountId, subscriptionsHeldBy(request));
        return lock.locked ? outcomeOf(plan) : { ok: false, reasons: inProgress(lock.heldBy) };
      }

      // One round of reads in parallel. The API gave the source's account (input.accountId), so its subscriptions
      // normally hold the source and an existing destination too; either is read on its own only when they do not.
      const involved = subscriptionsHeldBy(request);
      const [accountOfInput, subscriptionsOfInput, catalog, busy] = await Promise.all([
        loadAccount(deps.models, input.accountId),
        loadAccountSubscriptions(deps.models, input.accountId),
        loadCatalog(deps.models),
        subscriptionsLockedByOthers(deps.models, involved, upgradeId),
      ]);
      const inAccount = (id: string) => subscriptionsOfInput.find((subscription) => subscription.id === id);
      const source = inAccount(request.sourceSubscriptionId) ?? (await loadSubscription(deps.models, request.sourceSubscriptionId));
      if (!source) {
        return { ok: false, reasons: [{ code: 'SOURCE_NOT_ACTIVE', message: `source subscription ${request.sourceSubscriptionId} does not exist` }] };
      }
      const sameAccount = source.accountId === input.accountId;
      const [sourceAccount, accountSubscriptions] = sameAccount
        ? [accountOfInput, subscriptionsOfInput]
        : await Promise.all([loadAccount(deps.models, source.accountId), loadAccountSubscriptions(deps.models, source.accountId)]);
      const destinationId = request.destination.type === 'existing' ? request.destination.subscriptionId : undefined;
      const destination = destinationId
        ? (accountSubscriptions.find((subscription) => subscription.id === destinationId) ?? (await loadSubscription(deps.models, destinationId)))
        : undefined;
      if (!sourceAccount) {
        throw ApplicationFailure.nonRetryable(`account ${source.accountId} of ${source.id} does not exist`, 'UpgradeDataInconsistent');
      }
      const result = planUpgrade({
        request,
        source,
        sourceAccount,
        destination,
        accountSubscriptions,
        catalog,
        now: input.acceptedAt,
        policy: deps.policy,
        busySubscriptionIds: busy,
      });
      if (!result.ok) return { ok: false, reasons: [...result.reasons] };

      const lock = await lockSubscriptions(deps.models, upgradeId, source.accountId, subscriptionsHeldBy(request));
      if (!lock.locked) return { ok: false, reasons: inProgress(lock.heldBy) };
      const plan = await freezePlan(deps, upgradeId, result.plan);
      await updateUpgradeRecord(deps, upgradeId, {
        status: 'validating',
        set: {
          plan: planSummaryOf(plan),
          kind: plan.kind,
          destinationType: plan.destinationType,
          upgradeDate: plan.upgradeDate,
          subscriptionsTouched: subscriptionsHeldBy(request),
          seatReassignment: { ...plan.seatReassignment, state: 'pending', remindersSent: 0, escalated: false },
        },
        step: { name: 'validated', status: 'completed', detail: plan.summary },
      });
      return outcomeOf(plan);
    },
  };
}
