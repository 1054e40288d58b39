import { randomUUID } from 'node:crypto';
import { NativeConnection, bundleWorkflowCode, DefaultLogger, Runtime, type Worker } from '@temporalio/worker';
import { campaignModelsOf } from '../../../src/db/campaign-models';
import { connectDatabase, type Database } from '../../../src/db/connection';
import { DEMO_PRODUCT_IDS } from '../../../src/domain/demo-catalog';
import { createVendorClient } from '../../../src/partner-center-factory';
import {
  fetchReportingThrottling,
  marginOf,
  markTransitionSlotSent,
  recordVendorBackoff,
  reserveTransitionSlot,
  retryAfterMsOf,
  transitionLimitFromConfig,
  waitForTransitionSlot,
} from '../../../src/partner-center/transition-limit';
import { sampleAccount, sampleSubscription } from '../../../src/sample-data';
import { assembleSystem, type AssembledSystem } from '../../../src/system';
import { activityDepsFromConfig, createUpgradeWorker, WORKFLOWS_PATH } from '../../../src/worker-factory';
import { integrationConfig } from '../support/test-config';

/**
 * Partner Center's request limit (src/partner-center/transition-limit.ts, docs/partner-center.md "Request limit") on
 * the real database and the simulator: slots reserved concurrently through two database clients (two processes, as
 * far as the database can tell) never put more than the limit in any interval; a 429 holds back every POST until its
 * Retry-After; end to end, a campaign run by two workers at the simulator's own limit meets no 429 and upgrades every
 * item once.
 */
const OPERATOR_KEY = 'test-operator-key-0123456789abcdef';
const LIMIT = { requests: 2, intervalMs: 2_000 };
let system: AssembledSystem;
let workflowBundle: Awaited<ReturnType<typeof bundleWorkflowCode>>;
/** Every transition POST the worker sent (when it left), and every 429 once the tenant's backoff was written. */
const posts: Array<{ sentAt: number; status?: number }> = [];
const backoffsWritten: Array<{ writtenAt: number; until: number }> = [];
/** When each answer came back from Partner Center, before the tenant's backoff was written from it. */
const answeredAt = new WeakMap<Response, number>();

function recordingFetch(inner: typeof fetch): typeof fetch {
  return async (input, init) => {
    const isPost = init?.method === 'POST' && String(input instanceof Request ? input.url : input).includes('/transitions');
    const post = isPost ? { sentAt: Date.now() } : undefined;
    if (post) posts.push(post);
    const response = await inner(input, init);
    answeredAt.set(response, Date.now());
    if (post) Object.assign(post, { status: response.status });
    return response;
  };
}

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
  const config = integrationConfig('it', 'campaign-throttle', {
    OPERATOR_API_KEY: OPERATOR_KEY,
    WEBHOOK_SIGNING_SECRET: 'test-signing-secret-0123',
    VENDOR_POLL_INITIAL_MS: '100',
    VENDOR_POLL_MAX_MS: '500',
    VENDOR_SETTLING_DELAY_MS: '500',
    VENDOR_TRANSITIONS_PER_INTERVAL: String(LIMIT.requests),
    VENDOR_TRANSITIONS_INTERVAL_SECONDS: String(LIMIT.intervalMs / 1000),
    CAMPAIGN_MAX_QUEUED_ITEMS: '3',
  });
  workflowBundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') });
  const limit = transitionLimitFromConfig(config);
  system = await assembleSystem({
    config,
    simulator: { faults: { completionDelayMs: 200, licenseReassignmentDelayMs: 100 } },
    worker: { workflowBundle },
    api: { campaignWorkflowOptions: { followIntervalMs: 500, startsInParallel: 3 } },
    dropDatabaseOnClose: true,
  });
  const reporting = fetchReportingThrottling(system.db.models, limit.key, () => new Date(), recordingFetch(fetch));
  const observed: typeof fetch = async (input, init) => {
    const response = await reporting(input, init);
    if (response.status === 429) {
      // The backoff runs from when the answer came (as the worker's client computes it), not from when its write
      // ended: under load the write takes a while, and a POST leaving right at the backoff's end is on time.
      const answered = new Date(answeredAt.get(response)!);
      backoffsWritten.push({ writtenAt: Date.now(), until: answered.getTime() + retryAfterMsOf(response.headers.get('retry-after'), answered, 60_000) });
    }
    return response;
  };
  // The worker's activities read their client at each call: from now on, the worker's own client (reporting every 429
  // to the tenant's backoff) with a record of each POST and of each backoff written.
  system.activityDeps!.vendor = createVendorClient(config, system.vendorBaseUrl!, system.logger, observed);
}, 120_000);

