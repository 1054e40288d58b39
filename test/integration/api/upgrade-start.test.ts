import { forceUnlock, lockHolder, seedWorld, startHarness, upgradeBody, type Harness, type World } from './harness';

/** Idempotent, conflict-free starts: same key → one upgrade; one source → one running upgrade. */
let h: Harness;
let world: World;
const started = new Set<string>();

beforeAll(async () => {
  h = await startHarness('start');
  world = await seedWorld(h);
}, 60_000);
afterAll(async () => {
  await Promise.all(
    [...started].map((id) =>
      h.temporal.workflow
        .getHandle(id)
        .terminate('test over')
        .catch(() => undefined),
    ),
  );
  await h?.close();
});

async function resetLocks() {
  await Promise.all(
    [...started].map((id) =>
      h.temporal.workflow
        .getHandle(id)
        .terminate('test over')
        .catch(() => undefined),
    ),
  );
  await forceUnlock(h.database.models);
}

test('the same key and body, repeated, is the same upgrade', async () => {
  const send = () => h.call('POST', '/v1/upgrades', { key: world.resellerKey, body: upgradeBody(), headers: { 'Idempotency-Key': 'repeat' } });
  const first = await send();
  const second = await send();
  expect(first.status).toBe(202);
  expect(second.status).toBe(202);
  expect(second.body.upgradeId).toBe(first.body.upgradeId);
  started.add(first.body.upgradeId);
  expect(await h.database.models.upgrades.countDocuments({ 'request.sourceSubscriptionId': 'sub-1' })).toBe(1);
  // Keys are per caller: the same Idempotency-Key from another key is another upgrade (and conflicts on the source).
  const other = await h.call('POST', '/v1/upgrades', { key: world.customerKey, body: upgradeBody(), headers: { 'Idempotency-Key': 'repeat' } });
  expect(other.status).toBe(409);
  await resetLocks();
});

test('20 concurrent starts with the same key → one upgrade, one workflow run', async () => {
  const responses = await Promise.all(
    Array.from({ length: 20 }, () =>
      h.call('POST', '/v1/upgrades', {
        key: world.customerKey,
        body: upgradeBody({ sourceSubscriptionId: 'sub-2', targetProductId: 'CFQ7TTC0LCHC:0001:DEMO', quantity: 5 }),
        headers: { 'Idempotency-Key': 'same-key' },
      }),
    ),
  );
  expect(responses.map((r) => r.status)).toEqual(Array(20).fill(202));
  const ids = new Set(responses.map((r) => r.body.upgradeId));
  expect(ids.size).toBe(1);
  const [upgradeId] = [...ids] as string[];
  started.add(upgradeId!);
  expect(await h.database.models.upgrades.countDocuments({ 'request.sourceSubscriptionId': 'sub-2' })).toBe(1);
  const runs = [];
  for await (const run of h.temporal.workflow.list({ query: `WorkflowId = "${upgradeId}"` })) runs.push(run);
  expect(runs).toHaveLength(1);
  expect(await lockHolder(h.database.models, 'sub-2')).toBe(upgradeId);
  await resetLocks();
});

test('50 concurrent starts on one source with different keys → exactly one 202, the rest 409', async () => {
  const responses = await Promise.all(
    Array.from({ length: 50 }, (_, i) =>
      h.call('POST', '/v1/upgrades', {
        body: upgradeBody({ sourceSubscriptionId: 'sub-3', quantity: 1 + (i % 9) }),
        headers: { 'Idempotency-Key': `race-${i}` },
      }),
    ),
  );
  const statuses = responses.map((r) => r.status);
  expect(statuses.filter((s) => s === 202)).toHaveLength(1);
  expect(statuses.filter((s) => s === 409)).toHaveLength(49);
  for (const r of responses.filter((x) => x.status === 409)) expect(r.body.error.code).toBe('UPGRADE_IN_PROGRESS');
  const winner = responses.find((r) => r.status === 202)!.body.upgradeId as string;
  started.add(winner);
  expect(await h.database.models.upgrades.countDocuments({ 'request.sourceSubscriptionId': 'sub-3' })).toBe(1);
  expect(await lockHolder(h.database.models, 'sub-3')).toBe(winner);
  await resetLocks();
});

test('a start whose workflow cannot be started releases its locks and records the failure', async () => {
  const broken = await startHarness('start_broken');
  try {
    await seedWorld(broken);
    // A client whose connection is closed fails every start.
    await broken.temporal.connection.close();
    const r = await broken.call('POST', '/v1/upgrades', { body: upgradeBody(), headers: { 'Idempotency-Key': 'broken' } });
    expect(r.status).toBe(503);
    expect(r.body.error.code).toBe('TEMPORAL_UNAVAILABLE');
    expect(await lockHolder(broken.database.models, 'sub-1')).toBeNull();
    expect(await broken.database.models.upgrades.findById(r.body.error.details.upgradeId).lean()).toMatchObject({ status: 'failed' });
  } finally {
    await broken.close().catch(() => undefined);
  }
});

/** A started upgrade whose run failed: workflow ended, locks released, record `failed` (what failUpgrade leaves). */
async function failedUpgrade(idempotencyKey: string): Promise<string> {
  const r = await h.call('POST', '/v1/upgrades', { body: upgradeBody({ quantity: 2 }), headers: { 'Idempotency-Key': idempotencyKey } });
  expect(r.status).toBe(202);
  const upgradeId: string = r.body.upgradeId;
  started.add(upgradeId);
  await h.temporal.workflow.getHandle(upgradeId).terminate('simulated failure');
  await forceUnlock(h.database.models, ['sub-1']);
  await h.database.models.upgrades.updateOne({ _id: upgradeId }, { $set: { status: 'failed', error: { code: 'X', message: 'boom' } } });
  return upgradeId;
}

test('two concurrent retries of one failed upgrade → one 202, one 409, the re-run running with its locks', async () => {
  await resetLocks();
  const upgradeId = await failedUpgrade('retried-twice');
  const responses = await Promise.all([1, 2].map(() => h.call('POST', `/v1/upgrades/${upgradeId}/retry`)));
  expect(responses.map((r) => r.status).sort()).toEqual([202, 409]);
  expect(responses.find((r) => r.status === 409)!.body.error.code).toBe('UPGRADE_NOT_FAILED');
  expect((await h.temporal.workflow.getHandle(upgradeId).describe()).status.name).toBe('RUNNING');
  expect(await lockHolder(h.database.models, 'sub-1')).toBe(upgradeId);
  const record = await h.database.models.upgrades.findById(upgradeId).lean();
  expect(record).toMatchObject({ status: 'accepted', retries: 1 });
  await resetLocks();
});
