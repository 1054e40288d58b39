import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { join } from 'node:path';
import type { StartCrashPoint } from '../../../src/config';
import { DEMO_PRODUCT_IDS } from '../../../src/domain/demo-catalog';
import { findFreePort } from '../../../src/local-services/managed-process';
import { sampleAccount, sampleSubscription } from '../../../src/sample-data';
import { scheduleIdFor } from '../../../src/temporal/maintenance-schedules';
import { startUpgrade } from '../../../src/upgrades/start';
import { sweepOrphans } from '../../../src/upgrades/sweeper';
import { OPERATOR_KEY, startSystemHarness, type SystemHarness } from '../support/system-harness';
import { eventually } from '../support/waiting';

/**
 * The sweeper (issue 20, finding 1): a start that dies after the locks, after the record or after the workflow start
 * (the fault hook throws where `FAULT_API_CRASH_AT` would SIGKILL, so nothing after that point runs) leaves an upgrade
 * that either completes or is cleanly gone once the sweeper ran past its grace period; locks of ended upgrades are
 * released, locks of running ones and anything younger than the grace period are left alone.
 */
let system: SystemHarness;
const GRACE_MS = 10 * 60_000;
const log = { info: () => undefined, warn: () => undefined };
const pastGrace = () => new Date(Date.now() + GRACE_MS + 1_000);

beforeAll(async () => {
  system = await startSystemHarness('upgrade_sweeper');
}, 120_000);

afterAll(async () => {
  await system?.close();
});

class SimulatedCrash extends Error {}

/** A start of a full upgrade that "dies" at `point`: what the process left behind. */
async function crashedStart(point: StartCrashPoint): Promise<{ upgradeId: string; sourceId: string }> {
  const account = sampleAccount({ id: `acc-${randomUUID().slice(0, 8)}` });
  const source = sampleSubscription(account, { quantity: 2 });
  await system.seed({ accounts: [account], subscriptions: [source] });
  const deps = {
    ...system.upgradeUseCases,
    crashAt: (reached: StartCrashPoint) => {
      if (reached === point) throw new SimulatedCrash(point);
    },
  };
  const actor = { keyId: 'key-sweeper-test', mayActOnAccount: () => true };
  const request = { sourceSubscriptionId: source.id, targetProductId: DEMO_PRODUCT_IDS.businessStandard, quantity: 2, destination: { type: 'new' as const } };
  const idempotencyKey = randomUUID();
  await expect(startUpgrade(deps, actor, request, idempotencyKey)).rejects.toBeInstanceOf(SimulatedCrash);
  const lock = await system.db.models.subscriptionLocks.findById(source.id).lean();
  expect(lock).not.toBeNull();
  return { upgradeId: lock!.upgradeId, sourceId: source.id };
}

test('a crash after the record: the sweeper starts the run (not before the grace period) and the upgrade completes', async () => {
  const { upgradeId } = await crashedStart('after_record');
  expect(await system.db.models.upgrades.findById(upgradeId).lean()).toMatchObject({ status: 'accepted' });
  expect(await sweepOrphans(system.upgradeUseCases, { graceMs: GRACE_MS, log })).toEqual({ started: [], failed: [], releasedLocks: [] });

  const report = await sweepOrphans(system.upgradeUseCases, { graceMs: GRACE_MS, now: pastGrace, log });
  expect(report.started).toEqual([upgradeId]);
  expect((await system.waitForUpgrade(upgradeId)).status).toBe('completed');
  expect(await system.db.models.subscriptionLocks.countDocuments({ upgradeId })).toBe(0);
  // A second sweep finds nothing left to do.
  const again = await sweepOrphans(system.upgradeUseCases, { graceMs: GRACE_MS, now: pastGrace, log });
  expect(again.started).not.toContain(upgradeId);
  expect(again.releasedLocks.filter((lock) => lock.upgradeId === upgradeId)).toEqual([]);
}, 60_000);

