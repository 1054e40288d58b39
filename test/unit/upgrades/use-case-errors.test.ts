import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { ApiError } from '../../../src/api/errors';
import { answering, HTTP_STATUS_OF_UPGRADE_ERROR, httpErrorOf } from '../../../src/api/upgrade-errors';
import { Catalog } from '../../../src/domain/catalog';
import { demoProducts } from '../../../src/domain/demo-catalog';
import { POLICY_PROFILES } from '../../../src/domain/eligibility-policies';
import type { UpgradeUseCaseDeps } from '../../../src/upgrades/deps';
import { UPGRADE_ERROR_CODES, UpgradeError } from '../../../src/upgrades/errors';
import { resolveUncertainOutcome } from '../../../src/upgrades/resolve';
import { retryUpgrade } from '../../../src/upgrades/retry';
import { confirmSeatReassignment } from '../../../src/upgrades/seat-reassignment';
import { startUpgrade } from '../../../src/upgrades/start';
import { requestFingerprint, upgradeIdFor } from '../../../src/temporal/upgrade-ids';

/**
 * The refusals of the upgrade use cases that the integration tests can't provoke on a healthy system (Temporal refusing
 * or failing a re-run, two retries racing for one record, a confirmation Temporal doesn't answer), with an in-memory
 * stand-in for the collections and the Temporal client; and how each refusal becomes an HTTP answer.
 */
describe('HTTP answers to use-case refusals', () => {
  it('every code has a status, and code, message and details go out unchanged', () => {
    expect(Object.keys(HTTP_STATUS_OF_UPGRADE_ERROR).sort()).toEqual([...UPGRADE_ERROR_CODES].sort());
    const expected: Record<string, number> = {
      NOT_FOUND: 404,
      NOT_ELIGIBLE: 422,
      IDEMPOTENCY_KEY_REUSED: 422,
      UPGRADE_IN_PROGRESS: 409,
      UPGRADE_NOT_FAILED: 409,
      RETRY_NOT_POSSIBLE: 409,
      NOTHING_AWAITING_CONFIRMATION: 409,
      NOT_AWAITING_RESOLUTION: 409,
      TEMPORAL_UNAVAILABLE: 503,
      VENDOR_UNAVAILABLE: 503,
      INVALID_SCHEDULE: 422,
      UPGRADE_ALREADY_SCHEDULED: 409,
      NOT_SCHEDULED: 409,
    };
    for (const code of UPGRADE_ERROR_CODES) {
      const mapped = httpErrorOf(new UpgradeError(code, `refused: ${code}`, { upgradeId: 'upg_1' }));
      expect(mapped).toBeInstanceOf(ApiError);
      expect(mapped).toMatchObject({ status: expected[code], code, message: `refused: ${code}`, details: { upgradeId: 'upg_1' } });
    }
  });

  it('anything else passes through to the central handler', async () => {
    const unexpected = new TypeError('a bug');
    expect(httpErrorOf(unexpected)).toBe(unexpected);
    await expect(answering(Promise.reject(unexpected))).rejects.toBe(unexpected);
    await expect(answering(Promise.resolve(42))).resolves.toBe(42);
    await expect(answering(Promise.reject(new UpgradeError('NOT_FOUND', 'Upgrade x not found')))).rejects.toMatchObject({ status: 404, code: 'NOT_FOUND' });
  });
});

type Doc = Record<string, any> & { _id: string };

/** Just the collection calls the retry and confirmation use cases make, over a Map. */
function collection(initial: Doc[] = []) {
  const docs = new Map(initial.map((doc) => [doc._id, { ...doc }]));
  const matches = (doc: Doc, filter: Record<string, unknown>) => Object.entries(filter).every(([key, value]) => doc[key] === value);
  return {
    docs,
    findById: (id: string) => ({ lean: async () => (docs.has(id) ? { ...docs.get(id)! } : null) }),
    async create(doc: Doc) {
      if (docs.has(doc._id)) throw Object.assign(new Error('E11000 duplicate key'), { code: 11000 });
      docs.set(doc._id, { ...doc });
    },
    async deleteOne(filter: Record<string, unknown>) {
      const doc = docs.get(filter._id as string);
      if (!doc || !matches(doc, filter)) return { deletedCount: 0 };
      docs.delete(doc._id);
      return { deletedCount: 1 };
    },
    async updateOne(filter: Record<string, unknown>, update: { $set?: Record<string, unknown>; $inc?: Record<string, number> }) {
      const doc = docs.get(filter._id as string);
      if (!doc || !matches(doc, filter)) return { modifiedCount: 0 };
      Object.assign(doc, update.$set ?? {});
      for (const [key, by] of Object.entries(update.$inc ?? {})) doc[key] = (doc[key] ?? 0) + by;
      return { modifiedCount: 1 };
    },
  };
}

