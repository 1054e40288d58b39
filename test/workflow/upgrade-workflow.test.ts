import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { WorkflowFailedError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { UpgradeRecordProgress } from '../../workflows/activity-contract';
import { FAILURE_TYPES } from '../../workflows/failure-types';
import {
  confirmSeatReassignmentUpdate,
  FINAL_UPGRADE_STATUSES,
  getUpgradeStateQuery,
  resolveUncertainOutcomeUpdate,
  seatReassignmentConfirmedSignal,
  type UncertainOutcomeResolution,
  UPGRADE_STEPS,
  type UpgradeState,
  type UpgradeStatus,
} from '../../workflows/messages';
import { NOT_CONVERTED_CONFIRMED, UPGRADE_CANCELLED } from '../../workflows/upgrade-workflow';
import { completedOutcome, stubActivities, vendorRecord, type StubActivities, type StubOverrides } from './support/stub-activities';
import { startUpgradeWorkflow, startWorkflowTestBed, upgradeInput, type WorkflowTestBed } from './support/workflow-env';

/**
 * Every branch of UpgradeWorkflow, on the time-skipping test server with stub activities: what it asks of its
 * activities, what it writes to the record and the search attribute, how it ends. Timers and retry backoffs of hours
 * and days pass in milliseconds. The end-to-end tests (test/integration/workflow/) run the same paths on real services.
 */
let bed: WorkflowTestBed;
// Each run takes a second or two: a workflow task failing over and over must fail its test, not stall the suite.
jest.setTimeout(20_000);

beforeAll(async () => {
  bed = await startWorkflowTestBed();
}, 60_000);

afterAll(async () => {
  await bed?.teardown();
});

const DAY_MS = 24 * 60 * 60 * 1000;
const finalStatusesSeen = new Set<UpgradeStatus>();

interface Run {
  stubs: StubActivities;
  handle: WorkflowHandle;
  /** The workflow's result, or the error it failed with. */
  outcome: { ok: true; value: unknown } | { ok: false; error: unknown };
  /** The state query's answer after the run ended (the worker still runs). */
  state: UpgradeState;
  searchAttributes: Record<string, unknown>;
}

/**
 * Runs one upgrade to its end. `overrides` may use `handleOf()` to act on the run from inside an activity, as a portal
 * reacting to a webhook would.
 */
async function runUpgrade(
  options: {
    manualSeats?: boolean;
    input?: Parameters<typeof upgradeInput>[0];
    overrides?: (handleOf: () => WorkflowHandle) => StubOverrides;
    whileRunning?: (handle: WorkflowHandle) => Promise<void>;
  } = {},
): Promise<Run> {
  const input = upgradeInput(options.input);
  const handleOf = () => bed.env.client.workflow.getHandle(input.upgradeId);
  const stubs = stubActivities({ manualSeats: options.manualSeats, overrides: options.overrides?.(handleOf) });
  return bed.withWorker(stubs.activities, async (taskQueue) => {
    const handle = await startUpgradeWorkflow(bed, taskQueue, input);
    await options.whileRunning?.(handle);
    const outcome = await handle.result().then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    const [state, description] = await Promise.all([handle.query(getUpgradeStateQuery), handle.describe()]);
    if (FINAL_UPGRADE_STATUSES.includes(state.status)) finalStatusesSeen.add(state.status);
    return { stubs, handle, outcome, state, searchAttributes: description.searchAttributes };
  });
}

/** What the workflow failed with: the ApplicationFailure it threw, or what ended it unhandled. */
function failureOf<T>(run: Run, kind: abstract new (...args: never[]) => T): T;
function failureOf(run: Run): ApplicationFailure;
function failureOf(run: Run, kind: abstract new (...args: never[]) => unknown = ApplicationFailure): unknown {
  expect(run.outcome.ok).toBe(false);
  const error = (run.outcome as { error: unknown }).error;
  expect(error).toBeInstanceOf(WorkflowFailedError);
  const cause = (error as WorkflowFailedError).cause;
  expect(cause).toBeInstanceOf(kind);
  return cause;
}

const statusesWritten = (writes: UpgradeRecordProgress[]) => writes.map((write) => write.status).filter((status, i, all) => status !== all[i - 1]);
const stepNamesWritten = (writes: UpgradeRecordProgress[]) => writes.flatMap((write) => write.steps.map((step) => step.name));
const notified = (stubs: StubActivities) => stubs.callsOf('sendUpgradeNotification').map((call) => call.args[1]);

/** Polls the run's state until it reaches `status` (the test server answers queries at once). */
async function waitForStatus(handle: WorkflowHandle, status: UpgradeStatus): Promise<void> {
  for (let polls = 0; polls < 200; polls++) {
    const state = await handle.query(getUpgradeStateQuery).catch(() => undefined);
    if (state?.status === status) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${handle.workflowId} never reached ${status}`);
}

const { EventType } = temporal.api.enums.v1;

/** Polls the run's history until the server has recorded an event of `type`. */
async function waitForEvent(handle: WorkflowHandle, type: temporal.api.enums.v1.EventType): Promise<void> {
  for (let polls = 0; polls < 200; polls++) {
    const history = await handle.fetchHistory();
    if (history.events?.some((event) => event.eventType === type)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${handle.workflowId} never recorded ${EventType[type]}`);
}

const ACTIVITY_CLOSED_EVENTS = new Set([
  EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
  EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED,
  EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
  EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED,
]);
const WORKFLOW_TASK_EVENTS = new Set([
  EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
  EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
  EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
  EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
  EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
]);

/**
 * Polls the run's history until the run is at rest: its last workflow task completed and every activity it scheduled
 * has ended, so it waits only on a timer or a condition. Cancelling or updating the run then races nothing on the
 * time-skipping test server (see the cancellation cases below).
 */
async function waitForRest(handle: WorkflowHandle): Promise<void> {
  for (let polls = 0; polls < 200; polls++) {
    const events = (await handle.fetchHistory()).events ?? [];
    const lastWorkflowTask = events.filter((event) => WORKFLOW_TASK_EVENTS.has(event.eventType!)).at(-1);
    const scheduled = events.filter((event) => event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED).map((event) => Number(event.eventId));
    const ended = new Set(
      events
        .filter((event) => ACTIVITY_CLOSED_EVENTS.has(event.eventType!))
        .map((event) =>
          Number(
            (
              event.activityTaskCompletedEventAttributes ??
              event.activityTaskFailedEventAttributes ??
              event.activityTaskTimedOutEventAttributes ??
              event.activityTaskCanceledEventAttributes
            )?.scheduledEventId,
          ),
        ),
    );
    if (lastWorkflowTask?.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED && scheduled.every((id) => ended.has(id))) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${handle.workflowId} never came to rest`);
}

/** After the activity answers, confirm the manual reassignment as a portal would on the webhook. */
const confirmSoon = (handle: WorkflowHandle, how: 'update' | 'signal', confirmedBy = 'ops@contoso.example') =>
  setImmediate(() => {
    const confirming =
      how === 'update'
        ? handle.executeUpdate(confirmSeatReassignmentUpdate, { args: [{ confirmedBy }] })
        : handle.signal(seatReassignmentConfirmedSignal, { confirmedBy });
    confirming.catch((error: unknown) => process.stderr.write(`confirmation refused: ${String(error)}\n`));
  });

/** Every step the record holds (the API wrote `accepted`) equals the query's timeline: one set of names. */
function expectRecordStepsMatchQuery(run: Run) {
  const recordSteps = [UPGRADE_STEPS.accepted, ...stepNamesWritten(run.stubs.recordWrites())];
  expect(run.state.steps.map((step) => step.name)).toEqual(recordSteps);
}

describe('failure before the conversion: the locks are released, the failure notified, nothing changed', () => {
  test('not eligible any more at validation: rejected, and Partner Center is never asked', async () => {
    const run = await runUpgrade({
      overrides: () => ({
        validateAndLockUpgrade: async () => ({ ok: false, reasons: [{ code: 'SOURCE_NOT_ACTIVE', message: 'source subscription is suspended' }] }),
      }),
    });
    const failure = failureOf(run);
    expect(failure.type).toBe(FAILURE_TYPES.upgradeRejected);
    expect(failure.message).toBe('NOT_ELIGIBLE: source subscription is suspended');
    expect(run.stubs.calls.map((call) => call.name)).toEqual(['recordUpgradeProgress', 'validateAndLockUpgrade', 'failUpgrade', 'sendUpgradeNotification']);
    const [, outcome, error] = run.stubs.callsOf('failUpgrade')[0]!.args;
    expect([outcome, error]).toEqual(['rejected', expect.objectContaining({ code: 'NOT_ELIGIBLE' })]);
    expect(statusesWritten(run.stubs.recordWrites())).toEqual(['validating', 'rejected']);
    expect(notified(run.stubs)).toEqual(['upgrade_failed']);
    expect(run.state).toMatchObject({ status: 'rejected', error: { code: 'NOT_ELIGIBLE' } });
    expect(run.searchAttributes.UpgradeStatus).toEqual(['rejected']);
    expectRecordStepsMatchQuery(run);
  });

  test("Partner Center refuses the transition: failed with the vendor's reason, at the first attempt", async () => {
    const run = await runUpgrade({
      overrides: () => ({
        requestVendorTransition: async () => {
          throw ApplicationFailure.create({
            type: FAILURE_TYPES.vendorBusinessRejection,
            message: 'Partner Center rejected the request (code 3): conflicting services',
            nonRetryable: true,
            details: [{ code: '3', description: 'conflicting services' }],
          });
        },
      }),
    });
    expect(failureOf(run).type).toBe(FAILURE_TYPES.upgradeFailed);
    expect(run.stubs.callsOf('requestVendorTransition')).toHaveLength(1);
    expect(run.stubs.callsOf('awaitVendorTransition')).toEqual([]);
    expect(run.stubs.callsOf('applySubscriptionChanges')).toEqual([]);
    const [, outcome, error] = run.stubs.callsOf('failUpgrade')[0]!.args;
    expect(outcome).toBe('failed');
    expect(error).toEqual({
      code: FAILURE_TYPES.vendorBusinessRejection,
      message: 'Partner Center refused the transition: Partner Center rejected the request (code 3): conflicting services',
      details: { code: '3', description: 'conflicting services' },
    });
    expect(statusesWritten(run.stubs.recordWrites())).toEqual(['validating', 'awaiting_vendor', 'failed']);
    expect(run.searchAttributes.UpgradeStatus).toEqual(['failed']);
    expect(notified(run.stubs)).toEqual(['upgrade_failed']);
    expectRecordStepsMatchQuery(run);
  });

  test('a failure type listed as final in workflows/failure-types.ts is not retried, even when thrown as retryable', async () => {
    const run = await runUpgrade({
      overrides: () => ({
        requestVendorTransition: async () => {
          throw ApplicationFailure.retryable('token refused', FAILURE_TYPES.vendorAuth);
        },
      }),
    });
    expect(run.stubs.callsOf('requestVendorTransition')).toHaveLength(1);
    expect(run.stubs.callsOf('failUpgrade')[0]!.args[2]).toMatchObject({ code: FAILURE_TYPES.vendorAuth });
    expect(run.state.status).toBe('failed');
  });

  test('Partner Center fails the conversion: failed with its errors, nothing applied', async () => {
    const run = await runUpgrade({
      overrides: () => ({
        awaitVendorTransition: async () => completedOutcome({ conversion: 'failed', errors: [{ code: '800002', description: 'Conversion failed' }] }),
      }),
    });
    expect(failureOf(run).message).toBe('VENDOR_TRANSITION_FAILED: Partner Center failed the conversion: 800002 Conversion failed');
    expect(run.stubs.callsOf('applySubscriptionChanges')).toEqual([]);
    expect(run.stubs.callsOf('issueInvoices')).toEqual([]);
    expect(run.state.steps.map((step) => [step.name, step.status])).toEqual([
      ['accepted', 'completed'],
      ['validated', 'completed'],
      ['vendor_transition_requested', 'completed'],
      ['vendor_transition_failed', 'failed'],
      ['failed', 'failed'],
    ]);
    expectRecordStepsMatchQuery(run);
    expect(run.stubs.recordWrites().at(-1)).toMatchObject({ status: 'failed' });
  });
});

describe('success', () => {
  test('automatic seats: every status written once, in order, by the workflow; the record ends with the query', async () => {
    const run = await runUpgrade();
    expect(run.outcome).toEqual({
      ok: true,
      value: {
        upgradeId: run.handle.workflowId,
        status: 'completed',
        destinationSubscriptionId: 'sub-source',
        invoiceIds: [`${run.handle.workflowId}:credit`, `${run.handle.workflowId}:debit`],
      },
    });
    // The API recorded the upgrade: no accept activity. One record write per status, then the ending.
    expect(run.stubs.calls.map((call) => call.name)).toEqual([
      'recordUpgradeProgress',
      'validateAndLockUpgrade',
      'recordUpgradeProgress',
      'requestVendorTransition',
      'awaitVendorTransition',
      'recordUpgradeProgress',
      // Applied and invoiced in one activity (the stub records its two steps after it); no `invoicing` write.
      'applySubscriptionChangesAndIssueInvoices',
      'applySubscriptionChanges',
      'issueInvoices',
      'recordUpgradeProgress',
      'reassignSeatsAutomatically',
      'sendUpgradeNotification',
      'recordUpgradeProgress',
      'sendUpgradeNotification',
      'completeUpgrade',
    ]);
    const writes = run.stubs.recordWrites();
    expect(writes.map((write) => write.status)).toEqual(['validating', 'awaiting_vendor', 'applying', 'reassigning_seats', 'notifying', 'completed']);
    expect(run.stubs.callsOf('completeUpgrade')[0]!.args[1]).toEqual(['sub-source']);
    expect(writes.at(-1)).toMatchObject({ seatReassignment: { mode: 'automatic', state: 'done' } });
    expect(run.state.steps.map((step) => step.name)).toEqual([
      'accepted',
      'validated',
      'vendor_transition_requested',
      'vendor_transition_completed',
      'subscriptions_applied',
      'invoices_issued',
      'seats_reassigned',
      'completed',
    ]);
    expect(run.state.steps.find((step) => step.name === 'seats_reassigned')?.detail).toBe('by Microsoft (licence transfer)');
    expectRecordStepsMatchQuery(run);
    expect(notified(run.stubs)).toEqual(['seats_reassigned_automatically', 'upgrade_completed']);
    expect(run.searchAttributes).toMatchObject({ UpgradeStatus: ['completed'], UpgradeKind: ['full'], UpgradeDestinationType: ['new'] });
  });

  test("a run the API did not record writes its accepted record first; a re-run's vendor steps carry its attempt", async () => {
    const run = await runUpgrade({ input: { recordedByApi: false, runAttempt: 1 } });
    expect(run.outcome.ok).toBe(true);
    expect(run.stubs.calls[0]!.name).toBe('recordUpgradeAccepted');
    expect(run.stubs.callsOf('requestVendorTransition')[0]!.args).toEqual([run.handle.workflowId, 1]);
    expect(run.state.steps.map((step) => step.name)).toEqual(expect.arrayContaining(['vendor_transition_requested_1', 'vendor_transition_completed_1']));
    expectRecordStepsMatchQuery(run);
  });

  test('transient Partner Center errors are retried with backoff until the transition is requested', async () => {
    let failuresLeft = 2;
    const run = await runUpgrade({
      overrides: () => ({
        requestVendorTransition: async (upgradeId, runAttempt) => {
          if (failuresLeft-- > 0) throw ApplicationFailure.retryable('HTTP 503', FAILURE_TYPES.vendorUnavailable);
          return vendorRecord(upgradeId, runAttempt);
        },
      }),
    });
    expect(run.outcome.ok).toBe(true);
    expect(run.stubs.callsOf('requestVendorTransition').map((call) => call.attempt)).toEqual([1, 2, 3]);
  });

  test('an undeliverable notification stays in the outbox and does not fail the upgrade', async () => {
    const run = await runUpgrade({
      overrides: () => ({
        sendUpgradeNotification: async () => {
          throw ApplicationFailure.retryable('webhook answered HTTP 503', FAILURE_TYPES.webhookDeliveryFailed);
        },
      }),
    });
    expect(run.outcome.ok).toBe(true);
    // 10 attempts each, over about an hour of backoff, then kept as undeliverable.
    expect(run.stubs.callsOf('sendUpgradeNotification')).toHaveLength(20);
    expect(run.stubs.callsOf('markNotificationUndeliverable').map((call) => call.args[1])).toEqual(['seats_reassigned_automatically', 'upgrade_completed']);
  });
});

describe('manual seat reassignment', () => {
  test('automatic reassignment keeps failing: after its retries the workflow falls back to manual, confirmed by update', async () => {
    const run = await runUpgrade({
      overrides: (handleOf) => ({
        reassignSeatsAutomatically: async () => {
          throw ApplicationFailure.retryable('no free seats of the target SKU', FAILURE_TYPES.licenseShortage);
        },
        sendUpgradeNotification: async (_upgradeId, event) => {
          if (event === 'manual_seat_reassignment_required') confirmSoon(handleOf(), 'update');
          return 'delivered';
        },
      }),
    });
    expect(run.outcome.ok).toBe(true);
    expect(run.stubs.callsOf('reassignSeatsAutomatically')).toHaveLength(5);
    expect(statusesWritten(run.stubs.recordWrites())).toEqual([
      'validating',
      'awaiting_vendor',
      'applying',
      'reassigning_seats',
      'awaiting_manual_seat_reassignment',
      'notifying',
      'completed',
    ]);
    expect(run.state.seatReassignment).toMatchObject({
      mode: 'manual',
      state: 'confirmed',
      confirmedBy: 'ops@contoso.example',
      reason: 'automatic reassignment kept failing: no free seats of the target SKU',
    });
    expect(notified(run.stubs)).toEqual(['manual_seat_reassignment_required', 'upgrade_completed']);
    expect(run.stubs.recordWrites().at(-1)?.seatReassignment).toMatchObject({ state: 'confirmed' });
    expectRecordStepsMatchQuery(run);
  });

  test('confirmed by the signal (tools that can only signal); an update while nothing waits is refused', async () => {
    let earlyConfirmation: unknown;
    const run = await runUpgrade({
      manualSeats: true,
      overrides: (handleOf) => ({
        awaitVendorTransition: async () => {
          earlyConfirmation = await handleOf()
            .executeUpdate(confirmSeatReassignmentUpdate, { args: [{ confirmedBy: 'too-early' }] })
            .catch((error: unknown) => error);
          return completedOutcome({ licenseReassignment: 'not_requested', toSubscriptionId: 'vendor-new-1' });
        },
        sendUpgradeNotification: async (_upgradeId, event) => {
          if (event === 'manual_seat_reassignment_required') confirmSoon(handleOf(), 'signal', 'cli-operator');
          return 'delivered';
        },
      }),
    });
    expect(earlyConfirmation).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(run.outcome.ok).toBe(true);
    expect(run.stubs.callsOf('reassignSeatsAutomatically')).toEqual([]);
    expect(run.state.seatReassignment).toMatchObject({ mode: 'manual', state: 'confirmed', confirmedBy: 'cli-operator', remindersSent: 0 });
    expect(run.state.steps.find((step) => step.name === 'seats_reassigned')?.detail).toBe('manually, confirmed by cli-operator');
    expect(run.stubs.callsOf('completeUpgrade')[0]!.args[1]).toEqual(['sub-source', `sub-new-${run.handle.workflowId}`]);
    expectRecordStepsMatchQuery(run);
  });

  test('nobody confirms: a reminder every 24 h, one escalation at 7 days, each written to the record', async () => {
    const run = await runUpgrade({
      manualSeats: true,
      overrides: (handleOf) => ({
        sendUpgradeNotification: async (_upgradeId, event, sequence) => {
          if (event === 'manual_seat_reassignment_reminder' && sequence === 9) confirmSoon(handleOf(), 'update');
          return 'delivered';
        },
      }),
    });
    expect(run.outcome.ok).toBe(true);
    const notifications = run.stubs.callsOf('sendUpgradeNotification');
    const required = notifications.find((call) => call.args[1] === 'manual_seat_reassignment_required')!;
    const daysAfterRequired = (event: string) =>
      notifications.filter((call) => call.args[1] === event).map((call) => Math.round(((call.atMs - required.atMs) / DAY_MS) * 100) / 100);
    expect(daysAfterRequired('manual_seat_reassignment_reminder')).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(notifications.filter((call) => call.args[1] === 'manual_seat_reassignment_reminder').map((call) => call.args[2])).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9,
    ]);
    expect(daysAfterRequired('manual_seat_reassignment_escalated')).toEqual([7]);
    // Each reminder's seat state reaches the record while the status stays.
    const waiting = run.stubs.recordWrites().filter((write) => write.status === 'awaiting_manual_seat_reassignment');
    expect(waiting.map((write) => [write.seatReassignment?.remindersSent, write.seatReassignment?.escalated])).toEqual([
      [0, false],
      [1, false],
      [2, false],
      [3, false],
      [4, false],
      [5, false],
      [6, false],
      [7, true],
      [8, true],
      [9, true],
    ]);
    expect(run.state.seatReassignment).toMatchObject({ state: 'confirmed', remindersSent: 9, escalated: true });
    expect(run.state.currentDetails).toMatch(/^Completed/);
  });
});

/** Resolves the uncertain outcome as an operator would once the needs-attention webhook arrives. */
const resolveOnAttention =
  (handleOf: () => WorkflowHandle, ...decisions: UncertainOutcomeResolution[]): StubOverrides['sendUpgradeNotification'] =>
  async (_upgradeId, event) => {
    if (event === 'upgrade_needs_attention') {
      const decision = decisions.shift()!;
      setImmediate(() => {
        handleOf()
          .executeUpdate(resolveUncertainOutcomeUpdate, { args: [decision] })
          .catch((error: unknown) => process.stderr.write(`resolution refused: ${String(error)}\n`));
      });
    }
    return 'delivered';
  };
const outcomeUnknown = (message: string) =>
  ApplicationFailure.create({ type: FAILURE_TYPES.vendorOutcomeUnknown, message, nonRetryable: true, details: [{ reason: 'lost_answer', requestId: 'r-1' }] });

describe('whether Microsoft converted is unknown: needs_attention with the locks kept, until an operator decides', () => {
  test('the request\'s answer was lost: needs_attention, the webhook, then "converted" continues with invoices and the given subscription id', async () => {
    const run = await runUpgrade({
      manualSeats: true,
      overrides: (handleOf) => ({
        requestVendorTransition: async () => {
          throw outcomeUnknown('Partner Center shows no transition for the lost answer');
        },
        sendUpgradeNotification: resolveOnAttention(handleOf, {
          outcome: 'converted',
          resolvedBy: 'ops-key',
          toSubscriptionId: 'vendor-new-9',
          note: 'seen in Partner Center',
        }),
        applySubscriptionChanges: async (upgradeId, outcome) => {
          expect(outcome.toSubscriptionId).toBe('vendor-new-9');
          return { destinationSubscriptionId: `sub-new-${upgradeId}` };
        },
      }),
      whileRunning: async (handle) => {
        await waitForStatus(handle, 'awaiting_manual_seat_reassignment');
        await handle.executeUpdate(confirmSeatReassignmentUpdate, { args: [{ confirmedBy: 'ops@contoso.example' }] });
      },
    });
    expect(run.outcome.ok).toBe(true);
    expect(run.stubs.callsOf('requestVendorTransition')).toHaveLength(1);
    expect(run.stubs.callsOf('awaitVendorTransition')).toEqual([]);
    expect(run.stubs.callsOf('failUpgrade')).toEqual([]);
    expect(run.stubs.callsOf('issueInvoices')).toHaveLength(1);
    expect(run.stubs.callsOf('completeUpgrade')).toHaveLength(1);
    expect(notified(run.stubs)).toEqual(['upgrade_needs_attention', 'manual_seat_reassignment_required', 'upgrade_completed']);
    const writes = run.stubs.recordWrites();
    expect(statusesWritten(writes)).toEqual([
      'validating',
      'awaiting_vendor',
      'needs_attention',
      'applying',
      'awaiting_manual_seat_reassignment',
      'notifying',
      'completed',
    ]);
    expect(writes.find((write) => write.status === 'needs_attention')?.attention).toMatchObject({
      code: FAILURE_TYPES.vendorOutcomeUnknown,
      during: 'vendor_request',
      details: { reason: 'lost_answer' },
    });
    expect(run.state.attention).toMatchObject({ resolution: { outcome: 'converted', resolvedBy: 'ops-key', toSubscriptionId: 'vendor-new-9' } });
    expect(run.state.steps.map((step) => step.name)).toEqual(
      expect.arrayContaining(['needs_attention', 'uncertain_outcome_resolved', 'subscriptions_applied', 'invoices_issued']),
    );
    // Microsoft may or may not have moved the licences: the seat step decides, never "done by Microsoft" on faith.
    expect(run.stubs.callsOf('applySubscriptionChanges')[0]!.args[1]).toMatchObject({ conversion: 'completed', licenseReassignment: 'failed' });
    expectRecordStepsMatchQuery(run);
  });

  test('following the transition fails for good: needs_attention; "not_converted" ends failed, locks released, and only then "nothing changed"', async () => {
    const run = await runUpgrade({
      overrides: (handleOf) => ({
        awaitVendorTransition: async () => {
          throw ApplicationFailure.nonRetryable('Partner Center answered 404 twice', FAILURE_TYPES.vendorTransitionMissing);
        },
        sendUpgradeNotification: resolveOnAttention(handleOf, { outcome: 'not_converted', resolvedBy: 'ops-key' }),
      }),
    });
    expect(failureOf(run).type).toBe(FAILURE_TYPES.upgradeFailed);
    expect(run.stubs.callsOf('applySubscriptionChanges')).toEqual([]);
    const [, outcome, error] = run.stubs.callsOf('failUpgrade')[0]!.args;
    expect(outcome).toBe('failed');
    expect(error).toMatchObject({ code: NOT_CONVERTED_CONFIRMED, message: expect.stringContaining('VENDOR_TRANSITION_UNREADABLE') });
    expect(notified(run.stubs)).toEqual(['upgrade_needs_attention', 'upgrade_failed']);
    expect(statusesWritten(run.stubs.recordWrites())).toEqual(['validating', 'awaiting_vendor', 'needs_attention', 'failed']);
    expect(run.searchAttributes.UpgradeStatus).toEqual(['failed']);
    expect(run.state.steps.map((step) => step.name)).toEqual([
      'accepted',
      'validated',
      'vendor_transition_requested',
      'needs_attention',
      'uncertain_outcome_resolved',
      'failed',
    ]);
    expectRecordStepsMatchQuery(run);
  });

  test('while it waits: the search attribute says needs_attention, nothing is released, and a resolution outside it is refused', async () => {
    const run = await runUpgrade({
      overrides: () => ({
        awaitVendorTransition: async () => {
          throw outcomeUnknown('Partner Center reports the conversion as "Paused"');
        },
      }),
      whileRunning: async (handle) => {
        await waitForStatus(handle, 'needs_attention');
        const description = await handle.describe();
        expect(description.searchAttributes.UpgradeStatus).toEqual(['needs_attention']);
        // Days pass: the run keeps waiting with its locks.
        await bed.env.sleep(30 * DAY_MS);
        expect((await handle.query(getUpgradeStateQuery)).status).toBe('needs_attention');
        const invalid = handle.executeUpdate(resolveUncertainOutcomeUpdate, { args: [{ outcome: 'maybe', resolvedBy: 'ops' } as never] });
        await expect(invalid).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
        await handle.executeUpdate(resolveUncertainOutcomeUpdate, { args: [{ outcome: 'not_converted', resolvedBy: 'ops' }] });
        const again = handle.executeUpdate(resolveUncertainOutcomeUpdate, { args: [{ outcome: 'converted', resolvedBy: 'ops' }] });
        await expect(again).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
      },
    });
    expect(failureOf(run).type).toBe(FAILURE_TYPES.upgradeFailed);
    expect(run.stubs.callsOf('failUpgrade')).toHaveLength(1);
  });

  test('a resolution while the upgrade runs normally is refused', async () => {
    const run = await runUpgrade({
      manualSeats: true,
      whileRunning: async (handle) => {
        await waitForStatus(handle, 'awaiting_manual_seat_reassignment');
        const refused = handle.executeUpdate(resolveUncertainOutcomeUpdate, { args: [{ outcome: 'not_converted', resolvedBy: 'ops' }] });
        await expect(refused).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
        await handle.executeUpdate(confirmSeatReassignmentUpdate, { args: [{ confirmedBy: 'ops' }] });
      },
    });
    expect(run.outcome.ok).toBe(true);
    expect(run.stubs.callsOf('failUpgrade')).toEqual([]);
  });

  test('a final error after the conversion (no new subscription id): needs_attention, then "converted" with the id re-applies and completes', async () => {
    let applied = 0;
    const run = await runUpgrade({
      overrides: (handleOf) => ({
        applySubscriptionChanges: async (upgradeId, outcome) => {
          applied += 1;
          if (!outcome.toSubscriptionId) {
            throw ApplicationFailure.nonRetryable(
              'the vendor completed a partial upgrade without the new subscription id',
              FAILURE_TYPES.vendorResponseInvalid,
            );
          }
          return { destinationSubscriptionId: `sub-new-${upgradeId}` };
        },
        sendUpgradeNotification: resolveOnAttention(handleOf, { outcome: 'converted', resolvedBy: 'ops-key', toSubscriptionId: 'vendor-new-3' }),
      }),
    });
    expect(run.outcome.ok).toBe(true);
    expect(applied).toBe(2);
    // The outcome Microsoft reported is kept (its licence transfer completed); only the missing id is the operator's.
    expect(run.stubs.callsOf('applySubscriptionChanges')[1]!.args[1]).toMatchObject({ licenseReassignment: 'completed', toSubscriptionId: 'vendor-new-3' });
    expect(run.stubs.callsOf('failUpgrade')).toEqual([]);
    expect(statusesWritten(run.stubs.recordWrites())).toEqual([
      'validating',
      'awaiting_vendor',
      'applying',
      'needs_attention',
      'applying',
      'reassigning_seats',
      'notifying',
      'completed',
    ]);
    expect(run.state.attention).toMatchObject({ code: FAILURE_TYPES.vendorResponseInvalid, during: 'after_conversion' });
  });
});

describe('cancellation (temporal workflow cancel)', () => {
  /*
   * The time-skipping test server refuses a workflow task completion that cancels an activity whose own completion
   * arrived while that task ran (FAILED_PRECONDITION "ACTIVITY_UNKNOWN for scheduledEventId=…") and then leaves the
   * task started for good: no WorkflowTaskTimedOut, no retry, the run hangs. Temporal's server accepts that cancel
   * (the activity's result is buffered) and the workflow must cancel what is in flight, so each case below cancels the
   * run only where no activity can finish during the cancelling task: while the activity waits for the server to
   * record the cancellation, or while the run is at rest on its reminder timer with time skipping locked.
   */

  /** An activity during which the run is cancelled; the workflow does not wait for it (TRY_CANCEL) and ignores its late answer. */
  const cancelledDuring =
    <T>(handleOf: () => WorkflowHandle, lateAnswer: T) =>
    async () => {
      await handleOf().cancel();
      // Answers only once the workflow's cancel of this activity is in the history (a wait on wall-clock time raced it).
      await waitForEvent(handleOf(), EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED);
      return lateAnswer;
    };

  test('before Partner Center is asked: locks released, failed with the reason, the run ends cancelled', async () => {
    const run = await runUpgrade({
      overrides: (handleOf) => ({
        validateAndLockUpgrade: cancelledDuring(handleOf, { ok: false as const, reasons: [] }),
      }),
    });
    failureOf(run, CancelledFailure);
    expect(run.stubs.callsOf('requestVendorTransition')).toEqual([]);
    const [, outcome, error] = run.stubs.callsOf('failUpgrade')[0]!.args;
    expect([outcome, error]).toEqual(['failed', expect.objectContaining({ code: UPGRADE_CANCELLED })]);
    expect(run.stubs.recordWrites().at(-1)?.status).toBe('failed');
    expect(run.searchAttributes.UpgradeStatus).toEqual(['failed']);
    expect(notified(run.stubs)).toEqual(['upgrade_failed']);
  });

  test('while the request waits for its slot, withdrawn before it left: locks released, failed with the reason, no needs_attention', async () => {
    const run = await runUpgrade({
      overrides: (handleOf) => ({
        requestVendorTransition: cancelledDuring(handleOf, vendorRecord('late', 0)),
      }),
    });
    failureOf(run, CancelledFailure);
    expect(run.stubs.callsOf('withdrawVendorRequest').map((call) => call.args)).toEqual([[run.handle.workflowId, 0]]);
    expect(run.stubs.callsOf('awaitVendorTransition')).toEqual([]);
    const [, outcome, error] = run.stubs.callsOf('failUpgrade')[0]!.args;
    expect([outcome, error]).toEqual(['failed', expect.objectContaining({ code: UPGRADE_CANCELLED, message: expect.stringContaining('nothing was sent') })]);
    expect(statusesWritten(run.stubs.recordWrites())).not.toContain('needs_attention');
    expect(run.searchAttributes.UpgradeStatus).toEqual(['failed']);
    expect(notified(run.stubs)).toEqual(['upgrade_failed']);
  });

  test('while the request is under way, after the activity decided to send: needs_attention; "not_converted" releases the locks', async () => {
    const run = await runUpgrade({
      overrides: (handleOf) => ({
        requestVendorTransition: cancelledDuring(handleOf, vendorRecord('late', 0)),
        withdrawVendorRequest: async () => false,
        sendUpgradeNotification: resolveOnAttention(handleOf, { outcome: 'not_converted', resolvedBy: 'ops-key' }),
      }),
    });
    expect(failureOf(run).type).toBe(FAILURE_TYPES.upgradeFailed);
    expect(run.stubs.callsOf('withdrawVendorRequest')).toHaveLength(1);
    expect(run.state.attention).toMatchObject({ code: UPGRADE_CANCELLED, during: 'vendor_follow', resolution: { outcome: 'not_converted' } });
    expect(notified(run.stubs)).toEqual(['upgrade_needs_attention', 'upgrade_failed']);
  });

  test('while following the transition: needs_attention with the locks kept; "not_converted" releases them', async () => {
    const run = await runUpgrade({
      overrides: (handleOf) => ({
        awaitVendorTransition: cancelledDuring(handleOf, completedOutcome()),
        sendUpgradeNotification: resolveOnAttention(handleOf, { outcome: 'not_converted', resolvedBy: 'ops-key' }),
      }),
    });
    expect(failureOf(run).type).toBe(FAILURE_TYPES.upgradeFailed);
    expect(run.state.attention).toMatchObject({ code: UPGRADE_CANCELLED, during: 'vendor_follow', resolution: { outcome: 'not_converted' } });
    expect(run.stubs.callsOf('failUpgrade')[0]!.args[2]).toMatchObject({ code: NOT_CONVERTED_CONFIRMED });
    expect(notified(run.stubs)).toEqual(['upgrade_needs_attention', 'upgrade_failed']);
  });

  test('after the conversion (waiting for manual seats): needs_attention; "converted" finishes every step despite the cancellation', async () => {
    const run = await runUpgrade({
      manualSeats: true,
      // Outside `result()` time skipping is locked: the 24 h reminder timer does not fire. Each message reaches the run at
      // rest; an update while an activity finishes can also leave the test server a history the SDK cannot replay.
      whileRunning: async (handle) => {
        await waitForStatus(handle, 'awaiting_manual_seat_reassignment');
        await waitForRest(handle);
        await handle.cancel();
        await waitForStatus(handle, 'needs_attention');
        await waitForRest(handle);
        await handle.executeUpdate(resolveUncertainOutcomeUpdate, { args: [{ outcome: 'converted', resolvedBy: 'ops-key' }] });
        await waitForStatus(handle, 'awaiting_manual_seat_reassignment');
        await waitForRest(handle);
        await handle.executeUpdate(confirmSeatReassignmentUpdate, { args: [{ confirmedBy: 'ops@contoso.example' }] });
      },
    });
    expect(run.outcome.ok).toBe(true);
    expect(run.state.attention).toMatchObject({ code: UPGRADE_CANCELLED, during: 'after_conversion', resolution: { outcome: 'converted' } });
    expect(run.stubs.callsOf('failUpgrade')).toEqual([]);
    expect(run.stubs.callsOf('completeUpgrade')).toHaveLength(1);
    // Each step after the conversion ran again (all idempotent): one vendor transition, the same invoice ids.
    expect(run.stubs.callsOf('requestVendorTransition')).toHaveLength(1);
    expect(run.stubs.callsOf('issueInvoices')).toHaveLength(2);
    expect(notified(run.stubs)).toEqual([
      'manual_seat_reassignment_required',
      'upgrade_needs_attention',
      'manual_seat_reassignment_required',
      'upgrade_completed',
    ]);
    expect(statusesWritten(run.stubs.recordWrites())).toEqual([
      'validating',
      'awaiting_vendor',
      'applying',
      'awaiting_manual_seat_reassignment',
      'needs_attention',
      'applying',
      'awaiting_manual_seat_reassignment',
      'notifying',
      'completed',
    ]);
    expect(run.searchAttributes.UpgradeStatus).toEqual(['completed']);
    // Three waits for rest polled through the history: 1–2 s alone, up to 11 s in 50 runs at a load average of 12.
  }, 40_000);
});

test('every final status the workflow can end in was reached above', () => {
  expect([...finalStatusesSeen].sort()).toEqual([...FINAL_UPGRADE_STATUSES].sort());
});
