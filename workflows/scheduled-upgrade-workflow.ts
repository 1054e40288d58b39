import {
  allHandlersFinished,
  condition,
  log,
  ParentClosePolicy,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  startChild,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError, type SearchAttributePair } from '@temporalio/common';
import { UPGRADE_WORKFLOW_TYPE } from './messages';
import {
  cancelScheduledUpgradeUpdate,
  getScheduledUpgradeStateQuery,
  scheduledUpgradeReplacedSignal,
  type ScheduledUpgradeActivities,
  type ScheduledUpgradeCancellation,
  type ScheduledUpgradeStart,
  type ScheduledUpgradeState,
  type ScheduledUpgradeWorkflowInput,
} from './scheduled-upgrade-contract';
import { PATCHES } from './patches';
import { UPGRADE_SEARCH_ATTRIBUTES, UPGRADE_STATUS } from './search-attributes';

/** Database bookkeeping and the re-check on the day: retried until they succeed (Partner Center may be down that hour). */
const scheduling = proxyActivities<ScheduledUpgradeActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});
/** Webhook delivery, as the UpgradeWorkflow's: about an hour of retries, then the outbox keeps the entry. */
const notify = proxyActivities<ScheduledUpgradeActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes', maximumAttempts: 10 },
});

export interface ScheduledUpgradeResult {
  upgradeId: string;
  outcome: 'started' | 'renewed' | 'rejected' | 'cancelled';
}

/** The Keyword search attributes the API gives an UpgradeWorkflow, typed again from their names. */
function typedSearchAttributesOf(start: ScheduledUpgradeStart): SearchAttributePair[] {
  return UPGRADE_SEARCH_ATTRIBUTES.flatMap((key) => {
    const value = start.searchAttributes[key.name];
    return value === undefined || key.type !== 'KEYWORD' ? [] : [{ key, value } as SearchAttributePair];
  });
}

/**
 * An upgrade on the customer's chosen day (docs/scheduled-upgrades.md): a durable timer until 00:00 UTC of the due
 * date, cancellable until then; on the day, eligibility (ours and Microsoft's) and the quote are checked again through
 * the start use case, and the upgrade runs as an ordinary UpgradeWorkflow (a child under the upgrade's own id, left
 * running when this workflow ends), or ends `rejected` with its reasons and the `upgrade_failed` webhook. The source
 * is not locked while this waits.
 */
