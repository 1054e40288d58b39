import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { bundleWorkflowCode, DefaultLogger, type WorkflowBundle } from '@temporalio/worker';
import { quietReplayRuntime, replayHistories, replayHistory } from '../../src/cli/commands/replay';
import { upgradeIdOfHistory, type History } from '../../src/cli/commands/history';
import { WORKFLOWS_PATH } from '../../src/worker-factory';
import { PATCHES } from '../../workflows/upgrade-workflow';

/**
 * Every released shape of UpgradeWorkflow, recorded from real runs by `npm run record-histories`, must replay against
 * the current workflow code: a change to the command sequence without `patched()` fails here before it can strand
 * running upgrades in production.
 */
const HISTORIES_DIR = join(__dirname, 'histories');
const EXPECTED_SHAPES = [
  'full-to-new',
  'partial-to-new-manual-seats',
  'full-to-existing',
  'partial-to-existing',
  'installments-p1y-monthly',
  'vendor-rejected',
  'retry-after-vendor-rejection',
  'eligibility-rejected-at-execution',
];

/** Shapes that exist only since PATCHES.NEEDS_ATTENTION (no older release to keep). */
const NEEDS_ATTENTION_SHAPES = ['needs-attention-resolved-converted', 'needs-attention-resolved-not-converted', 'cancelled-while-following'];

/**
 * ScheduledUpgradeWorkflow's shapes (recorded on the time-skipping test server by
 * `RECORD_SCHEDULED_HISTORIES=1 npx jest test/workflow/scheduled-upgrade-workflow.test.ts --selectProjects workflow`):
 * handed over to an UpgradeWorkflow on its day, rejected on its day, cancelled before it.
 */
const SCHEDULED_SHAPES = [
  'scheduled-on-date-started',
  'scheduled-on-date-rejected',
  'scheduled-on-date-cancelled',
  'scheduled-at-renewal-renewed',
  'scheduled-at-renewal-rejected',
  'scheduled-at-renewal-cancelled',
  'scheduled-at-renewal-replaced',
];

/**
 * `<shape>.v1.json`: recorded before PATCHES.ONE_UPSERT_PER_STATE_CHANGE; `<shape>.v2.json`: before
 * PATCHES.WORKFLOW_WRITES_THE_RECORD; `<shape>.v3.json`: before PATCHES.LEAN_SHAPE (the needs-attention shapes
 * too); `<shape>.json`: the current shape.
 */
const RELEASES = ['v1', 'v2'];
const BEFORE_LEAN_SHAPE = 'v3';
const recorded: Array<{ name: string; workflowId: string; history: History }> = readdirSync(HISTORIES_DIR)
  .filter((file) => file.endsWith('.json'))
  .sort()
  .map((file) => {
    const history = historyFromJSON(JSON.parse(readFileSync(join(HISTORIES_DIR, file), 'utf8')));
    return { name: file.replace(/\.json$/, ''), workflowId: upgradeIdOfHistory(history) ?? file, history };
  });

let current: WorkflowBundle;
let nondeterministic: WorkflowBundle;

beforeAll(async () => {
  quietReplayRuntime();
  const logger = new DefaultLogger('ERROR');
  [current, nondeterministic] = await Promise.all([
    bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger }),
    bundleWorkflowCode({ workflowsPath: require.resolve('./fixtures/nondeterministic-workflows'), logger }),
  ]);
}, 60_000);

test('a history is recorded for every upgrade kind and failure path, before and after each patch', () => {
  const released = [
    ...RELEASES.flatMap((release) => EXPECTED_SHAPES.map((name) => `${name}.${release}`)),
    ...[...EXPECTED_SHAPES, ...NEEDS_ATTENTION_SHAPES].map((name) => `${name}.${BEFORE_LEAN_SHAPE}`),
  ];
  expect(recorded.map((entry) => entry.name)).toEqual(
    expect.arrayContaining([...EXPECTED_SHAPES, ...released, ...SCHEDULED_SHAPES, ...NEEDS_ATTENTION_SHAPES]),
  );
  for (const entry of recorded) {
    expect(entry.workflowId).toMatch(/^upg_/);
    const types = entry.history.events!.map((event) => String(event.eventType));
    expect(types[0]).toMatch(/WORKFLOW_EXECUTION_STARTED|^1$/);
  }
});

