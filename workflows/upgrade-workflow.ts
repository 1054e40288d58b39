import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  log,
  metricMeter,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import type { NotificationEvent, UpgradeActivities, UpgradeError, UpgradeRecordProgress, VendorOutcome, VendorRecord } from './activity-contract';
import { FAILURE_TYPES, NON_RETRYABLE_VENDOR_FOLLOW_FAILURES, NON_RETRYABLE_VENDOR_REQUEST_FAILURES } from './failure-types';
import {
  confirmSeatReassignmentUpdate,
  FINAL_UPGRADE_STATUSES,
  getUpgradeStateQuery,
  seatReassignmentConfirmedSignal,
  UPGRADE_STEPS,
  vendorStepName,
  type SeatReassignmentConfirmation,
  type SeatReassignmentState,
  type UpgradeResult,
  type UpgradeState,
  type UpgradeStatus,
  type UpgradeStepRecord,
  type UpgradeWorkflowInput,
} from './messages';
import { UPGRADE_DESTINATION_TYPE, UPGRADE_KIND, UPGRADE_STATUS } from './search-attributes';
import { subscriptionsHeldBy } from '../src/domain/upgrade-shape';

/**
 * Patch ids, one per change to the command sequence of a released shape (`patched()`, replay-tested in test/replay).
 * - ONE_UPSERT_PER_STATE_CHANGE: the kind and destination type ride on the `awaiting_vendor` status upsert, and a
 *   status that does not change is not upserted again. Each upsert is a visibility write on the server (measured:
 *   9 upserts doubled the dev server's CPU per run); before it, 9 upserts per run, after it 7.
 * - WORKFLOW_WRITES_THE_RECORD: the workflow is the one writer of the upgrade's status and steps. At each change of
 *   status it upserts the search attribute and writes the record (status, the steps completed since, the seat
 *   reassignment state) with the `recordUpgradeProgress` local activity; the ending activities write its final state.
 *   Activities no longer write statuses or steps; `recordSeatReassignmentState` is no longer called (the progress
 *   write carries the seat state); `recordUpgradeAccepted` is called only for runs the API did not record. Implies
 *   ONE_UPSERT_PER_STATE_CHANGE (not asked separately: each patch costs a TemporalChangeVersion upsert).
 *   Runs started before it keep their shape and complete; the record of such a run no longer receives the
 *   intermediate statuses and steps its activities used to write after the deploy (its search attribute and its
 *   final status, error and locks are as before).
 */
export const PATCHES = {
  ONE_UPSERT_PER_STATE_CHANGE: 'one-search-attribute-upsert-per-state-change',
  WORKFLOW_WRITES_THE_RECORD: 'workflow-writes-status-and-steps',
} as const;

/*
 * Activity groups, each with the timeouts and retries its kind of work needs.
 */

/** Database bookkeeping: fast, and after the vendor has converted it must eventually succeed — retry forever. */
const bookkeepingOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
} as const;
const record = proxyActivities<UpgradeActivities>(bookkeepingOptions);

/**
 * The record's status and steps at each change of status: one database write, run by the worker as a local activity
 * (no round trip through the server; its result rides on the next workflow task's commands).
 */
const recordLocally = proxyLocalActivities<UpgradeActivities>(bookkeepingOptions);

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
    nonRetryableErrorTypes: [...NON_RETRYABLE_VENDOR_REQUEST_FAILURES],
  },
});

/**
 * Following the asynchronous conversion (seconds to 24 h): one long activity that polls and heartbeats at least every
 * 10 s. A lost worker is noticed within the 30 s heartbeat timeout and polling resumes elsewhere.
 */
