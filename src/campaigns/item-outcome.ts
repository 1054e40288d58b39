import type { CurrentUpgrade } from './read';

/** How a campaign's item follows its upgrade (docs/campaigns.md). Pure. */

/** The error's code, and the rules that refused it (an upgrade at renewal rejected by Microsoft: VENDOR_NOT_ELIGIBLE). */
function failureReasonOf(upgrade: CurrentUpgrade): string {
  const code = upgrade.error?.code ?? upgrade.status;
  const reasons = upgrade.error?.details?.reasons?.map((reason) => reason.code) ?? [];
  return reasons.length > 0 ? `${code}: ${reasons.join(', ')}` : code;
}

/**
 * An item's outcome from its upgrade's status: completed (or waiting only for a manual seat reassignment: converted
 * and invoiced, flagged), failed (rejected, failed, or cancelled by someone before it was done), scheduled (an upgrade
 * at renewal whose change Microsoft holds: the campaign's part is done); undefined while it is still on its way.
 */
export function itemOutcomeOf(
  upgrade: CurrentUpgrade,
): { outcome: 'completed' | 'failed' | 'scheduled'; seatReassignmentPending?: boolean; outcomeReason?: string } | undefined {
  switch (upgrade.status) {
    case 'completed':
      return { outcome: 'completed', seatReassignmentPending: false };
    case 'awaiting_manual_seat_reassignment':
      return { outcome: 'completed', seatReassignmentPending: true };
    case 'failed':
    case 'rejected':
      return { outcome: 'failed', outcomeReason: failureReasonOf(upgrade) };
    case 'cancelled':
      return { outcome: 'failed', outcomeReason: 'cancelled' };
    case 'scheduled':
      return upgrade.writtenAtMicrosoft ? { outcome: 'scheduled' } : undefined;
    default:
      return undefined;
  }
}
