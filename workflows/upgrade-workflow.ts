import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
  metricMeter,
  patched,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import type {
  IssuedInvoices,
  NotificationEvent,
  UpgradeError,
  UpgradeRecordProgress,
  ValidationOutcome,
  VendorOutcome,
  VendorRecord,
} from './activity-contract';
import { notify, record, recordLocally, seats, vendorFollow, vendorRequest } from './activity-groups';
import { FAILURE_TYPES } from './failure-types';
import { PATCHES } from './patches';
import {
  confirmSeatReassignmentUpdate,
  FINAL_UPGRADE_STATUSES,
  getUpgradeStateQuery,
  resolveUncertainOutcomeUpdate,
  seatReassignmentConfirmedSignal,
  UPGRADE_STEPS,
  vendorStepName,
  type NeedsAttention,
  type SeatReassignmentConfirmation,
  type UncertainOutcomeResolution,
  type SeatReassignmentState,
  type UpgradeResult,
  type UpgradeState,
  type UpgradeStatus,
  type UpgradeStepRecord,
  type UpgradeWorkflowInput,
} from './messages';
import { UPGRADE_DESTINATION_TYPE, UPGRADE_KIND, UPGRADE_STATUS } from './search-attributes';
import { subscriptionsHeldBy } from '../src/domain/upgrade-shape';

export { PATCHES } from './patches';

const DEFAULT_SEAT_REMINDER_MS = 24 * 60 * 60 * 1000;
const DEFAULT_SEAT_ESCALATION_MS = 7 * DEFAULT_SEAT_REMINDER_MS;

const isFinal = (status: UpgradeStatus) => FINAL_UPGRADE_STATUSES.includes(status);

/**
 * Statuses a run passes through automatically within seconds to minutes. Since PATCHES.LEAN_SHAPE the search
 * attribute does not follow them (each upsert is a visibility write on the server): it keeps the phase operators
 * filter on (`accepted`, `awaiting_vendor`, `applying` once Microsoft converted) while the record and the state query
 * show them. Leaving a wait an operator or a portal acts on, the attribute follows even to one of them.
 */
const BRIEF_STATUSES: readonly UpgradeStatus[] = ['validating', 'invoicing', 'reassigning_seats', 'notifying'];
const WAITING_STATUSES: readonly UpgradeStatus[] = ['awaiting_manual_seat_reassignment', 'needs_attention'];
const upsertFilteredStatus = (status: UpgradeStatus, shown: UpgradeStatus) => !BRIEF_STATUSES.includes(status) || WAITING_STATUSES.includes(shown);

/** The error code of a run cancelled by an operator (`temporal workflow cancel`). */
export const UPGRADE_CANCELLED = 'UPGRADE_CANCELLED';
/** The error code of an upgrade an operator settled as not converted: only then may a notification say nothing changed. */
export const NOT_CONVERTED_CONFIRMED = 'NOT_CONVERTED_CONFIRMED';

type ConvertedResolution = Extract<UncertainOutcomeResolution, { outcome: 'converted' }>;