test('every recorded history replays deterministically against the current workflow code', async () => {
  const outcomes = await replayHistories(recorded, { workflowBundle: current });
  const problems = outcomes.filter((outcome) => !outcome.ok).map((outcome) => `${outcome.workflowId}: ${outcome.ok ? '' : outcome.problem.explanation}`);
  expect(problems).toEqual([]);
  expect(outcomes).toHaveLength(recorded.length);
});

test('a deliberate non-deterministic change (a timer before the first activity) is caught and named', async () => {
  const fullToNew = recorded.find((entry) => entry.name === 'full-to-new.v2')!;
  const outcome = await replayHistory(fullToNew.history, fullToNew.workflowId, { workflowBundle: nondeterministic });
  expect(outcome.ok).toBe(false);
  if (outcome.ok) return;
  expect(outcome.errorName).toBe('DeterminismViolationError');
  expect(outcome.problem.eventId).toBe(5);
  expect(outcome.problem.recorded).toBe('ActivityTaskScheduled (activity recordUpgradeAccepted: "Record the upgrade as accepted")');
  expect(outcome.problem.codeDid).toMatch(/started a timer/);
  expect(outcome.problem.explanation).toContain('patched()');

  // Every history is affected, and the batch replay reports each one.
  const all = await replayHistories(recorded, { workflowBundle: nondeterministic });
  expect(all.filter((result) => !result.ok)).toHaveLength(recorded.length);
});

/** The search attribute upserts of a history, as "Key=value" lists, and its patch markers. */
function upsertsAndPatches(history: History): { upserts: string[][]; patches: string[] } {
  const upserts: string[][] = [];
  const patches: string[] = [];
  for (const event of history.events ?? []) {
    const fields = event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields;
    if (fields)
      upserts.push(
        Object.entries(fields)
          .map(([key, payload]) => `${key}=${Buffer.from(payload.data!).toString('utf8')}`)
          .sort(),
      );
    const patchData = event.markerRecordedEventAttributes?.details?.['patch-data']?.payloads?.[0]?.data;
    if (patchData) patches.push(JSON.parse(Buffer.from(patchData).toString('utf8')).id);
  }
  return { upserts, patches };
}

test('ONE_UPSERT_PER_STATE_CHANGE: the kind rides on the awaiting_vendor upsert, which happens once; older runs keep their shape', () => {
  const shape = (name: string) => upsertsAndPatches(recorded.find((entry) => entry.name === name)!.history);
  const awaitingVendor = (upserts: string[][]) => upserts.filter((fields) => fields.includes('UpgradeStatus="awaiting_vendor"'));

  const before = shape('full-to-new.v1');
  expect(before.patches).toEqual([]);
  expect(awaitingVendor(before.upserts)).toEqual([['UpgradeStatus="awaiting_vendor"'], ['UpgradeStatus="awaiting_vendor"']]);
  expect(before.upserts).toContainEqual(['UpgradeDestinationType="new"', 'UpgradeKind="full"']);

  const after = shape('full-to-new.v2');
  expect(after.patches).toEqual([PATCHES.ONE_UPSERT_PER_STATE_CHANGE]);
  expect(awaitingVendor(after.upserts)).toEqual([['UpgradeDestinationType="new"', 'UpgradeKind="full"', 'UpgradeStatus="awaiting_vendor"']]);
  // The SDK records the patch in TemporalChangeVersion (one upsert per patch): 9 upserts → 7 of ours + 1.
  expect(before.upserts).toHaveLength(9);
  expect(after.upserts).toHaveLength(8);
  for (const name of EXPECTED_SHAPES) {
    const { upserts } = shape(name);
    const statuses = upserts.flatMap((fields) => fields.filter((field) => field.startsWith('UpgradeStatus=')));
    expect(statuses.filter((status, index) => status === statuses[index - 1])).toEqual([]);
  }
});