export async function ScheduledUpgradeWorkflow(input: ScheduledUpgradeWorkflowInput): Promise<ScheduledUpgradeResult> {
  const { upgradeId, dueDate } = input;
  const state: ScheduledUpgradeState = { upgradeId, dueDate, phase: 'waiting' };
  let cancellation: ScheduledUpgradeCancellation | undefined;
  // An upgrade at renewal (docs/scheduled-upgrades.md, "At renewal"): only runs started with it ask the patch, so the
  // histories of upgrades on a date are unchanged.
  const atRenewal = input.atRenewal === true && patched(PATCHES.UPGRADES_AT_RENEWAL);
  /** At renewal: whether Microsoft carries the scheduled change (`pending` while it is being written). */
  let writtenAtMicrosoft: 'pending' | 'written' | 'refused' = 'pending';

  const notifySafely = async (event: 'upgrade_failed' | 'upgrade_completed' | 'auto_renew_enabled') => {
    try {
      await notify.sendUpgradeNotification.executeWithOptions({ summary: `Notify: ${event}` }, [upgradeId, event]);
    } catch (error) {
      // The outbox keeps the entry for redelivery; the outcome stands either way.
      log.warn('notification undeliverable', { upgradeId, event, error: String(error) });
    }
  };

  setHandler(getScheduledUpgradeStateQuery, () => state);
  setHandler(
    cancelScheduledUpgradeUpdate,
    async (given: ScheduledUpgradeCancellation) => {
      cancellation = given;
      state.phase = 'cancelled';
      if (atRenewal) {
        // Nothing may stay at Microsoft: wait for a write in flight, then remove what it wrote.
        await condition(() => writtenAtMicrosoft !== 'pending');
        if (writtenAtMicrosoft === 'written') {
          await scheduling.removeScheduledChange.executeWithOptions({ summary: 'Remove the scheduled change at Microsoft' }, [upgradeId]);
        }
      }
      await scheduling.endScheduledUpgrade.executeWithOptions({ summary: `Record the upgrade as cancelled by ${given.cancelledBy}` }, [
        upgradeId,
        'cancelled',
        { cancelledBy: given.cancelledBy },
      ]);
      upsertSearchAttributes([{ key: UPGRADE_STATUS, value: 'cancelled' }]);
      return state;
    },
    {
      validator: (_given: ScheduledUpgradeCancellation) => {
        if (state.phase !== 'waiting') throw new Error(`the scheduled upgrade can no longer be cancelled (${state.phase})`);
      },
    },
  );

  /** The immediate upgrade that replaced this upgrade at renewal (only an upgrade at renewal heeds it). */
  let replacedBy: string | undefined;
  setHandler(scheduledUpgradeReplacedSignal, ({ byUpgradeId }) => {
    if (atRenewal && state.phase === 'waiting' && cancellation === undefined) replacedBy = byUpgradeId;
  });

  const reject = async (reasons: ScheduledUpgradeState['reasons'] & object, when: string) => {
    state.phase = 'rejected';
    state.reasons = reasons;
    await scheduling.endScheduledUpgrade.executeWithOptions({ summary: `Record the upgrade as rejected ${when}` }, [upgradeId, 'rejected', { reasons }]);
    upsertSearchAttributes([{ key: UPGRADE_STATUS, value: 'rejected' }]);
    setCurrentDetails(`Rejected ${when === 'on its day' ? `on ${dueDate}` : when}: ${reasons.map((reason) => reason.message).join('; ')}`);
    await notifySafely('upgrade_failed');
    return { upgradeId, outcome: 'rejected' as const };
  };

  if (atRenewal) {
    setCurrentDetails(`At renewal on ${dueDate}: writing the scheduled change at Microsoft`);
    const written = await scheduling.writeScheduledChange.executeWithOptions({ summary: 'Write the scheduled change at Microsoft (auto-renew on)' }, [
      upgradeId,
    ]);
    writtenAtMicrosoft = written.ok ? 'written' : 'refused';
    if (!written.ok && cancellation === undefined) return reject(written.reasons, 'by Microsoft');
    if (written.ok && written.autoRenewTurnedOn && cancellation === undefined) await notifySafely('auto_renew_enabled');
  }

  setCurrentDetails(`Scheduled for ${dueDate} (00:00 UTC)`);
  const dueAtMs = Date.parse(`${dueDate}T00:00:00.000Z`);
  const waitMs = dueAtMs - Date.now();
  // The same timer as before the signal existed: a run never signalled replays unchanged.
  if (waitMs > 0) await condition(() => cancellation !== undefined || replacedBy !== undefined, waitMs);
  if (cancellation !== undefined) {
    // The update's handler writes the record; the run ends when it has.
    await condition(allHandlersFinished);
    setCurrentDetails(`Cancelled by ${cancellation.cancelledBy}`);
    return { upgradeId, outcome: 'cancelled' };
  }

  state.phase = 'starting';
  if (atRenewal) {
    setCurrentDetails(
      replacedBy === undefined ? `Renewal day ${dueDate}: checking Microsoft's scheduled change` : `Replaced by upgrade ${replacedBy}: recording the ending`,
    );
    const renewed = await scheduling.renewIntoTarget.executeWithOptions({ summary: "Renew into the target if Microsoft's scheduled change stands" }, [
      upgradeId,
      new Date().toISOString(),
    ]);
    if (!renewed.ok) return reject(renewed.reasons, replacedBy === undefined ? 'at the renewal' : `when upgrade ${replacedBy} replaced it`);
    state.phase = 'renewed';
    upsertSearchAttributes([{ key: UPGRADE_STATUS, value: 'completed' }]);
    setCurrentDetails(`Renewed into the target on ${dueDate}`);
    await notifySafely('upgrade_completed');
    return { upgradeId, outcome: 'renewed' };
  }

  setCurrentDetails(`Due ${dueDate}: re-checking eligibility and the quote`);
  const begun = await scheduling.beginScheduledUpgrade.executeWithOptions({ summary: 'Re-check eligibility, re-plan on the day, lock, record as accepted' }, [
    input,
    new Date().toISOString(),
  ]);
  if (!begun.ok) return reject(begun.reasons, 'on its day');

  const { start } = begun;
  try {
    await startChild(UPGRADE_WORKFLOW_TYPE, {
      workflowId: upgradeId,
      args: [start.input],
      // The upgrade outlives this workflow: it may wait days for a manual seat reassignment.
      parentClosePolicy: ParentClosePolicy.ABANDON,
      typedSearchAttributes: typedSearchAttributesOf(start),
      staticSummary: start.staticSummary,
      staticDetails: start.staticDetails,
    });
  } catch (error) {
    // Started already under the upgrade id (the sweeper starts an `accepted` upgrade left without a run): handed over.
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
  state.phase = 'started';
  upsertSearchAttributes([{ key: UPGRADE_STATUS, value: 'accepted' }]);
  setCurrentDetails(`Started on ${dueDate} as UpgradeWorkflow ${upgradeId}`);
  return { upgradeId, outcome: 'started' };
}
