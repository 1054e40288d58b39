import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import type { UpgradeActivities } from '../activities';
import type { NotificationEvent } from '../activities/notifications';
import type { VendorOutcome, VendorRecord } from '../activities/vendor-transition';
import {
  confirmSeatReassignmentUpdate,
  getUpgradeStateQuery,
  seatReassignmentConfirmedSignal,
  type SeatReassignmentConfirmation,
  type SeatReassignmentState,
  type UpgradeResult,
  type UpgradeState,
  type UpgradeStatus,
  type UpgradeWorkflowInput,
} from './messages';
import { UPGRADE_DESTINATION_TYPE, UPGRADE_KIND, UPGRADE_STATUS } from './search-attributes';
import { subscriptionsHeldBy } from '../src/domain/upgrade-shape';

/**
 * Patch ids, one per change to the command sequence of a released shape (SPEC §5: `patched()`, replay-tested).
 * - ONE_UPSERT_PER_STATE_CHANGE: the kind and destination type ride on the `awaiting_vendor` status upsert, and a
 *   status that does not change is not upserted again. Each upsert is a visibility write on the server (measured:
 *   9 upserts doubled the dev server's CPU per run); before it, 9 upserts per run, after it 7.
 */
export const PATCHES = { ONE_UPSERT_PER_STATE_CHANGE: 'one-search-attribute-upsert-per-state-change' } as const;

/*
 * Activity groups, each with the timeouts and retries its kind of work needs.
 */

/** Database bookkeeping: fast, and after the vendor has converted it must eventually succeed — retry forever. */
const record = proxyActivities<UpgradeActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/**
 * Asking Partner Center for the transition: transient errors (5xx, timeouts) back off up to 5 min, a 429 waits
 * exactly Retry-After (the activity sets nextRetryDelay); business rejections and contract errors are final.
 */
const vendorRequest = proxyActivities<UpgradeActivities>({
  startToCloseTimeout: '1 minute',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '5 minutes',
    nonRetryableErrorTypes: [
      'VendorBusinessRejectionError',
      'VendorNotFoundError',
      'VendorAuthError',
      'VendorResponseInvalidError',
      'UpgradeDataInconsistent',
      'UpgradePlanMissing',
    ],
  },
});

/**
 * Following the asynchronous conversion (seconds to 24 h): one long activity that polls and heartbeats at least every
 * 10 s. A lost worker is noticed within the 30 s heartbeat timeout and polling resumes elsewhere.
 */
const vendorFollow = proxyActivities<UpgradeActivities>({
  startToCloseTimeout: '48 hours',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', nonRetryableErrorTypes: ['VendorTransitionMissing'] },
});

/** Automatic seat reassignment: a few tries with backoff, then the workflow falls back to manual. */
const seats = proxyActivities<UpgradeActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
});

/** Webhook delivery: about an hour of retries; after that the outbox entry stays for redelivery. */
const notify = proxyActivities<UpgradeActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes', maximumAttempts: 10 },
});

const DEFAULT_SEAT_REMINDER_MS = 24 * 60 * 60 * 1000;
const DEFAULT_SEAT_ESCALATION_MS = 7 * DEFAULT_SEAT_REMINDER_MS;

/**
 * One NCE upgrade, SPEC §5: validate & lock → vendor transition (followed to completion) → apply subscription
 * changes → invoices → seat reassignment → notifications → release.
 *
 * Invoices come right after the changes are applied, before seat reassignment: the charge does not depend on which
 * users hold the licences, and a manual reassignment can wait for days.
 * Before the vendor converts, a failure releases everything and changes nothing. After it, nothing is rolled back:
 * every step retries until it succeeds.
 */