/** The activities a history scheduled and the local activities it ran, in order, by type. */
function activitiesOf(history: History): { scheduled: string[]; local: string[] } {
  const scheduled: string[] = [];
  const local: string[] = [];
  for (const event of history.events ?? []) {
    const type = event.activityTaskScheduledEventAttributes?.activityType?.name;
    if (type) scheduled.push(type);
    const marker = event.markerRecordedEventAttributes;
    const data = marker?.markerName === 'core_local_activity' ? marker.details?.data?.payloads?.[0]?.data : undefined;
    if (data) local.push(JSON.parse(Buffer.from(data).toString('utf8')).activity_type);
  }
  return { scheduled, local };
}

const nonFinalStatusUpserts = (history: History) =>
  upsertsAndPatches(history)
    .upserts.flatMap((fields) => fields.filter((field) => field.startsWith('UpgradeStatus=')))
    .filter((field) => !/"(completed|failed|rejected)"/.test(field));

test('WORKFLOW_WRITES_THE_RECORD: the workflow writes the record at each status change; API runs skip the accept activity', () => {
  const history = (name: string) => recorded.find((entry) => entry.name === name)!.history;

  // One patch: ONE_UPSERT_PER_STATE_CHANGE's behaviour is implied, not asked for (each patch costs an upsert).
  for (const name of EXPECTED_SHAPES) {
    expect([name, upsertsAndPatches(history(`${name}.v3`)).patches]).toEqual([name, [PATCHES.WORKFLOW_WRITES_THE_RECORD]]);
  }
  for (const name of EXPECTED_SHAPES) expect(upsertsAndPatches(history(`${name}.v2`)).patches).not.toContain(PATCHES.WORKFLOW_WRITES_THE_RECORD);

  // Before: the accept activity even for a run the API recorded, and the seat state by its own activity.
  const before = activitiesOf(history('full-to-new.v2'));
  expect(before.scheduled[0]).toBe('recordUpgradeAccepted');
  expect(before.scheduled).toContain('recordSeatReassignmentState');
  expect(before.local).toEqual([]);
  // After: neither; the record follows each status change through a local activity, the ending activity writes the end.
  const after = activitiesOf(history('full-to-new.v3'));
  expect(after.scheduled).not.toContain('recordUpgradeAccepted');
  expect(after.scheduled).not.toContain('recordSeatReassignmentState');
  expect(after.scheduled).toHaveLength(before.scheduled.length - 2);
  const nonFinalStatuses = nonFinalStatusUpserts(history('full-to-new.v3'));
  expect(nonFinalStatuses).toEqual(
    ['validating', 'awaiting_vendor', 'applying', 'invoicing', 'reassigning_seats', 'notifying'].map((s) => `UpgradeStatus="${s}"`),
  );
  expect(after.local).toEqual(nonFinalStatuses.map(() => 'recordUpgradeProgress'));

  // A run the API did not record (the operator's retry, started without recordedByApi) still writes the accepted record.
  expect(activitiesOf(history('retry-after-vendor-rejection.v3')).scheduled[0]).toBe('recordUpgradeAccepted');
  // The manual shape writes each reminder's seat state with the same local activity.
  const manualHistory = history('partial-to-new-manual-seats.v3');
  const manual = activitiesOf(manualHistory);
  expect(manual.scheduled).not.toContain('recordSeatReassignmentState');
  const reminders = (manualHistory.events ?? []).filter((event) =>
    Buffer.from(event.userMetadata?.summary?.data ?? [])
      .toString('utf8')
      .startsWith('"Notify: manual_seat_reassignment_reminder'),
  ).length;
  expect(reminders).toBeGreaterThan(0);
  expect(manual.local).toHaveLength(nonFinalStatusUpserts(manualHistory).length + reminders);
  expect(activitiesOf(history('partial-to-new-manual-seats.v2')).scheduled).toContain('recordSeatReassignmentState');
});

