import { ApplicationFailure } from '@temporalio/activity';
import { loadCatalog } from '../src/db/mappers';
import { createMicrosoftEligibilitySource } from '../src/partner-center/microsoft-eligibility';
import { beginScheduledUpgrade, endScheduledUpgrade } from '../src/upgrades/schedule';
import { removeScheduledChange, renewIntoTarget, writeScheduledChange } from '../src/upgrades/renewal-upgrades';
import { vendorFailure } from './vendor-failures';
import { UpgradeError } from '../src/upgrades/errors';
import type { ScheduledUpgradeActivities } from '../workflows/scheduled-upgrade-contract';
import { FAILURE_TYPES } from '../workflows/failure-types';
import type { UpgradeActivityDeps } from './deps';

/**
 * The ScheduledUpgradeWorkflow's own activities: the day's re-check goes through the start use case (src/upgrades/
 * schedule.ts), with Microsoft's verdict asked fresh (no cache) as right before any transition. Its webhook is the
 * UpgradeWorkflow's `sendUpgradeNotification`, registered on the same worker.
 */
async function atMicrosoft<Result>(call: () => Promise<Result>): Promise<Result> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof UpgradeError && error.code === 'NOT_SCHEDULED') {
      throw ApplicationFailure.nonRetryable(error.message, FAILURE_TYPES.upgradeDataInconsistent);
    }
    throw vendorFailure(error);
  }
}

export function createScheduledUpgradeActivities(deps: UpgradeActivityDeps): Omit<ScheduledUpgradeActivities, 'sendUpgradeNotification'> {
  const planning = {
    models: deps.models,
    catalog: () => loadCatalog(deps.models),
    policy: deps.policy,
    microsoftEligibility: createMicrosoftEligibilitySource(deps.vendor, 0),
  };
  return {
    async beginScheduledUpgrade(input, runAt) {
      try {
        return await beginScheduledUpgrade(planning, input, new Date(runAt));
      } catch (error) {
        // A record that is not scheduled is a bug, not a moment; anything else (Partner Center silent) is retried.
        if (error instanceof UpgradeError && error.code === 'NOT_SCHEDULED') {
          throw ApplicationFailure.nonRetryable(error.message, FAILURE_TYPES.upgradeDataInconsistent);
        }
        throw error;
      }
    },
    async endScheduledUpgrade(upgradeId, outcome, detail) {
      await endScheduledUpgrade(deps, upgradeId, outcome, detail);
    },
    // Upgrades at renewal (src/upgrades/renewal-upgrades.ts): Partner Center's errors become typed failures, retried
    // with backoff or final as their class says.
    writeScheduledChange: (upgradeId) => atMicrosoft(() => writeScheduledChange(deps, upgradeId)),
    removeScheduledChange: (upgradeId) => atMicrosoft(() => removeScheduledChange(deps, upgradeId)),
    renewIntoTarget: (upgradeId, runAt) => atMicrosoft(() => renewIntoTarget(deps, upgradeId, new Date(runAt))),
  };
}