/** The activity's own failure inside the ActivityFailure the workflow catches. */
const applicationCause = (error: unknown) => (error instanceof ActivityFailure && error.cause instanceof ApplicationFailure ? error.cause : undefined);

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
  const upgradesNeedingAttention = metricMeter.createCounter(
    'nce_upgrades_needs_attention_entered',
    'upgrades',
    'Times an upgrade stopped for an operator because whether Microsoft converted is unknown, by step',
  );
  const { upgradeId } = input;
  // Asked first: the first command (whether the accepted record is written) already differs between the shapes. The
  // lean shape implies the workflow-written record; asking only for it spares new runs a second marker and upsert.
  const leanShape = patched(PATCHES.LEAN_SHAPE);
  const workflowWritesRecord = leanShape || patched(PATCHES.WORKFLOW_WRITES_THE_RECORD);
  /** Database-only bookkeeping: a local activity in the lean shape, an activity of its own before it. */
  const bookkeeping = leanShape ? recordLocally : record;
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
  /** An operator's decision on an uncertain outcome, taken by the waiting run (one per episode of needs_attention). */
  let resolution: (UncertainOutcomeResolution & { resolvedAt: string }) | undefined;
  setHandler(
    resolveUncertainOutcomeUpdate,
    (given: UncertainOutcomeResolution) => {
      resolution = { ...given, resolvedAt: new Date().toISOString() };
      state.attention = { ...state.attention!, resolution };
      return state;
    },
    {
      validator: (given: UncertainOutcomeResolution) => {
        if (state.status !== 'needs_attention' || resolution !== undefined) {
          throw new Error(`the upgrade does not wait for an operator's decision (status ${state.status})`);
        }
        if (given?.outcome !== 'converted' && given?.outcome !== 'not_converted') throw new Error('outcome must be "converted" or "not_converted"');
      },
    },
  );

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
      ...(state.attention ? { attention: state.attention } : {}),
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
  /** The status the search attribute shows (the API starts the run as `accepted`). */
  let statusUpserted: UpgradeStatus = 'accepted';
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
    if (!leanShape || alsoUpsert.length > 0 || upsertFilteredStatus(status, statusUpserted)) {
      upsertSearchAttributes([{ key: UPGRADE_STATUS, value: status }, ...alsoUpsert]);
      statusUpserted = status;
    }
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
      await bookkeeping.markNotificationUndeliverable.executeWithOptions({ summary: `Keep ${event} in the outbox as undeliverable` }, [
        upgradeId,
        event,
        sequence,
      ]);
    }
  };

  // The lock claim travels as a trailing argument only when the run has one (runs from before claims keep their arguments).
  const claimArg: [string] | [] = input.lockClaim === undefined ? [] : [input.lockClaim];

  /** Releases the locks, records the ending and tells the account. */
  const recordUnsuccessfulEnd = async (outcome: 'failed' | 'rejected', error: UpgradeError) => {
    await setStatus(outcome, `${outcome === 'rejected' ? 'Rejected' : 'Failed'}: ${error.message}`);
    state.error = { code: error.code, message: error.message };
    step(outcome, 'failed', `${error.code}: ${error.message}`);
    await bookkeeping.failUpgrade.executeWithOptions(
      { summary: `Release locks, record the upgrade as ${outcome}` },
      workflowWritesRecord ? [upgradeId, outcome, error, recordChange(), ...claimArg] : [upgradeId, outcome, error],
    );
    await sendNotification('upgrade_failed');
  };
  const endUnsuccessfully = async (outcome: 'failed' | 'rejected', error: UpgradeError): Promise<never> => {
    await recordUnsuccessfulEnd(outcome, error);
    throw ApplicationFailure.create({
      type: outcome === 'rejected' ? FAILURE_TYPES.upgradeRejected : FAILURE_TYPES.upgradeFailed,
      message: `${error.code}: ${error.message}`,
      nonRetryable: true,
      details: [error],
    });
  };

  /** A cancellation before the vendor request could have been sent: nothing changed, so the locks go and the run ends cancelled. */
  const endCancelledBeforeVendor = async (
    cancellation: unknown,
    message = 'cancelled before Partner Center was asked; nothing was changed',
  ): Promise<never> => {
    await CancellationScope.nonCancellable(() => recordUnsuccessfulEnd('failed', { code: UPGRADE_CANCELLED, message }));
    throw cancellation;
  };

  let attentionEpisodes = 0;
  /**
   * Whether Microsoft converted is unknown: the run keeps its locks, sets `needs_attention` (record, search attribute,
   * webhook, metric) and waits, however long it takes and even through a cancellation, for an operator who checked
   * Partner Center (docs/runbook.md). `not_converted` ends it failed with nothing changed; `converted` answers the
   * outcome to continue with: `known` (Microsoft reported the conversion) or one as if Microsoft had reported it.
   */
  const settleByOperator = (attention: Omit<NeedsAttention, 'since' | 'resolution'>, known?: VendorOutcome): Promise<VendorOutcome> =>
    CancellationScope.nonCancellable(async () => {
      attentionEpisodes += 1;
      resolution = undefined;
      state.attention = { ...attention, since: new Date().toISOString() };
      step(UPGRADE_STEPS.needsAttention, 'failed', `${attention.code}: ${attention.message}`);
      upgradesNeedingAttention.add(1, { kind: kindLabel, during: attention.during });
      log.warn('upgrade needs attention', { upgradeId, code: attention.code, during: attention.during });
      await setStatus('needs_attention', `Needs attention: ${attention.message}. Waiting for an operator to say whether Microsoft converted`);
      await sendNotification('upgrade_needs_attention', attentionEpisodes > 1 ? attentionEpisodes : undefined);
      await condition(() => resolution !== undefined);
      const decided = resolution!;
      step(UPGRADE_STEPS.uncertainOutcomeResolved, 'completed', `${decided.outcome} by ${decided.resolvedBy}${decided.note ? `: ${decided.note}` : ''}`);
      if (decided.outcome === 'not_converted') {
        return endUnsuccessfully('failed', {
          code: NOT_CONVERTED_CONFIRMED,
          message: `an operator confirmed at Partner Center that nothing was converted (after ${attention.code}: ${attention.message})`,
          details: { attention: state.attention },
        });
      }
      return operatorConfirmedOutcome(decided, known);
    });
  const operatorConfirmedOutcome = (decided: ConvertedResolution, known?: VendorOutcome): VendorOutcome => {
    const toSubscriptionId = decided.toSubscriptionId ?? known?.toSubscriptionId;
    return {
      // Whether Microsoft also moved the licences is not known: the seat step moves them (Graph) or asks for it.
      ...(known ?? { conversion: 'completed', licenseReassignment: 'failed', errors: [], completedAt: new Date().toISOString() }),
      ...(toSubscriptionId ? { toSubscriptionId } : {}),
    };
  };

  // 1. Validate & lock (the plan and the upgrade date are frozen here).
  let validated: ValidationOutcome;
  try {
    if (!workflowWritesRecord || !input.recordedByApi) {
      await bookkeeping.recordUpgradeAccepted.executeWithOptions({ summary: 'Record the upgrade as accepted' }, [input]);
    }
    await setStatus('validating', 'Re-checking eligibility and locking the subscriptions');
    validated = await record.validateAndLockUpgrade.executeWithOptions({ summary: 'Validate eligibility, lock subscriptions, freeze the quote' }, [input]);
  } catch (error) {
    if (isCancellation(error) && patched(PATCHES.NEEDS_ATTENTION)) return endCancelledBeforeVendor(error);
    throw error;
  }
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
  /** From the moment the request activity is scheduled, Microsoft may have started the transition. */
  let vendorRequestMayBeSent = false;
  /** While the request activity has not answered: its POST may not have left yet (it waits for its slot first). */
  let vendorRequestUnanswered = false;
  /** Asks Partner Center and follows the transition; answers its outcome, or ends the run where Microsoft said no. */
  const convertAtVendor = async (): Promise<VendorOutcome> => {
    await setStatus('awaiting_vendor', 'Requesting the transition from Partner Center', oneUpsertPerStateChange ? planAttributes : []);
    let requested: VendorRecord;
    try {
      vendorRequestMayBeSent = true;
      vendorRequestUnanswered = true;
      requested = await vendorRequest.requestVendorTransition.executeWithOptions({ summary: 'Partner Center: POST transition (stable MS-RequestId)' }, [
        upgradeId,
        input.runAttempt ?? 0,
      ]);
      vendorRequestUnanswered = false;
    } catch (error) {
      const cause = applicationCause(error);
      const unknown = cause?.type === FAILURE_TYPES.vendorOutcomeUnknown;
      const failure: UpgradeError = {
        code: cause?.type ?? 'VENDOR_REQUEST_FAILED',
        message: unknown
          ? `whether Partner Center started the transition is unknown: ${cause.message}`
          : cause?.type === FAILURE_TYPES.vendorRequestWithdrawn
            ? `not sent: a cancelled run of this attempt withdrew the request (retry the upgrade to send it): ${cause.message}`
            : `Partner Center refused the transition: ${cause?.message ?? String(error)}`,
        details: cause?.details?.[0],
      };
      if (unknown && patched(PATCHES.NEEDS_ATTENTION)) return settleByOperator({ ...failure, during: 'vendor_request' });
      if (isCancellation(error) && patched(PATCHES.NEEDS_ATTENTION)) throw error;
      return endUnsuccessfully('failed', failure);
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
      if (isCancellation(error) && patched(PATCHES.NEEDS_ATTENTION)) throw error;
      const cause = applicationCause(error);
      const failure: UpgradeError = {
        code: cause?.type === FAILURE_TYPES.vendorOutcomeUnknown ? cause.type : 'VENDOR_TRANSITION_UNREADABLE',
        message: `could not follow the vendor transition: ${cause?.message ?? String(error)}`,
        details: cause?.details?.[0],
      };
      // The request was answered: Microsoft may convert whatever became of following it.
      if (patched(PATCHES.NEEDS_ATTENTION)) return settleByOperator({ ...failure, during: 'vendor_follow' });
      return endUnsuccessfully('failed', failure);
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
    return outcome;
  };
  let converted: VendorOutcome;
  try {
    converted = await convertAtVendor();
  } catch (error) {
    if (!isCancellation(error) || !patched(PATCHES.NEEDS_ATTENTION)) throw error;
    if (!vendorRequestMayBeSent) return endCancelledBeforeVendor(error);
    // Cancelled while the request was under way: when the run decides first that it does not leave, nothing was sent.
    if (vendorRequestUnanswered && patched(PATCHES.VENDOR_REQUEST_WITHDRAWN)) {
      const withdrawn = await CancellationScope.nonCancellable(() =>
        record.withdrawVendorRequest.executeWithOptions({ summary: 'Partner Center: withdraw the transition request not yet sent' }, [
          upgradeId,
          input.runAttempt ?? 0,
        ]),
      );
      if (withdrawn) return endCancelledBeforeVendor(error, 'cancelled before the transition request left for Partner Center; nothing was sent or changed');
    }
    converted = await settleByOperator({
      code: UPGRADE_CANCELLED,
      message: 'cancelled while Partner Center may have started the transition',
      during: 'vendor_follow',
    });
  }

  /**
   * After the conversion: a final error or a cancellation stops the run in needs_attention instead of ending it
   * mid-way with its locks held; `converted` runs the steps again (each is idempotent), with the operator's
   * subscription id when one was given.
   */
  const afterConversion = async (outcome: VendorOutcome): Promise<UpgradeResult> => {
    try {
      // A cancelled run that an operator let continue finishes its steps: nothing after the conversion is rolled back.
      if (CancellationScope.current().consideredCancelled) return await CancellationScope.nonCancellable(() => applyConversion(outcome));
      return await applyConversion(outcome);
    } catch (error) {
      if (!patched(PATCHES.NEEDS_ATTENTION)) throw error;
      const cause = applicationCause(error);
      const attention = isCancellation(error)
        ? { code: UPGRADE_CANCELLED, message: 'cancelled after Partner Center completed the conversion' }
        : { code: cause?.type ?? 'ACTIVITY_FAILED', message: `a step after the conversion failed for good: ${cause?.message ?? String(error)}` };
      const resumed = await settleByOperator(
        { ...attention, ...(cause?.details?.[0] ? { details: cause.details[0] } : {}), during: 'after_conversion' },
        outcome,
      );
      return afterConversion(resumed);
    }
  };
  const applyConversion = async (outcome: VendorOutcome): Promise<UpgradeResult> => {
    // 3. From here on nothing is rolled back: the vendor has converted. Each step retries until it succeeds.
    // 4. Credit and debit invoices, each exactly once. The lean shape runs both steps as one activity (same retry
    // policy, both idempotent by the upgrade id) and records each step apart.
    let destinationSubscriptionId: string;
    let invoices: IssuedInvoices;
    if (leanShape) {
      await setStatus('applying', 'Vendor completed; applying subscription changes, then issuing the credit and debit invoices (retried until they succeed)');
      ({ destinationSubscriptionId, ...invoices } = await record.applySubscriptionChangesAndIssueInvoices.executeWithOptions(
        { summary: 'Apply subscription changes and history, then issue credit and debit invoices' },
        [upgradeId, outcome, ...claimArg],
      ));
      step(UPGRADE_STEPS.subscriptionsApplied, 'completed');
    } else {
      await setStatus('applying', 'Vendor completed; applying subscription changes (retried until they succeed)');
      ({ destinationSubscriptionId } = await record.applySubscriptionChanges.executeWithOptions({ summary: 'Apply subscription changes and history' }, [
        upgradeId,
        outcome,
        ...claimArg,
      ]));
      step(UPGRADE_STEPS.subscriptionsApplied, 'completed');
      await setStatus('invoicing', 'Issuing the credit and debit invoices (retried until they succeed)');
      invoices = await record.issueInvoices.executeWithOptions({ summary: 'Issue credit and debit invoices' }, [upgradeId, destinationSubscriptionId]);
    }
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
      bookkeeping.completeUpgrade.executeWithOptions(
        { summary: 'Release locks, record the upgrade as completed' },
        progress ? [upgradeId, held, progress, ...claimArg] : [upgradeId, held],
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
  };
  return afterConversion(converted);
}