test('NEEDS_ATTENTION: asked only where an unknown outcome or a cancellation starts the new branch; the run waits in needs_attention for the operator', () => {
  const history = (name: string) => recorded.find((entry) => entry.name === name)!.history;
  // Runs that never meet an unknown outcome carry no marker: their shape is the one recorded before the patch.
  for (const name of EXPECTED_SHAPES) expect(upsertsAndPatches(history(name)).patches).not.toContain(PATCHES.NEEDS_ATTENTION);
  const statusesOf = (name: string) =>
    upsertsAndPatches(history(name)).upserts.flatMap((fields) => fields.filter((field) => field.startsWith('UpgradeStatus=')));
  const endOf = (name: string) => String(history(name).events!.at(-1)!.eventType);
  for (const name of NEEDS_ATTENTION_SHAPES) {
    expect([name, upsertsAndPatches(history(name)).patches]).toEqual([name, [PATCHES.LEAN_SHAPE, PATCHES.NEEDS_ATTENTION]]);
    expect(upsertsAndPatches(history(`${name}.v3`)).patches).toEqual([PATCHES.WORKFLOW_WRITES_THE_RECORD, PATCHES.NEEDS_ATTENTION]);
    expect(statusesOf(name)).toContain('UpgradeStatus="needs_attention"');
    // The operator's decision arrives as an accepted update.
    expect(
      history(name).events!.some((event) => event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === 'resolveUncertainOutcome'),
    ).toBe(true);
  }
  expect(statusesOf('needs-attention-resolved-converted').slice(-3)).toEqual([
    'UpgradeStatus="awaiting_manual_seat_reassignment"',
    'UpgradeStatus="notifying"',
    'UpgradeStatus="completed"',
  ]);
  expect(endOf('needs-attention-resolved-converted')).toMatch(/COMPLETED|^2$/);
  for (const name of ['needs-attention-resolved-not-converted', 'cancelled-while-following']) {
    expect(statusesOf(name).slice(-2)).toEqual(['UpgradeStatus="needs_attention"', 'UpgradeStatus="failed"']);
    expect(activitiesOf(history(name)).local).toContain('failUpgrade');
    expect(activitiesOf(history(`${name}.v3`)).scheduled).toContain('failUpgrade');
  }
  expect(history('cancelled-while-following').events!.some((event) => event.workflowExecutionCancelRequestedEventAttributes)).toBe(true);
});

test('VENDOR_REQUEST_WITHDRAWN: a run cancelled while its request waited for its slot withdraws it and ends failed, never in needs_attention', () => {
  const history = (name: string) => recorded.find((entry) => entry.name === name)!.history;
  const withdrawn = history('cancelled-while-waiting-for-slot');
  // NEEDS_ATTENTION too: a cancellation is asked about it first, where the request's failure is handled.
  expect(upsertsAndPatches(withdrawn).patches).toEqual([PATCHES.LEAN_SHAPE, PATCHES.NEEDS_ATTENTION, PATCHES.VENDOR_REQUEST_WITHDRAWN]);
  expect(withdrawn.events!.some((event) => event.workflowExecutionCancelRequestedEventAttributes)).toBe(true);
  expect(activitiesOf(withdrawn).scheduled).toEqual(['validateAndLockUpgrade', 'requestVendorTransition', 'withdrawVendorRequest', 'sendUpgradeNotification']);
  expect(activitiesOf(withdrawn).local).toContain('failUpgrade');
  const statuses = upsertsAndPatches(withdrawn).upserts.flatMap((fields) => fields.filter((field) => field.startsWith('UpgradeStatus=')));
  expect(statuses).not.toContain('UpgradeStatus="needs_attention"');
  expect(statuses.at(-1)).toBe('UpgradeStatus="failed"');
  // Every other shape, the cancelled ones included, carries no marker of it.
  for (const { name, history: other } of recorded.filter((entry) => entry.name !== 'cancelled-while-waiting-for-slot')) {
    expect([name, upsertsAndPatches(other).patches.includes(PATCHES.VENDOR_REQUEST_WITHDRAWN)]).toEqual([name, false]);
  }
});