const FAILED_UPGRADE: Doc = {
  _id: 'upg_failed',
  accountId: 'acc_1',
  status: 'failed',
  kind: 'full',
  destinationType: 'new',
  retries: 0,
  requestFingerprint: 'f',
  requestedByKeyId: 'key_1',
  request: { sourceSubscriptionId: 'sub_1', targetProductId: 'p:s:a', quantity: 5, destination: { type: 'new' } },
  error: { code: 'VENDOR_REJECTED', message: 'rejected' },
  // A transition was requested and did not fail: the retry keeps the frozen plan (no re-planning, no planning reads).
  vendor: { attempt: 0, requestId: 'req_1' },
  plan: { summary: 'full upgrade of 5/5 seats', kind: 'full', upgradeDate: '2026-03-02' },
  createdAt: new Date('2026-03-02T10:00:00Z'),
};

function system(options: { upgrades?: Doc[]; start?: () => Promise<unknown>; update?: () => Promise<unknown> }) {
  const upgrades = collection(options.upgrades ?? [FAILED_UPGRADE]);
  const subscriptionLocks = collection();
  const subscriptions = collection([{ _id: 'sub_1', quantity: 5, productId: 'p:s:a' }]);
  const started: unknown[] = [];
  const temporalClient = {
    workflow: {
      start: async (...args: unknown[]) => {
        started.push(args);
        return options.start ? options.start() : { workflowId: 'upg_failed' };
      },
      getHandle: () => ({ executeUpdate: async () => (options.update ? options.update() : { status: 'invoicing' }) }),
    },
    withDeadline: <T>(_deadline: number, fn: () => Promise<T>) => fn(),
  };
  const deps = {
    models: { upgrades, subscriptionLocks, subscriptions },
    temporalClient,
    taskQueue: 'unit',
    catalog: async () => new Catalog(demoProducts()),
    policy: POLICY_PROFILES.microsoft,
    seatReassignment: { reminderIntervalMs: 1, escalateAfterMs: 2 },
    clock: () => new Date('2026-03-02T10:00:00Z'),
    queryTimeoutMs: 10,
    updateTimeoutMs: 10,
  } as unknown as UpgradeUseCaseDeps;
  return { deps, upgrades, subscriptionLocks, started };
}

