import { ApplicationFailure, Context } from '@temporalio/activity';
import { createUpgradeUseCaseDeps, type UpgradeUseCaseConfig } from '../src/upgrades/deps';
import { sweepOrphans } from '../src/upgrades/sweeper';
import type { SweepReport, UpgradeSweeperActivities } from '../workflows/upgrade-sweeper-workflow';
import type { UpgradeActivityDeps } from './deps';

/** What the sweeper needs beyond the activities' own dependencies: the start's configuration and the grace period. */
export interface SweeperSettings {
  /** `UPGRADE_SWEEPER_GRACE_MINUTES`: how old a record or lock must be before it counts as left behind. */
  graceMs: number;
  useCaseConfig: Omit<UpgradeUseCaseConfig, 'TEMPORAL_TASK_QUEUE'>;
}

export function createSweeperActivities(deps: UpgradeActivityDeps) {
  return {
    /** Starts runs with the worker's own Temporal client, on the task queue this activity runs on. */
    async sweepOrphanedUpgrades(): Promise<SweepReport> {
      if (!deps.sweeper) throw ApplicationFailure.nonRetryable('this worker was built without the sweeper settings');
      const context = Context.current();
      const useCases = createUpgradeUseCaseDeps({
        models: deps.models,
        temporalClient: context.client,
        config: { ...deps.sweeper.useCaseConfig, TEMPORAL_TASK_QUEUE: context.info.taskQueue },
        clock: deps.clock,
      });
      return sweepOrphans(useCases, { graceMs: deps.sweeper.graceMs, log: deps.logger });
    },
  } satisfies UpgradeSweeperActivities;
}