test('LEAN_SHAPE: local bookkeeping, changes and invoices in one activity, status upserts only where operators filter; ≤ 60 events', () => {
  const history = (name: string) => recorded.find((entry) => entry.name === name)!.history;
  // One patch, asked instead of WORKFLOW_WRITES_THE_RECORD (which it implies): still one marker and one upsert.
  for (const name of EXPECTED_SHAPES) expect([name, upsertsAndPatches(history(name)).patches]).toEqual([name, [PATCHES.LEAN_SHAPE]]);

  const before = history('full-to-new.v3');
  const after = history('full-to-new');
  expect(before.events).toHaveLength(74);
  expect(after.events!.length).toBeLessThanOrEqual(60);
  expect(activitiesOf(before).scheduled).toEqual([
    'validateAndLockUpgrade',
    'requestVendorTransition',
    'awaitVendorTransition',
    'applySubscriptionChanges',
    'issueInvoices',
    'reassignSeatsAutomatically',
    'sendUpgradeNotification',
    'sendUpgradeNotification',
    'completeUpgrade',
  ]);
  expect(activitiesOf(after)).toEqual({
    scheduled: [
      'validateAndLockUpgrade',
      'requestVendorTransition',
      'awaitVendorTransition',
      'applySubscriptionChangesAndIssueInvoices',
      'reassignSeatsAutomatically',
      'sendUpgradeNotification',
      'sendUpgradeNotification',
    ],
    local: ['recordUpgradeProgress', 'recordUpgradeProgress', 'recordUpgradeProgress', 'recordUpgradeProgress', 'recordUpgradeProgress', 'completeUpgrade'],
  });
  // The search attribute keeps the phases operators filter on; the record still follows every status (the local writes).
  expect(nonFinalStatusUpserts(after)).toEqual(['awaiting_vendor', 'applying'].map((s) => `UpgradeStatus="${s}"`));
  // Leaving the manual wait, the attribute follows even into a brief status.
  const manual = upsertsAndPatches(history('partial-to-new-manual-seats')).upserts.flatMap((fields) =>
    fields.filter((field) => field.startsWith('UpgradeStatus=')),
  );
  expect(manual).toEqual(['awaiting_vendor', 'applying', 'awaiting_manual_seat_reassignment', 'notifying', 'completed'].map((s) => `UpgradeStatus="${s}"`));
  // Every kind that completes: fewer events than its shape before the patch; the ending bookkeeping is local.
  for (const name of ['full-to-new', 'full-to-existing', 'partial-to-existing', 'installments-p1y-monthly', 'partial-to-new-manual-seats']) {
    expect([name, history(name).events!.length < history(`${name}.v3`).events!.length]).toEqual([name, true]);
    expect(activitiesOf(history(name)).local).toContain('completeUpgrade');
  }
  for (const name of ['vendor-rejected', 'eligibility-rejected-at-execution']) {
    expect(activitiesOf(history(name)).local).toContain('failUpgrade');
    expect(activitiesOf(history(name)).scheduled).not.toContain('failUpgrade');
  }
  expect(activitiesOf(history('retry-after-vendor-rejection')).local[0]).toBe('recordUpgradeAccepted');
});
