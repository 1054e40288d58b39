import { utcDateOf } from '../../../src/domain/dates';
import { SCHEDULED_UPGRADE_WORKFLOW_TYPE, scheduledWorkflowIdOf, type ScheduledUpgradeWorkflowInput } from '../../../workflows/scheduled-upgrade-contract';
import type { SystemHarness } from './system-harness';

/**
 * Replaces an upgrade at renewal's waiting run by one due now, as its renewal day coming would (a durable timer of
 * months cannot be shortened): the real activities run. Returns the new run's result.
 */
export async function runRenewalDay(system: SystemHarness, upgradeId: string, accountId: string) {
  await system.client.workflow.getHandle(scheduledWorkflowIdOf(upgradeId)).terminate('the test brings the renewal day forward');
  const input: ScheduledUpgradeWorkflowInput = {
    upgradeId,
    accountId,
    dueDate: utcDateOf(new Date()),
    seatReassignment: system.upgradeUseCases.seatReassignment,
    atRenewal: true,
  };
  const run = await system.client.workflow.start(SCHEDULED_UPGRADE_WORKFLOW_TYPE, {
    taskQueue: system.taskQueue,
    workflowId: `${scheduledWorkflowIdOf(upgradeId)}:renewal-day`,
    args: [input],
  });
  return run.result();
}