test('a crash after the locks (no record): the sweeper releases them and the subscription can be upgraded again', async () => {
  const { upgradeId, sourceId } = await crashedStart('after_locks');
  expect(await system.db.models.upgrades.exists({ _id: upgradeId })).toBeNull();
  const report = await sweepOrphans(system.upgradeUseCases, { graceMs: GRACE_MS, now: pastGrace, log });
  expect(report.releasedLocks).toContainEqual({ subscriptionId: sourceId, upgradeId });
  expect(await system.db.models.subscriptionLocks.findById(sourceId).lean()).toBeNull();
  const restarted = await system.api(
    'POST',
    '/v1/upgrades',
    { sourceSubscriptionId: sourceId, targetProductId: DEMO_PRODUCT_IDS.businessStandard, quantity: 2, destination: { type: 'new' } },
    { 'idempotency-key': randomUUID() },
  );
  expect(restarted.status).toBe(202);
  expect((await system.waitForUpgrade(restarted.body.upgradeId as string)).status).toBe('completed');
}, 60_000);

test('a crash after the start: the run completes on its own and the sweeper leaves it alone', async () => {
  const { upgradeId } = await crashedStart('after_start');
  const report = await sweepOrphans(system.upgradeUseCases, { graceMs: GRACE_MS, now: pastGrace, log });
  expect(report.started).not.toContain(upgradeId);
  expect(report.failed).not.toContain(upgradeId);
  expect((await system.waitForUpgrade(upgradeId)).status).toBe('completed');
}, 60_000);

test("a retry's lock left on a failed upgrade is released; a running upgrade's lock is kept", async () => {
  const account = sampleAccount({ id: `acc-${randomUUID().slice(0, 8)}` });
  const failed = `upg_failed_${randomUUID().slice(0, 8)}`;
  const running = `upg_running_${randomUUID().slice(0, 8)}`;
  for (const [id, status] of [
    [failed, 'failed'],
    [running, 'awaiting_vendor'],
  ] as const) {
    await system.db.models.upgrades.create({
      _id: id,
      requestFingerprint: 'f',
      requestedByKeyId: 'k',
      accountId: account.id,
      request: { sourceSubscriptionId: `sub-${id}`, targetProductId: DEMO_PRODUCT_IDS.businessStandard },
      kind: 'full',
      destinationType: 'new',
      status,
    });
    await system.db.models.subscriptionLocks.create({ _id: `sub-${id}`, upgradeId: id, accountId: account.id, claim: `retry-${id}` });
  }
  const report = await sweepOrphans(system.upgradeUseCases, { graceMs: GRACE_MS, now: pastGrace, log });
  expect(report.releasedLocks).toContainEqual({ subscriptionId: `sub-${failed}`, upgradeId: failed });
  expect(report.releasedLocks.map((lock) => lock.upgradeId)).not.toContain(running);
  expect(await system.db.models.subscriptionLocks.findById(`sub-${running}`).lean()).not.toBeNull();
});

test('the upgrade-sweeper Schedule, registered at start, repairs an orphan when it runs', async () => {
  const { upgradeId } = await crashedStart('after_record');
  // Older than the grace period (10 minutes by default), as if the API had died a while ago.
  await system.db.models.upgrades.updateOne({ _id: upgradeId }, { $set: { updatedAt: new Date(Date.now() - 3_600_000) } }, { timestamps: false });
  await system.client.schedule.getHandle(scheduleIdFor('upgrade-sweeper', system.taskQueue)).trigger();
  const started = await eventually(
    () =>
      system.client.workflow
        .getHandle(upgradeId)
        .describe()
        .catch(() => undefined),
    (description) => description !== undefined,
    30_000,
  );
  expect(started?.workflowId).toBe(upgradeId);
  expect((await system.waitForUpgrade(upgradeId)).status).toBe('completed');
}, 90_000);

