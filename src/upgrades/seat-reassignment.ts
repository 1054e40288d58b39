import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { queryUpgradeState } from '../temporal/upgrade-client';
import { confirmSeatReassignmentUpdate, type UpgradeState } from '../../workflows/messages';
import type { UpgradeActor, UpgradeUseCaseDeps } from './deps';
import { UpgradeError } from './errors';
import { isFinalUpgradeStatus, loadVisibleUpgrade } from './read';

/**
 * A partner confirms that the seats of a manual reassignment were moved by hand. The workflow's update validator is
 * the authority on whether it waits; the record and a query only spare it a call that is bound to be refused.
 */
export async function confirmSeatReassignment(
  deps: UpgradeUseCaseDeps,
  actor: UpgradeActor,
  upgradeId: string,
  note?: string,
): Promise<Pick<UpgradeState, 'status' | 'seatReassignment'>> {
  const record = await loadVisibleUpgrade(deps, actor, upgradeId);
  const nothingWaiting = () => new UpgradeError('NOTHING_AWAITING_CONFIRMATION', `Upgrade ${upgradeId} is not waiting for a seat reassignment confirmation`);
  if (isFinalUpgradeStatus(record.status)) throw nothingWaiting();
  // The record says so once the workflow waits (written before the webhook goes out): go straight to the update.
  // Otherwise ask the workflow, which may be a moment ahead of its record.
  if (record.status !== 'awaiting_manual_seat_reassignment') {
    const live = await queryUpgradeState(deps.temporalClient, upgradeId, deps.queryTimeoutMs);
    const waiting = live && (live.status === 'awaiting_manual_seat_reassignment' || live.seatReassignment?.state === 'awaiting_confirmation');
    if (!waiting) throw nothingWaiting();
  }
  try {
    return await deps.temporalClient.withDeadline(Date.now() + deps.updateTimeoutMs, () =>
      deps.temporalClient.workflow.getHandle(upgradeId).executeUpdate(confirmSeatReassignmentUpdate, {
        args: [{ confirmedBy: actor.keyId, ...(note ? { note } : {}) }],
      }),
    );
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError || error instanceof WorkflowNotFoundError) throw nothingWaiting();
    throw new UpgradeError('TEMPORAL_UNAVAILABLE', 'The workflow did not answer the confirmation in time; try again');
  }
}
