import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { resolveUncertainOutcomeUpdate, type NeedsAttention, type UncertainOutcomeResolution, type UpgradeStatus } from '../../workflows/messages';
import type { UpgradeActor, UpgradeUseCaseDeps } from './deps';
import { UpgradeError } from './errors';
import { loadVisibleUpgrade } from './read';

/** What an operator found at Partner Center, without who found it (the actor's key is recorded as `resolvedBy`). */
export type UncertainOutcomeDecision = UncertainOutcomeResolution extends infer Resolution
  ? Resolution extends UncertainOutcomeResolution
    ? Omit<Resolution, 'resolvedBy'>
    : never
  : never;

export interface ResolvedUpgrade {
  upgradeId: string;
  status: UpgradeStatus;
  attention: NeedsAttention | null;
}

/**
 * An operator settles an upgrade that waits in `needs_attention` (docs/runbook.md): after checking Partner Center,
 * `converted` lets the workflow continue (subscription changes, invoices, seats), `not_converted` ends it failed with
 * the locks released. The workflow's update validator is the authority on whether it waits; the record only spares
 * it a call that is bound to be refused (the workflow writes `needs_attention` before it sends the webhook).
 */
export async function resolveUncertainOutcome(
  deps: UpgradeUseCaseDeps,
  actor: UpgradeActor,
  upgradeId: string,
  decision: UncertainOutcomeDecision,
): Promise<ResolvedUpgrade> {
  const record = await loadVisibleUpgrade(deps, actor, upgradeId);
  const notWaiting = (status: string) =>
    new UpgradeError('NOT_AWAITING_RESOLUTION', `Upgrade ${upgradeId} does not wait for an operator's decision on its outcome; it is ${status}`, {
      status,
    });
  if (record.status !== 'needs_attention') throw notWaiting(record.status);
  try {
    const state = await deps.temporalClient.withDeadline(Date.now() + deps.updateTimeoutMs, () =>
      deps.temporalClient.workflow.getHandle(upgradeId).executeUpdate(resolveUncertainOutcomeUpdate, {
        args: [{ ...decision, resolvedBy: actor.keyId } as UncertainOutcomeResolution],
      }),
    );
    return { upgradeId, status: state.status, attention: state.attention ?? null };
  } catch (error) {
    // Refused by the validator (settled a moment ago by someone else), or the run is gone.
    if (error instanceof WorkflowUpdateFailedError || error instanceof WorkflowNotFoundError) throw notWaiting(`${record.status} (already settled)`);
    throw new UpgradeError('TEMPORAL_UNAVAILABLE', 'The workflow did not answer the resolution in time; try again');
  }
}