test('a retry that died between claiming the record and starting its run: the upgrade ends failed (RUN_NOT_STARTED), its locks released', async () => {
  const { upgradeId, sourceId } = await crashedStart('after_start');
  expect((await system.waitForUpgrade(upgradeId)).status).toBe('completed');
  // What a retry leaves when it dies after its claim: the record accepted again, its lock taken, no new run.
  await system.db.models.upgrades.updateOne({ _id: upgradeId }, { $set: { status: 'accepted', completedAt: null }, $inc: { retries: 1 } });
  const account = await system.db.models.upgrades.findById(upgradeId, { accountId: 1 }).lean();
  await system.db.models.subscriptionLocks.create({ _id: sourceId, upgradeId, accountId: account!.accountId, claim: 'retry-died' });

  const report = await sweepOrphans(system.upgradeUseCases, { graceMs: GRACE_MS, now: pastGrace, log });
  expect(report.failed).toEqual([upgradeId]);
  expect(report.releasedLocks).toContainEqual({ subscriptionId: sourceId, upgradeId });
  expect(await system.db.models.upgrades.findById(upgradeId).lean()).toMatchObject({ status: 'failed', error: { code: 'RUN_NOT_STARTED' } });
  expect(await system.db.models.subscriptionLocks.findById(sourceId).lean()).toBeNull();
}, 60_000);

test('FAULT_API_CRASH_AT=after_record SIGKILLs a real API process between the record and the start; the sweeper completes the upgrade', async () => {
  const account = sampleAccount({ id: `acc-${randomUUID().slice(0, 8)}` });
  const source = sampleSubscription(account, { quantity: 2 });
  await system.seed({ accounts: [account], subscriptions: [source] });
  const port = await findFreePort();
  // `node --import tsx`, not the tsx CLI (a wrapper process): the pid we watch is the API itself.
  const api = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '../../../src/server.ts')], {
    env: {
      ...process.env,
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      HOST: '127.0.0.1',
      PORT: String(port),
      OPERATOR_API_KEY: OPERATOR_KEY,
      MONGODB_DATABASE: system.db.connection.name,
      TEMPORAL_TASK_QUEUE: system.taskQueue,
      CATALOG_CACHE_SECONDS: '0',
      FAULT_API_CRASH_AT: 'after_record',
    },
    stdio: 'ignore',
  });
  const exited = once(api, 'exit');
  try {
    const url = `http://127.0.0.1:${port}`;
    const up = await eventually(
      () =>
        fetch(`${url}/livez`).then(
          (r) => r.ok,
          () => false,
        ),
      (ok) => ok,
      30_000,
    );
    expect(up).toBe(true);
    const request = { sourceSubscriptionId: source.id, targetProductId: DEMO_PRODUCT_IDS.businessStandard, quantity: 2, destination: { type: 'new' } };
    const answer = fetch(`${url}/v1/upgrades`, {
      method: 'POST',
      headers: { authorization: `Bearer ${OPERATOR_KEY}`, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
      body: JSON.stringify(request),
    });
    await expect(answer).rejects.toThrow();
    const [, signal] = (await exited) as [number | null, NodeJS.Signals | null];
    expect(signal).toBe('SIGKILL');
  } finally {
    if (api.exitCode === null && api.signalCode === null) api.kill('SIGKILL');
  }
  // What the dead process left: the record accepted, the lock held, no run.
  const lock = await system.db.models.subscriptionLocks.findById(source.id).lean();
  const upgradeId = lock!.upgradeId;
  expect(await system.db.models.upgrades.findById(upgradeId).lean()).toMatchObject({ status: 'accepted' });
  await expect(system.client.workflow.getHandle(upgradeId).describe()).rejects.toThrow();

  const report = await sweepOrphans(system.upgradeUseCases, { graceMs: GRACE_MS, now: pastGrace, log });
  expect(report.started).toContain(upgradeId);
  expect((await system.waitForUpgrade(upgradeId)).status).toBe('completed');
  expect(await system.db.models.subscriptionLocks.countDocuments({ upgradeId })).toBe(0);
}, 90_000);