describe('retryUpgrade refusals', () => {
  it('an unknown upgrade is NOT_FOUND; one that did not fail is UPGRADE_NOT_FAILED; neither takes a lock', async () => {
    const { deps, subscriptionLocks, started } = system({ upgrades: [FAILED_UPGRADE, { ...FAILED_UPGRADE, _id: 'upg_done', status: 'completed' }] });
    await expect(retryUpgrade(deps, 'upg_missing')).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'Upgrade upg_missing not found' });
    await expect(retryUpgrade(deps, 'upg_done')).rejects.toMatchObject({
      code: 'UPGRADE_NOT_FAILED',
      message: 'Only failed upgrades can be retried; upg_done is completed',
    });
    expect(subscriptionLocks.docs.size).toBe(0);
    expect(started).toEqual([]);
  });

  it('another upgrade holding the source is UPGRADE_IN_PROGRESS, and the record stays failed', async () => {
    const { deps, upgrades, subscriptionLocks } = system({});
    await subscriptionLocks.create({ _id: 'sub_1', upgradeId: 'upg_other', accountId: 'acc_1' });
    await expect(retryUpgrade(deps, 'upg_failed')).rejects.toMatchObject({
      code: 'UPGRADE_IN_PROGRESS',
      details: { heldBy: [{ subscriptionId: 'sub_1', upgradeId: 'upg_other' }] },
    });
    expect(upgrades.docs.get('upg_failed')).toMatchObject({ status: 'failed', retries: 0 });
  });

  it('a retry that loses the claim to another one gives its locks back', async () => {
    const { deps, upgrades, subscriptionLocks, started } = system({});
    // The other retry claimed the record between this one's read and its claim.
    const read = upgrades.findById;
    upgrades.findById = (id: string) => ({
      lean: async () => {
        const doc = await read(id).lean();
        upgrades.docs.get(id)!.status = 'accepted';
        return doc;
      },
    });
    await expect(retryUpgrade(deps, 'upg_failed')).rejects.toMatchObject({
      code: 'UPGRADE_NOT_FAILED',
      message: 'Upgrade upg_failed is already being retried',
    });
    expect(subscriptionLocks.docs.size).toBe(0);
    expect(started).toEqual([]);
  });

  it("a retry that finds its upgrade's locks taken by another claim (a concurrent retry) refuses and leaves them", async () => {
    const { deps, upgrades, subscriptionLocks, started } = system({});
    const winners = { _id: 'sub_1', upgradeId: 'upg_failed', accountId: 'acc_1', claim: 'retry-winner' };
    await subscriptionLocks.create(winners);
    await expect(retryUpgrade(deps, 'upg_failed')).rejects.toMatchObject({ code: 'UPGRADE_NOT_FAILED' });
    expect(subscriptionLocks.docs.get('sub_1')).toEqual(winners);
    expect(upgrades.docs.get('upg_failed')).toMatchObject({ status: 'failed', retries: 0 });
    expect(started).toEqual([]);
  });

  it.each([
    ['Temporal refuses the re-run', 'RETRY_NOT_POSSIBLE', () => new WorkflowExecutionAlreadyStartedError('started', 'upg_failed', 'UpgradeWorkflow')],
    ['Temporal is unreachable', 'TEMPORAL_UNAVAILABLE', () => new Error('14 UNAVAILABLE: connection refused')],
  ])('%s → %s; the record is failed again with its error and retry count, no lock is left', async (_what, code, failure) => {
    const logged: unknown[] = [];
    const { deps, upgrades, subscriptionLocks, started } = system({ start: () => Promise.reject(failure()) });
    await expect(retryUpgrade(deps, 'upg_failed', { error: (fields) => logged.push(fields) })).rejects.toMatchObject({ code });
    expect(started).toHaveLength(1);
    expect(upgrades.docs.get('upg_failed')).toMatchObject({ status: 'failed', retries: 0, error: FAILED_UPGRADE.error });
    expect(subscriptionLocks.docs.size).toBe(0);
    // Only the unexpected failure is worth a log line; a refusal is the answer itself.
    expect(logged).toHaveLength(code === 'TEMPORAL_UNAVAILABLE' ? 1 : 0);
  });

  it('a re-run that starts claims the record and keeps the locks', async () => {
    const { deps, upgrades, subscriptionLocks, started } = system({});
    await expect(retryUpgrade(deps, 'upg_failed')).resolves.toEqual({
      upgradeId: 'upg_failed',
      status: 'accepted',
      kind: 'full',
      destinationType: 'new',
      plan: { replanned: false, reason: expect.stringContaining('the frozen plan'), current: FAILED_UPGRADE.plan },
    });
    expect(started).toHaveLength(1);
    expect(upgrades.docs.get('upg_failed')).toMatchObject({ status: 'accepted', retries: 1, error: null });
    expect([...subscriptionLocks.docs.keys()]).toEqual(['sub_1']);
    // The run locks and releases with the claim that took the locks.
    const { claim } = subscriptionLocks.docs.get('sub_1')!;
    expect(claim).toMatch(/^retry-/);
    const [, options] = started[0] as [unknown, { args: [{ lockClaim: string }] }];
    expect(options.args[0].lockClaim).toBe(claim);
  });
});

