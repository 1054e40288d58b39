import { ApplicationFailure } from '@temporalio/activity';
import type { EligibilityReason } from '../src/domain/eligibility';
import { planSummaryOf, planUpgrade, type UpgradePlan } from '../src/domain/upgrade-plan';
import { subscriptionsHeldBy } from '../src/domain/upgrade-shape';
import { loadCatalog } from '../src/db/mappers';
import { lockSubscriptions } from '../src/db/subscription-locks';
import { loadPlanningInputs } from '../src/upgrades/planning-inputs';
import type { UpgradeWorkflowInput } from '../workflows/messages';
import type { UpgradeActivities, ValidatedUpgrade, ValidationOutcome } from '../workflows/activity-contract';
import { FAILURE_TYPES } from '../workflows/failure-types';
import type { UpgradeActivityDeps } from './deps';
import { findPlan, freezePlan } from './frozen-plans';
import { updateUpgradeRecord } from './upgrade-record';

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
      const frozen = await findPlan(deps, upgradeId, 'maybeBeforeConversion');
      if (frozen) {
        const plan = frozen;
        const lock = await lockSubscriptions(deps.models, upgradeId, input.accountId, subscriptionsHeldBy(request));
        return lock.locked ? outcomeOf(plan) : { ok: false, reasons: inProgress(lock.heldBy) };
      }

      const inputs = await loadPlanningInputs({ models: deps.models, catalog: () => loadCatalog(deps.models) }, request, {
        accountId: input.accountId,
        ownUpgradeId: upgradeId,
      });
      if (!inputs.found && inputs.missing === 'source') {
        return { ok: false, reasons: [{ code: 'SOURCE_NOT_ACTIVE', message: `source subscription ${request.sourceSubscriptionId} does not exist` }] };
      }
      if (!inputs.found) {
        throw ApplicationFailure.nonRetryable(
          `account ${inputs.source.accountId} of ${inputs.source.id} does not exist`,
          FAILURE_TYPES.upgradeDataInconsistent,
        );
      }
      const { source, sourceAccount, destination, accountSubscriptions, catalog } = inputs;
      const busy = [...inputs.heldByOthers.keys()];
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
        set: {
          plan: planSummaryOf(plan),
          kind: plan.kind,
          destinationType: plan.destinationType,
          upgradeDate: plan.upgradeDate,
          subscriptionsTouched: subscriptionsHeldBy(request),
        },
      });
      return outcomeOf(plan);
    },
  } satisfies Partial<UpgradeActivities>;
}