export async function UpgradeWorkflow(input: UpgradeWorkflowInput): Promise<UpgradeResult> {
  const { upgradeId } = input;
  const state: UpgradeState = { upgradeId, status: 'accepted', currentDetails: 'Accepted', steps: [] };
  let confirmation: (SeatReassignmentConfirmation & { at: string }) | undefined;

  setHandler(getUpgradeStateQuery, () => state);
  const acceptConfirmation = (given: SeatReassignmentConfirmation) => {
    if (confirmation || state.seatReassignment?.state !== 'awaiting_confirmation') return;
    confirmation = { ...given, at: new Date().toISOString() };
    // Visible at once to the caller of the update and to queries; the main loop persists it.
    state.seatReassignment = { ...state.seatReassignment, state: 'confirmed', confirmedBy: given.confirmedBy, confirmedAt: confirmation.at };
  };
  setHandler(
    confirmSeatReassignmentUpdate,
    (given: SeatReassignmentConfirmation) => {
      acceptConfirmation(given);
      return state;
    },
    {
      validator: (_given: SeatReassignmentConfirmation) => {
        if (state.seatReassignment?.state !== 'awaiting_confirmation') {
          throw new Error(`no manual seat reassignment is awaiting confirmation (status ${state.status})`);
        }
      },
    },
  );
  setHandler(seatReassignmentConfirmedSignal, acceptConfirmation);

  /** What the run is doing now, for the Temporal UI's current details and the state query alike. */
  const describeProgress = (details: string) => {
    state.currentDetails = details;
    setCurrentDetails(details);
  };
  /** Set once the run has passed the point where the patch applies (histories recorded before it replay without). */
  let oneUpsertPerStateChange = false;
  const setStatus = (status: UpgradeStatus, details: string, alsoUpsert: SearchAttributeUpdatePair[] = []) => {
    const unchanged = status === state.status;
    state.status = status;
    describeProgress(details);
    if (unchanged && oneUpsertPerStateChange && alsoUpsert.length === 0) return;
    upsertSearchAttributes([{ key: UPGRADE_STATUS, value: status }, ...alsoUpsert]);
  };
  const step = (name: string, status: 'completed' | 'failed' | 'skipped', detail?: string) => {
    state.steps.push({ name, status, at: new Date().toISOString(), ...(detail ? { detail } : {}) });
  };

  /** Notifications never block or fail an upgrade: after the retries, the outbox keeps the entry. */
  const sendNotification = async (event: NotificationEvent, sequence?: number) => {
    try {
      await notify.sendUpgradeNotification.executeWithOptions({ summary: `Notify: ${event}${sequence === undefined ? '' : ` #${sequence}`}` }, [
        upgradeId,
        event,
        sequence,
      ]);
    } catch (error) {
      log.warn('notification undeliverable', { upgradeId, event, error: String(error) });
      await record.markNotificationUndeliverable.executeWithOptions({ summary: `Keep ${event} in the outbox as undeliverable` }, [upgradeId, event, sequence]);
    }
  };

  const endUnsuccessfully = async (outcome: 'failed' | 'rejected', error: { code: string; message: string; details?: unknown }): Promise<never> => {
    setStatus(outcome, `${outcome === 'rejected' ? 'Rejected' : 'Failed'}: ${error.message}`);
    state.error = { code: error.code, message: error.message };
    await record.failUpgrade.executeWithOptions({ summary: `Release locks, record the upgrade as ${outcome}` }, [upgradeId, outcome, error]);
    step(outcome, 'failed', error.message);
    await sendNotification('upgrade_failed');
    throw ApplicationFailure.create({
      type: outcome === 'rejected' ? 'UpgradeRejected' : 'UpgradeFailed',
      message: `${error.code}: ${error.message}`,
      nonRetryable: true,
      details: [error],
    });
  };

  // 1. Validate & lock (the plan and the upgrade date are frozen here).
  await record.recordUpgradeAccepted.executeWithOptions({ summary: 'Record the upgrade as accepted' }, [input]);
  setStatus('validating', 'Re-checking eligibility and locking the subscriptions');
  const validated = await record.validateAndLockUpgrade.executeWithOptions({ summary: 'Validate eligibility, lock subscriptions, freeze the quote' }, [input]);
  if (!validated.ok) {
    return endUnsuccessfully('rejected', {
      code: 'NOT_ELIGIBLE',
      message: validated.reasons.map((reason) => reason.message).join('; '),
      details: { reasons: validated.reasons },
    });
  }
  const planAttributes: SearchAttributeUpdatePair[] = [
    { key: UPGRADE_KIND, value: validated.kind },
    { key: UPGRADE_DESTINATION_TYPE, value: validated.destinationType },
  ];
  oneUpsertPerStateChange = patched(PATCHES.ONE_UPSERT_PER_STATE_CHANGE);
  if (!oneUpsertPerStateChange) upsertSearchAttributes(planAttributes);
  step('validated', 'completed', validated.summary);

  // 2. Vendor transition, followed asynchronously to completion.
  setStatus('awaiting_vendor', 'Requesting the transition from Partner Center', oneUpsertPerStateChange ? planAttributes : []);
  let requested: VendorRecord;
  try {
    requested = await vendorRequest.requestVendorTransition.executeWithOptions({ summary: 'Partner Center: POST transition (stable MS-RequestId)' }, [
      upgradeId,
      input.runAttempt ?? 0,
    ]);
  } catch (error) {
    const cause = error instanceof ActivityFailure && error.cause instanceof ApplicationFailure ? error.cause : undefined;
    return endUnsuccessfully('failed', {
      code: cause?.type ?? 'VENDOR_REQUEST_FAILED',
      message: `Partner Center refused the transition: ${cause?.message ?? String(error)}`,
      details: cause?.details?.[0],
    });
  }
  setStatus('awaiting_vendor', 'Waiting for Partner Center to complete the conversion (asynchronous, can take up to 24 h)');
  let outcome: VendorOutcome;
  try {
    outcome = await vendorFollow.awaitVendorTransition.executeWithOptions({ summary: 'Partner Center: follow the transition until Completed or Failed' }, [
      upgradeId,
      requested,
    ]);
  } catch (error) {
    return endUnsuccessfully('failed', { code: 'VENDOR_TRANSITION_UNREADABLE', message: `could not follow the vendor transition: ${String(error)}` });
  }
  if (outcome.conversion === 'failed') {
    return endUnsuccessfully('failed', {
      code: 'VENDOR_TRANSITION_FAILED',
      message: `Partner Center failed the conversion: ${outcome.errors.map((e) => `${e.code} ${e.description}`.trim()).join('; ') || 'no reason given'}`,
      details: { errors: outcome.errors },
    });
  }
  step('vendor_completed', 'completed');

  // 3. From here on nothing is rolled back: the vendor has converted. Each step retries until it succeeds.
  setStatus('applying', 'Vendor completed; applying subscription changes (retried until they succeed)');
  const { destinationSubscriptionId } = await record.applySubscriptionChanges.executeWithOptions({ summary: 'Apply subscription changes and history' }, [
    upgradeId,
    outcome,
  ]);
  step('subscriptions_applied', 'completed');

  // 4. Credit and debit invoices, each exactly once.
  setStatus('invoicing', 'Issuing the credit and debit invoices (retried until they succeed)');
  const invoices = await record.issueInvoices.executeWithOptions({ summary: 'Issue credit and debit invoices' }, [upgradeId, destinationSubscriptionId]);
  step('invoices_issued', 'completed');

  // 5. Seat reassignment: automatic where SPEC §4 allows, manual (with reminders) otherwise or as the fallback.
  let seatState: SeatReassignmentState = {
    mode: validated.seatReassignment.mode,
    reason: validated.seatReassignment.reason,
    state: 'pending',
    remindersSent: 0,
    escalated: false,
  };
  state.seatReassignment = seatState;
  let reassignedAutomatically = false;
  if (seatState.mode === 'automatic') {
    setStatus('reassigning_seats', 'Reassigning user licences to the new product');
    try {
      await seats.reassignSeatsAutomatically.executeWithOptions({ summary: 'Reassign licences automatically' }, [upgradeId, outcome.licenseReassignment]);
      reassignedAutomatically = true;
      seatState = { ...seatState, state: 'done' };
    } catch (error) {
      seatState = {
        ...seatState,
        mode: 'manual',
        reason: `automatic reassignment kept failing: ${error instanceof ActivityFailure ? (error.cause?.message ?? error.message) : String(error)}`,
      };
    }
    state.seatReassignment = seatState;
  }
  if (reassignedAutomatically) {
    await record.recordSeatReassignmentState.executeWithOptions({ summary: `Record seat reassignment: ${seatState.state}` }, [upgradeId, seatState, false]);
    step('seats_reassigned', 'completed', 'automatically');
    await sendNotification('seats_reassigned_automatically');
  } else {
    seatState = { ...seatState, state: 'awaiting_confirmation' };
    state.seatReassignment = seatState;
    setStatus('awaiting_manual_seat_reassignment', `Waiting for confirmation of manual licence reassignment (${seatState.reason})`);
    await record.recordSeatReassignmentState.executeWithOptions(
      { summary: `Record seat reassignment: ${seatState.state}, ${seatState.remindersSent} reminder(s)` },
      [upgradeId, seatState, true],
    );
    await sendNotification('manual_seat_reassignment_required');
    const reminderMs = input.seatReassignment?.reminderIntervalMs ?? DEFAULT_SEAT_REMINDER_MS;
    const escalateMs = input.seatReassignment?.escalateAfterMs ?? DEFAULT_SEAT_ESCALATION_MS;
    const waitingSince = Date.now();
    while (!(await condition(() => confirmation !== undefined, reminderMs))) {
      seatState = { ...seatState, remindersSent: seatState.remindersSent + 1 };
      state.seatReassignment = seatState;
      await sendNotification('manual_seat_reassignment_reminder', seatState.remindersSent);
      if (!seatState.escalated && Date.now() - waitingSince >= escalateMs) {
        seatState = { ...seatState, escalated: true };
        state.seatReassignment = seatState;
        await sendNotification('manual_seat_reassignment_escalated');
      }
      describeProgress(
        `Waiting for confirmation of manual licence reassignment; ${seatState.remindersSent} reminder(s) sent${seatState.escalated ? ', escalated' : ''}`,
      );
      await record.recordSeatReassignmentState.executeWithOptions(
        { summary: `Record seat reassignment: ${seatState.state}, ${seatState.remindersSent} reminder(s)` },
        [upgradeId, seatState, true],
      );
    }
    seatState = { ...seatState, state: 'confirmed', confirmedBy: confirmation!.confirmedBy, confirmedAt: confirmation!.at };
    state.seatReassignment = seatState;
    await record.recordSeatReassignmentState.executeWithOptions({ summary: `Record seat reassignment: ${seatState.state}` }, [upgradeId, seatState, false]);
    step('seats_reassigned', 'completed', `manually, confirmed by ${seatState.confirmedBy}`);
  }

  // 6. Notify, 7. release and finish.
  setStatus('notifying', 'Sending the completion notification');
  await sendNotification('upgrade_completed');
  // Every subscription the run locked: the source, an existing destination, the one it created or filled.
  const held = subscriptionsHeldBy(input.request, [destinationSubscriptionId]);
  await record.completeUpgrade.executeWithOptions({ summary: 'Release locks, record the upgrade as completed' }, [upgradeId, held]);
  setStatus('completed', `Completed: ${validated.summary}`);
  step('completed', 'completed');
  log.info('upgrade completed', { upgradeId, workflowId: workflowInfo().workflowId });
  return {
    upgradeId,
    status: 'completed',
    destinationSubscriptionId,
    invoiceIds: [invoices.creditInvoiceId, invoices.debitInvoiceId],
  };
}
