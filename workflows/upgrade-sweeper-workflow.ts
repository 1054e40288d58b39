import { proxyActivities } from '@temporalio/workflow';

/**
 * The sweeper's run (src/upgrades/sweeper.ts), started by the `upgrade-sweeper` Schedule: upgrades left `accepted`
 * without a run and locks left without an upgrade by a process that died mid-start are repaired.
 */
export const UPGRADE_SWEEPER_WORKFLOW_TYPE = 'UpgradeSweeperWorkflow';

export interface SweepReport {
  started: string[];
  failed: string[];
  releasedLocks: Array<{ subscriptionId: string; upgradeId: string }>;
}

export interface UpgradeSweeperActivities {
  sweepOrphanedUpgrades(): Promise<SweepReport>;
}

const sweeper = proxyActivities<UpgradeSweeperActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumAttempts: 3 },
});

export async function UpgradeSweeperWorkflow(): Promise<SweepReport> {
  return sweeper.sweepOrphanedUpgrades();
}