describe('startUpgrade repeated while the upgrade is still accepted from its first start', () => {
  const actor = { keyId: 'key_1', mayActOnAccount: () => true };
  const accepted: Doc = {
    ...FAILED_UPGRADE,
    _id: upgradeIdFor('key_1', 'idem'),
    status: 'accepted',
    error: null,
    requestFingerprint: requestFingerprint(FAILED_UPGRADE.request),
  };

  it('starts the run (a crash may have come before it) with the start claim; a run that already exists is fine', async () => {
    const { deps, started } = system({
      upgrades: [accepted],
      start: () => Promise.reject(new WorkflowExecutionAlreadyStartedError('started', accepted._id, 'UpgradeWorkflow')),
    });
    await expect(startUpgrade(deps, actor, FAILED_UPGRADE.request, 'idem')).resolves.toEqual({ upgradeId: accepted._id, status: 'accepted' });
    expect(started).toHaveLength(1);
    const [, options] = started[0] as [unknown, { workflowId: string; args: [{ lockClaim: string; acceptedAt: string }] }];
    expect(options.workflowId).toBe(accepted._id);
    expect(options.args[0]).toMatchObject({ lockClaim: 'start', acceptedAt: FAILED_UPGRADE.createdAt.toISOString() });
  });

  it('Temporal unreachable → TEMPORAL_UNAVAILABLE, the record left accepted for the next repeat; a retried upgrade is not restarted', async () => {
    const { deps, upgrades } = system({ upgrades: [accepted], start: () => Promise.reject(new Error('14 UNAVAILABLE')) });
    await expect(startUpgrade(deps, actor, FAILED_UPGRADE.request, 'idem')).rejects.toMatchObject({ code: 'TEMPORAL_UNAVAILABLE' });
    expect(upgrades.docs.get(accepted._id)).toMatchObject({ status: 'accepted' });
    const retried = system({ upgrades: [{ ...accepted, retries: 1 }] });
    await expect(startUpgrade(retried.deps, actor, FAILED_UPGRADE.request, 'idem')).resolves.toMatchObject({ status: 'accepted' });
    expect(retried.started).toEqual([]);
  });
});

describe('confirmSeatReassignment refusals', () => {
  const waiting: Doc = { ...FAILED_UPGRADE, _id: 'upg_waiting', status: 'awaiting_manual_seat_reassignment' };
  const actor = { keyId: 'key_1', mayActOnAccount: (accountId: string) => accountId === 'acc_1' };

  it('outside the caller accounts the upgrade is NOT_FOUND; a final one awaits nothing', async () => {
    const { deps } = system({ upgrades: [waiting, FAILED_UPGRADE] });
    await expect(confirmSeatReassignment(deps, { ...actor, mayActOnAccount: () => false }, 'upg_waiting')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(confirmSeatReassignment(deps, actor, 'upg_failed')).rejects.toMatchObject({ code: 'NOTHING_AWAITING_CONFIRMATION' });
  });

  it('a workflow that does not answer in time is TEMPORAL_UNAVAILABLE', async () => {
    const { deps } = system({ upgrades: [waiting], update: () => Promise.reject(new Error('deadline exceeded')) });
    await expect(confirmSeatReassignment(deps, actor, 'upg_waiting', 'moved by hand')).rejects.toMatchObject({
      code: 'TEMPORAL_UNAVAILABLE',
      message: 'The workflow did not answer the confirmation in time; try again',
    });
  });
});

describe('resolveUncertainOutcome refusals', () => {
  const waiting: Doc = { ...FAILED_UPGRADE, _id: 'upg_attention', status: 'needs_attention' };
  const actor = { keyId: 'ops_key', mayActOnAccount: () => true };

  it('an upgrade not in needs_attention is NOT_AWAITING_RESOLUTION, and Temporal is not asked', async () => {
    const { deps } = system({ upgrades: [FAILED_UPGRADE], update: () => Promise.reject(new Error('must not be called')) });
    await expect(resolveUncertainOutcome(deps, actor, 'upg_failed', { outcome: 'not_converted' })).rejects.toMatchObject({
      code: 'NOT_AWAITING_RESOLUTION',
      details: { status: 'failed' },
    });
  });

  it('a workflow that does not answer in time is TEMPORAL_UNAVAILABLE', async () => {
    const { deps } = system({ upgrades: [waiting], update: () => Promise.reject(new Error('deadline exceeded')) });
    await expect(resolveUncertainOutcome(deps, actor, 'upg_attention', { outcome: 'converted' })).rejects.toMatchObject({ code: 'TEMPORAL_UNAVAILABLE' });
  });
});