const vendorFollow = proxyActivities<UpgradeActivities>({
  startToCloseTimeout: '48 hours',
  heartbeatTimeout: '30 seconds',
  retry: {
    initialInterval: '5 seconds',
    backoffCoefficient: 2,
    maximumInterval: '5 minutes',
    nonRetryableErrorTypes: [...NON_RETRYABLE_VENDOR_FOLLOW_FAILURES],
  },
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

const isFinal = (status: UpgradeStatus) => FINAL_UPGRADE_STATUSES.includes(status);

/**
 * One NCE upgrade: validate & lock → vendor transition (followed to completion) → apply subscription changes →
 * invoices → seat reassignment → notifications → release.
 *
 * Invoices come right after the changes are applied, before seat reassignment: the charge does not depend on which
 * users hold the licences, and a manual reassignment can wait for days.
 * Before the vendor converts, a failure releases everything and changes nothing. After it, nothing is rolled back:
 * every step retries until it succeeds.
 */
export async function UpgradeWorkflow(input: UpgradeWorkflowInput): Promise<UpgradeResult> {
  /**
   * Operators' counters, exported with the SDK's own series on the worker's metrics port (README "Production"). The
   * SDK emits workflow metrics only when the code runs for the first time, never during a replay, so each upgrade is
   * counted once however often its history is replayed. Not commands: recorded histories are unaffected.
   */
  const upgradesStarted = metricMeter.createCounter('nce_upgrades_started', 'upgrades', 'Upgrades that passed validation, by kind');
  const upgradesEnded = metricMeter.createCounter('nce_upgrades_ended', 'upgrades', 'Upgrades that ended, by kind and outcome (completed, rejected, failed)');
  const { upgradeId } = input;
  // Asked first: the first command (whether the accepted record is written) already differs between the shapes.
  const workflowWritesRecord = patched(PATCHES.WORKFLOW_WRITES_THE_RECORD);
  const accepted: UpgradeStepRecord = { name: UPGRADE_STEPS.accepted, status: 'completed', at: input.acceptedAt };
  const state: UpgradeState = { upgradeId, status: 'accepted', currentDetails: 'Accepted', steps: [accepted] };
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
  const step = (name: string, status: 'completed' | 'failed' | 'skipped', detail?: string) => {
    state.steps.push({ name, status, at: new Date().toISOString(), ...(detail ? { detail } : {}) });
  };
  const setSeatReassignment = (seatState: SeatReassignmentState) => {
    state.seatReassignment = seatState;
  };

  /**
   * The record's share of the state: the status, the steps not written yet and the seat reassignment state. The API
   * (or `recordUpgradeAccepted`) wrote the accepted step with the record.
   */
  let stepsWritten = 1;
  const recordChange = (): UpgradeRecordProgress => {
    const change = {
      status: state.status,
      steps: state.steps.slice(stepsWritten),
      ...(state.seatReassignment ? { seatReassignment: state.seatReassignment } : {}),
    };
    stepsWritten = state.steps.length;
    return change;
  };
  /** Writes the record from the state (runs started before the patch leave it to their activities). */
  const writeRecord = async () => {
    if (!workflowWritesRecord) return;
    const change = recordChange();
    await recordLocally.recordUpgradeProgress.executeWithOptions({ summary: `Record the upgrade as ${change.status}` }, [upgradeId, change]);
  };

  /** Set once the run has passed the point where the patch applies (histories recorded before it replay without). */
  let oneUpsertPerStateChange = false;
  /** full or partial once validation told; an upgrade rejected before that has no kind yet. */
  let kindLabel = 'unknown';
  /**
   * The one path of a status change: the state, the search attribute and (but for a final status, which the ending
   * activity writes together with the release of the locks) the record.
   */
  const setStatus = async (status: UpgradeStatus, details: string, alsoUpsert: SearchAttributeUpdatePair[] = []) => {
    const unchanged = status === state.status;
    state.status = status;
    if (!unchanged && isFinal(status)) upgradesEnded.add(1, { kind: kindLabel, outcome: status });
    describeProgress(details);
    if (unchanged && oneUpsertPerStateChange && alsoUpsert.length === 0) return;
    upsertSearchAttributes([{ key: UPGRADE_STATUS, value: status }, ...alsoUpsert]);
    if (!isFinal(status)) await writeRecord();
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

  const endUnsuccessfully = async (outcome: 'failed' | 'rejected', error: UpgradeError): Promise<never> => {
    await setStatus(outcome, `${outcome === 'rejected' ? 'Rejected' : 'Failed'}: ${error.message}`);
    state.error = { code: error.code, message: error.message };
    step(outcome, 'failed', `${error.code}: ${error.message}`);
    await record.failUpgrade.executeWithOptions(
      { summary: `Release locks, record the upgrade as ${outcome}` },
      workflowWritesRecord ? [upgradeId, outcome, error, recordChange()] : [upgradeId, outcome, error],
    );
    await sendNotification('upgrade_failed');
    throw ApplicationFailure.create({
      type: outcome === 'rejected' ? FAILURE_TYPES.upgradeRejected : FAILURE_TYPES.upgradeFailed,
      message: `${error.code}: ${error.message}`,
      nonRetryable: true,
      details: [error],
    });
  };

  // 1. Validate & lock (the plan and the upgrade date are frozen here).
  if (!workflowWritesRecord || !input.recordedByApi) {
    await record.recordUpgradeAccepted.executeWithOptions({ summary: 'Record the upgrade as accepted' }, [input]);
  }
  await setStatus('validating', 'Re-checking eligibility and locking the subscriptions');
  const validated = await record.validateAndLockUpgrade.executeWithOptions({ summary: 'Validate eligibility, lock subscriptions, freeze the quote' }, [input]);
  if (!validated.ok) {
    return endUnsuccessfully('rejected', {
      code: 'NOT_ELIGIBLE',
      message: validated.reasons.map((reason) => reason.message).join('; '),
      details: { reasons: validated.reasons },
    });
  }
  kindLabel = validated.kind;
  upgradesStarted.add(1, { kind: validated.kind });
  const planAttributes: SearchAttributeUpdatePair[] = [
    { key: UPGRADE_KIND, value: validated.kind },
    { key: UPGRADE_DESTINATION_TYPE, value: validated.destinationType },
  ];
  oneUpsertPerStateChange = workflowWritesRecord || patched(PATCHES.ONE_UPSERT_PER_STATE_CHANGE);
  if (!oneUpsertPerStateChange) upsertSearchAttributes(planAttributes);
  step(UPGRADE_STEPS.validated, 'completed', validated.summary);
  let seatState: SeatReassignmentState = {
    mode: validated.seatReassignment.mode,
    reason: validated.seatReassignment.reason,
    state: 'pending',
    remindersSent: 0,
    escalated: false,
  };
  setSeatReassignment(seatState);

  // 2. Vendor transition, followed asynchronously to completion.
  await setStatus('awaiting_vendor', 'Requesting the transition from Partner Center', oneUpsertPerStateChange ? planAttributes : []);
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
  step(vendorStepName(UPGRADE_STEPS.vendorTransitionRequested, requested.attempt), 'completed', `MS-RequestId ${requested.requestId}`);
  await setStatus('awaiting_vendor', 'Waiting for Partner Center to complete the conversion (asynchronous, can take up to 24 h)');
  let outcome: VendorOutcome;
  try {
    outcome = await vendorFollow.awaitVendorTransition.executeWithOptions({ summary: 'Partner Center: follow the transition until Completed or Failed' }, [
      upgradeId,
      requested,
    ]);
  } catch (error) {
    return endUnsuccessfully('failed', { code: 'VENDOR_TRANSITION_UNREADABLE', message: `could not follow the vendor transition: ${String(error)}` });
  }
  const vendorErrors = outcome.errors.map((e) => `${e.code} ${e.description}`.trim()).join('; ');
  if (outcome.conversion === 'failed') {
    step(vendorStepName(UPGRADE_STEPS.vendorTransitionFailed, requested.attempt), 'failed', vendorErrors || undefined);
    return endUnsuccessfully('failed', {
      code: 'VENDOR_TRANSITION_FAILED',
      message: `Partner Center failed the conversion: ${vendorErrors || 'no reason given'}`,
      details: { errors: outcome.errors },
    });
  }
  step(vendorStepName(UPGRADE_STEPS.vendorTransitionCompleted, requested.attempt), 'completed', vendorErrors || undefined);

  // 3. From here on nothing is rolled back: the vendor has converted. Each step retries until it succeeds.
  await setStatus('applying', 'Vendor completed; applying subscription changes (retried until they succeed)');
  const { destinationSubscriptionId } = await record.applySubscriptionChanges.executeWithOptions({ summary: 'Apply subscription changes and history' }, [
    upgradeId,
    outcome,
  ]);
  step(UPGRADE_STEPS.subscriptionsApplied, 'completed');

  // 4. Credit and debit invoices, each exactly once.
  await setStatus('invoicing', 'Issuing the credit and debit invoices (retried until they succeed)');
  const invoices = await record.issueInvoices.executeWithOptions({ summary: 'Issue credit and debit invoices' }, [upgradeId, destinationSubscriptionId]);
  step(UPGRADE_STEPS.invoicesIssued, 'completed', `${invoices.creditInvoiceId}, ${invoices.debitInvoiceId}`);

  // 5. Seat reassignment: automatic where the upgrade allows it, manual (with reminders) otherwise or as the fallback.
  let reassignedAutomatically = false;
  if (seatState.mode === 'automatic') {
    await setStatus('reassigning_seats', 'Reassigning user licences to the new product');
    try {
      const reassigned = await seats.reassignSeatsAutomatically.executeWithOptions({ summary: 'Reassign licences automatically' }, [
        upgradeId,
        outcome.licenseReassignment,
      ]);
      reassignedAutomatically = true;
      seatState = { ...seatState, state: 'done' };
      step(
        UPGRADE_STEPS.seatsReassigned,
        'completed',
        reassigned.by === 'vendor' ? 'by Microsoft (licence transfer)' : `${reassigned.movedUsers} user(s) via licence assignment`,
      );
    } catch (error) {
      seatState = {
        ...seatState,
        mode: 'manual',
        reason: `automatic reassignment kept failing: ${error instanceof ActivityFailure ? (error.cause?.message ?? error.message) : String(error)}`,
      };
    }
    setSeatReassignment(seatState);
  }
  if (reassignedAutomatically) {
    if (!workflowWritesRecord) {
      await record.recordSeatReassignmentState.executeWithOptions({ summary: `Record seat reassignment: ${seatState.state}` }, [upgradeId, seatState, false]);
    }
    await sendNotification('seats_reassigned_automatically');
  } else {
    seatState = { ...seatState, state: 'awaiting_confirmation' };
    setSeatReassignment(seatState);
    await setStatus('awaiting_manual_seat_reassignment', `Waiting for confirmation of manual licence reassignment (${seatState.reason})`);
    /** Runs started before the patch write the seat state with their own activity; later ones with the progress write. */
    const recordSeatState = async (awaitingConfirmation: boolean) => {
      if (workflowWritesRecord) return writeRecord();
      await record.recordSeatReassignmentState.executeWithOptions(
        { summary: `Record seat reassignment: ${seatState.state}${awaitingConfirmation ? `, ${seatState.remindersSent} reminder(s)` : ''}` },
        [upgradeId, seatState, awaitingConfirmation],
      );
    };
    if (!workflowWritesRecord) await recordSeatState(true);
    await sendNotification('manual_seat_reassignment_required');
    const reminderMs = input.seatReassignment?.reminderIntervalMs ?? DEFAULT_SEAT_REMINDER_MS;
    const escalateMs = input.seatReassignment?.escalateAfterMs ?? DEFAULT_SEAT_ESCALATION_MS;
    const waitingSince = Date.now();
    while (!(await condition(() => confirmation !== undefined, reminderMs))) {
      seatState = { ...seatState, remindersSent: seatState.remindersSent + 1 };
      setSeatReassignment(seatState);
      await sendNotification('manual_seat_reassignment_reminder', seatState.remindersSent);
      if (!seatState.escalated && Date.now() - waitingSince >= escalateMs) {
        seatState = { ...seatState, escalated: true };
        setSeatReassignment(seatState);
        await sendNotification('manual_seat_reassignment_escalated');
      }
      describeProgress(
        `Waiting for confirmation of manual licence reassignment; ${seatState.remindersSent} reminder(s) sent${seatState.escalated ? ', escalated' : ''}`,
      );
      await recordSeatState(true);
    }
    seatState = { ...seatState, state: 'confirmed', confirmedBy: confirmation!.confirmedBy, confirmedAt: confirmation!.at };
    setSeatReassignment(seatState);
    step(UPGRADE_STEPS.seatsReassigned, 'completed', `manually, confirmed by ${seatState.confirmedBy}`);
    if (!workflowWritesRecord) await recordSeatState(false);
  }

  // 6. Notify, 7. release and finish.
  await setStatus('notifying', 'Sending the completion notification');
  await sendNotification('upgrade_completed');
  // Every subscription the run locked: the source, an existing destination, the one it created or filled.
  const held = subscriptionsHeldBy(input.request, [destinationSubscriptionId]);
  const complete = (progress?: UpgradeRecordProgress) =>
    record.completeUpgrade.executeWithOptions(
      { summary: 'Release locks, record the upgrade as completed' },
      progress ? [upgradeId, held, progress] : [upgradeId, held],
    );
  // Runs started before the patch released the locks before the final upsert; later ones hand the final state over.
  if (!workflowWritesRecord) await complete();
  await setStatus('completed', `Completed: ${validated.summary}`);
  step(UPGRADE_STEPS.completed, 'completed');
  if (workflowWritesRecord) await complete(recordChange());
  log.info('upgrade completed', { upgradeId, workflowId: workflowInfo().workflowId });
  return {
    upgradeId,
    status: 'completed',
    destinationSubscriptionId,
    invoiceIds: [invoices.creditInvoiceId, invoices.debitInvoiceId],
  };
}