afterAll(async () => {
  await system?.close();
});

async function api(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${system.api!.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${OPERATOR_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

async function until<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 100_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The most slots in any `intervalMs` (a window starting at each slot). */
function mostInAnyInterval(times: number[], intervalMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  return Math.max(0, ...sorted.map((start) => sorted.filter((time) => time >= start && time < start + intervalMs).length));
}

test('slots reserved at once through two database clients never put more than the limit in any interval; a 429 moves every later slot past it; a late POST holds back the slot `limit` after it', async () => {
  const second: Database = await connectDatabase(system.config.MONGODB_URI!, system.config.MONGODB_DATABASE);
  try {
    const limit = { key: `tenant-${randomUUID()}`, limit: 5, intervalMs: 60_000 };
    // Any instant: the window slides with the slots, it is not aligned to the clock.
    const now = new Date(Date.UTC(2031, 1, 3, 4, 5, 6, 789));
    const takers = Array.from({ length: 23 }, (_, index) => reserveTransitionSlot((index % 2 === 0 ? system.db : second).models, limit, now));
    const slots = await Promise.all(takers);
    expect(new Set(slots.map((slot) => slot.n)).size).toBe(23);
    expect(slots.filter((slot) => slot.at === now.getTime())).toHaveLength(5);
    expect(
      mostInAnyInterval(
        slots.map((slot) => slot.at),
        limit.intervalMs + marginOf(limit),
      ),
    ).toBe(5);
    // Five per interval (and its margin): 23 slots reach into the fifth interval, not beyond.
    expect(Math.max(...slots.map((slot) => slot.at))).toBe(now.getTime() + 4 * (limit.intervalMs + marginOf(limit)));

    // A 429 recorded through either client: a slot reserved after it goes no earlier than its Retry-After.
    const other = { ...limit, key: `${limit.key}-b` };
    await recordVendorBackoff(second.models, other.key, new Date(now.getTime() + 4_000));
    expect((await reserveTransitionSlot(system.db.models, other, now)).at).toBe(now.getTime() + 4_000);
    // A taker waiting for its slot when a 429 comes takes another after the 429's Retry-After when it wakes.
    const waitingFrom = now.getTime() + 60_000;
    await recordVendorBackoff(system.db.models, other.key, new Date(waitingFrom + 10_000));
    let clockMs = waitingFrom;
    const waits: number[] = [];
    const slot = await waitForTransitionSlot(
      system.db.models,
      other,
      () => new Date(clockMs),
      async (ms) => {
        if (waits.length === 0) await recordVendorBackoff(second.models, other.key, new Date(waitingFrom + 30_000));
        waits.push(ms);
        clockMs += ms;
      },
    );
    expect(waits).toEqual([10_000, 20_000]);
    expect(slot.at).toBe(waitingFrom + 30_000);

    // A POST that left late (a loaded machine): the slot `limit` after it waits an interval from when it left.
    const one = { key: `${limit.key}-c`, limit: 1, intervalMs: 60_000 };
    const first = await reserveTransitionSlot(system.db.models, one, now);
    await markTransitionSlotSent(second.models, one, first, new Date(now.getTime() + 5_000));
    let oneClockMs = now.getTime();
    const oneWaits: number[] = [];
    await waitForTransitionSlot(
      system.db.models,
      one,
      () => new Date(oneClockMs),
      async (ms) => {
        oneWaits.push(ms);
        oneClockMs += ms;
      },
    );
    expect(oneWaits).toEqual([60_000 + marginOf(one), 5_000]);
  } finally {
    await second.close();
  }
});

test('a campaign run by two workers at Partner Center’s own limit meets no 429, sends at most the limit per interval and upgrades every item once', async () => {
  await system.setFaults({ partnerWriteThrottle: { requestsPerWindow: LIMIT.requests, windowMs: LIMIT.intervalMs } });
  // A second worker on the queue, with its own database client: the slots are shared through the database only.
  const secondDb = await connectDatabase(system.config.MONGODB_URI!, system.config.MONGODB_DATABASE);
  const connection = await NativeConnection.connect({ address: system.config.TEMPORAL_ADDRESS! });
  let secondWorker: Worker | undefined;
  let secondRun: Promise<void> | undefined;
  try {
    secondWorker = await createUpgradeWorker({
      connection,
      namespace: 'default',
      taskQueue: system.config.TEMPORAL_TASK_QUEUE,
      campaignMaxQueuedItems: system.config.CAMPAIGN_MAX_QUEUED_ITEMS,
      deps: {
        ...activityDepsFromConfig(system.config, secondDb, system.vendorBaseUrl!, system.logger, recordingFetch(fetch)),
        vendorPolling: system.activityDeps!.vendorPolling,
      },
      workflowBundle,
    });
    secondRun = secondWorker.run();
    const account = sampleAccount({ id: 'two-workers-acc' });
    const subscriptions = Array.from({ length: 8 }, (_, s) => sampleSubscription(account, { id: `two-workers-sub-${s}` }));
    await system.seed({ accounts: [account], subscriptions });
    const before = posts.length;
    const created = await api('POST', '/v1/campaigns', {
      name: 'Two workers',
      sourceProductId: DEMO_PRODUCT_IDS.businessBasic,
      targetProductId: DEMO_PRODUCT_IDS.businessStandard,
      destination: { type: 'new' },
      accountIds: [account.id],
      quantity: 'all',
    });
    const campaignId = created.body.campaignId as string;
    await api('POST', `/v1/campaigns/${campaignId}/execute`);
    // The campaign's queue for Partner Center stays within CAMPAIGN_MAX_QUEUED_ITEMS while it runs.
    const { campaignItems } = await campaignModelsOf(system.db.models);
    let mostQueued = 0;
    const view = await until(
      'the campaign to complete',
      async () => {
        mostQueued = Math.max(mostQueued, await campaignItems.countDocuments({ campaignId, queuedForPartnerCenter: true, outcome: 'running' }));
        return (await api('GET', `/v1/campaigns/${campaignId}`)).body;
      },
      (body) => body.status === 'completed',
    );
    expect(view.counts).toEqual({ total: 8, pending: 0, running: 0, scheduled: 0, completed: 8, failed: 0, skipped: 0 });
    expect(mostQueued).toBeLessThanOrEqual(3);

    const counters = (await (await fetch(`${system.simulator!.url}/admin/counters`)).json()) as {
      throttledResponses: number;
      transitionsCreatedBySubscription: Record<string, number>;
    };
    for (const subscription of subscriptions) expect(counters.transitionsCreatedBySubscription[subscription.externalId]).toBe(1);
    expect(counters.throttledResponses).toBe(0);
    const sent = posts.slice(before);
    expect(sent).toHaveLength(8);
    expect(
      mostInAnyInterval(
        sent.map((post) => post.sentAt),
        LIMIT.intervalMs,
      ),
    ).toBeLessThanOrEqual(LIMIT.requests);
  } finally {
    secondWorker?.shutdown();
    await secondRun?.catch(() => undefined);
    await connection.close();
    await secondDb.close();
  }
}, 150_000);

test('a 429 holds back every POST of the tenant until its Retry-After; every upgrade still converts once', async () => {
  // One POST per 3 s at Partner Center, fewer than our limit allows: the second POST is refused.
  await new Promise((resolve) => setTimeout(resolve, LIMIT.intervalMs));
  await system.setFaults({ partnerWriteThrottle: { requestsPerWindow: 1, windowMs: 3_000 } });
  const account = sampleAccount({ id: 'backoff-acc' });
  const subscriptions = [0, 1, 2, 3].map((s) => sampleSubscription(account, { id: `backoff-sub-${s}` }));
  await system.seed({ accounts: [account], subscriptions });
  const before = { posts: posts.length, backoffs: backoffsWritten.length };
  const upgradeIds: string[] = [];
  // Started 700 ms apart, so that some reach their POST while another's 429 is being waited out.
  for (const subscription of subscriptions) {
    const started = await api(
      'POST',
      '/v1/upgrades',
      {
        sourceSubscriptionId: subscription.id,
        targetProductId: DEMO_PRODUCT_IDS.businessStandard,
        quantity: subscription.quantity,
        destination: { type: 'new' },
      },
      { 'idempotency-key': randomUUID() },
    );
    expect(started.status).toBe(202);
    upgradeIds.push(started.body.upgradeId as string);
    await new Promise((resolve) => setTimeout(resolve, 700));
  }
  for (const upgradeId of upgradeIds) {
    const upgrade = await until(
      `upgrade ${upgradeId}`,
      () => system.db.models.upgrades.findById(upgradeId, { status: 1 }).lean(),
      // Converted at Microsoft and invoiced (the licences may wait for a manual reassignment), or failed.
      (found) => ['completed', 'awaiting_manual_seat_reassignment', 'failed'].includes(found?.status ?? ''),
    );
    expect(upgrade?.status).not.toBe('failed');
  }
  const counters = (await (await fetch(`${system.simulator!.url}/admin/counters`)).json()) as { transitionsCreatedBySubscription: Record<string, number> };
  for (const subscription of subscriptions) expect(counters.transitionsCreatedBySubscription[subscription.externalId]).toBe(1);

  const backoffs = backoffsWritten.slice(before.backoffs);
  const sent = posts.slice(before.posts);
  expect(backoffs.length).toBeGreaterThan(0);
  // Once a 429's backoff is written, no POST leaves before its Retry-After: not the refused one's retry, nor anyone else's.
  // Only a POST already past its last check of the backoff when the 429 came (a database read or two before it leaves)
  // may still go: on a loaded machine that is up to IN_FLIGHT_MS after the write, never later.
  const IN_FLIGHT_MS = 1_000;
  for (const backoff of backoffs) {
    const early = sent.filter((post) => post.sentAt > backoff.writtenAt + IN_FLIGHT_MS && post.sentAt < backoff.until);
    expect({ backoff, early }).toEqual({ backoff, early: [] });
  }
}, 150_000);

test('an upgrade cancelled while it waits for its slot ends failed with nothing sent, its locks released; its POST never leaves', async () => {
  await system.setFaults({ partnerWriteThrottle: null });
  const limit = transitionLimitFromConfig(system.config);
  // A slot taken 6 s ahead: every POST of the tenant waits behind it (slots go in number order).
  const blockedUntil = Date.now() + 6_000;
  await reserveTransitionSlot(system.db.models, limit, new Date(blockedUntil));
  const account = sampleAccount({ id: 'cancel-waiting-acc' });
  const source = sampleSubscription(account, { id: 'cancel-waiting-sub' });
  await system.seed({ accounts: [account], subscriptions: [source] });
  const before = posts.length;
  const started = await api(
    'POST',
    '/v1/upgrades',
    { sourceSubscriptionId: source.id, targetProductId: DEMO_PRODUCT_IDS.businessStandard, quantity: source.quantity, destination: { type: 'new' } },
    { 'idempotency-key': randomUUID() },
  );
  expect(started.status).toBe(202);
  const upgradeId = started.body.upgradeId as string;
  await until(
    'the upgrade to wait for its slot',
    () => system.db.models.upgrades.findById(upgradeId, { status: 1 }).lean(),
    (found) => found?.status === 'awaiting_vendor',
  );
  await system.temporalClient.workflow.getHandle(upgradeId).cancel();
  const ended = await until(
    'the cancelled upgrade to end',
    () => system.db.models.upgrades.findById(upgradeId, { status: 1, error: 1, vendor: 1 }).lean(),
    (found) => ['failed', 'needs_attention'].includes(found?.status ?? ''),
  );
  expect(ended).toMatchObject({ status: 'failed', error: { code: 'UPGRADE_CANCELLED' } });
  expect(ended?.vendor ?? null).toBeNull();
  expect(await system.db.models.subscriptionLocks.countDocuments({ upgradeId })).toBe(0);
  // Past the slot's time: the request activity, had it not been stopped by its cancellation, would have sent by now.
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, blockedUntil + 2_000 - Date.now())));
  expect(posts.length).toBe(before);
  const counters = (await (await fetch(`${system.simulator!.url}/admin/counters`)).json()) as { transitionsCreatedBySubscription: Record<string, number> };
  expect(counters.transitionsCreatedBySubscription[source.externalId]).toBeUndefined();
  expect(await system.db.models.vendorRequestDecisions.findById(`${upgradeId}:0`).lean()).toMatchObject({ decision: 'do_not_send' });
}, 60_000);
