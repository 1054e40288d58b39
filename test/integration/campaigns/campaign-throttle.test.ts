import { bundleWorkflowCode, DefaultLogger, Runtime } from '@temporalio/worker';
import { DEMO_PRODUCT_IDS } from '../../../src/domain/demo-catalog';
import { sampleAccount, sampleSubscription } from '../../../src/sample-data';
import { assembleSystem, type AssembledSystem } from '../../../src/system';
import { WORKFLOWS_PATH } from '../../../src/worker-factory';
import { recordVendorBackoff, takeStartSlots } from '../../../src/campaigns/throttle';
import { campaignWorkflowIdOf } from '../../../workflows/campaign-messages';
import { integrationConfig } from '../support/test-config';

/**
 * The campaigns' shared throttle (docs/campaigns.md, "Throttle") on the real database: concurrent takers never get
 * more slots than the limit, a recorded 429 stops every start until its Retry-After, and end to end a 429 from
 * Partner Center (the simulator's per-partner write limit) makes the campaign wait it out, and still every item is
 * upgraded exactly once.
 */
const OPERATOR_KEY = 'test-operator-key-0123456789abcdef';
let system: AssembledSystem;

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
  const config = integrationConfig('it', 'campaign-throttle', {
    OPERATOR_API_KEY: OPERATOR_KEY,
    WEBHOOK_SIGNING_SECRET: 'test-signing-secret-0123',
    VENDOR_POLL_INITIAL_MS: '100',
    VENDOR_POLL_MAX_MS: '500',
    VENDOR_SETTLING_DELAY_MS: '500',
    CAMPAIGN_STARTS_PER_INTERVAL: '2',
    CAMPAIGN_INTERVAL_SECONDS: '1',
  });
  system = await assembleSystem({
    config,
    // One transition POST per partner per 4 s: the second start's POST is refused with Retry-After: 4.
    simulator: { faults: { completionDelayMs: 200, licenseReassignmentDelayMs: 100, partnerWriteThrottle: { requestsPerWindow: 1, windowMs: 4_000 } } },
    worker: { workflowBundle: await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') }) },
    api: { campaignWorkflowOptions: { followIntervalMs: 500, startsInParallel: 1 } },
    dropDatabaseOnClose: true,
  });
}, 120_000);

afterAll(async () => {
  await system?.close();
});

test('concurrent takers share one sliding window: never more than the limit in any interval; a backoff stops all starts until it ends', async () => {
  const settings = { key: `tenant-${Date.now()}`, limit: 7, intervalMs: 60_000 };
  // Any instant: the window slides with the starts, it is not aligned to the clock.
  const now = new Date(Date.UTC(2031, 1, 3, 4, 5, 6, 789));
  const grants = await Promise.all(Array.from({ length: 20 }, () => takeStartSlots(system.db.models, settings, 1, now)));
  expect(grants.reduce((sum, grant) => sum + grant.granted, 0)).toBe(7);
  // Refused until the oldest of the 7 is an interval old.
  for (const grant of grants.filter((g) => g.granted === 0)) expect(grant.retryAfterMs).toBeGreaterThan(0);
  expect(await takeStartSlots(system.db.models, settings, 1, new Date(now.getTime() + 30_000))).toEqual({ granted: 0, retryAfterMs: 30_000 });
  // An interval later the 7 have aged out: 7 more, and not one beyond (a clock-aligned window would grant 7 at its
  // end and 7 at the next one's start: 14 within a few seconds, which Partner Center's own window may refuse).
  const later = new Date(now.getTime() + 60_000);
  expect((await takeStartSlots(system.db.models, settings, 10, later)).granted).toBe(7);
  expect(await takeStartSlots(system.db.models, settings, 1, new Date(later.getTime() + 59_999))).toEqual({ granted: 0, retryAfterMs: 1 });
  expect((await takeStartSlots(system.db.models, settings, 1, new Date(later.getTime() + 60_000))).granted).toBe(1);

  const other = { ...settings, key: `${settings.key}-b` };
  await recordVendorBackoff(system.db.models, other.key, new Date(now.getTime() + 4_000));
  expect(await takeStartSlots(system.db.models, other, 1, now)).toEqual({ granted: 0, retryAfterMs: 4_000 });
  expect((await takeStartSlots(system.db.models, other, 1, new Date(now.getTime() + 4_000))).granted).toBe(1);
});

test('a 429 from Partner Center makes the campaign wait out its Retry-After; every item is still upgraded once', async () => {
  const account = sampleAccount({ id: 'thr-acc' });
  const subscriptions = [0, 1, 2, 3].map((s) => sampleSubscription(account, { id: `thr-sub-${s}` }));
  await system.seed({ accounts: [account], subscriptions });
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${system.api!.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${OPERATOR_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return (await response.json()) as Record<string, any>;
  };
  const created = await call('POST', '/v1/campaigns', {
    name: 'Throttled',
    sourceProductId: DEMO_PRODUCT_IDS.businessBasic,
    targetProductId: DEMO_PRODUCT_IDS.businessStandard,
    destination: { type: 'new' },
    accountIds: [account.id],
    quantity: 'all',
  });
  const campaignId = created.campaignId as string;
  await call('POST', `/v1/campaigns/${campaignId}/execute`);
  const deadline = Date.now() + 100_000;
  let view = await call('GET', `/v1/campaigns/${campaignId}`);
  while (view.status !== 'completed' && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    view = await call('GET', `/v1/campaigns/${campaignId}`);
  }
  expect(view.counts).toEqual({ total: 4, pending: 0, running: 0, scheduled: 0, completed: 4, failed: 0, skipped: 0 });

  const counters = (await (await fetch(`${system.simulator!.url}/admin/counters`)).json()) as {
    throttledResponses: number;
    transitionsCreatedBySubscription: Record<string, number>;
  };
  expect(counters.throttledResponses).toBeGreaterThan(0);
  for (const subscription of subscriptions) expect(counters.transitionsCreatedBySubscription[subscription.externalId]).toBe(1);
  expect(await system.db.connection.db!.collection('vendor_backoffs').countDocuments()).toBeGreaterThan(0);

  // The start loop waited on a timer longer than any wait for the limit (≤ 1 s here): the 429's Retry-After.
  const history = await system.temporalClient.workflow.getHandle(campaignWorkflowIdOf(campaignId)).fetchHistory();
  const events = history.events ?? [];
  const lastStart = events.map((event) => event.activityTaskScheduledEventAttributes?.activityType?.name).lastIndexOf('startCampaignItem');
  const startLoopTimersMs = events
    .slice(0, lastStart)
    .flatMap((event) => event.timerStartedEventAttributes?.startToFireTimeout ?? [])
    .map((duration) => Number(duration.seconds ?? 0) * 1000 + Math.round((duration.nanos ?? 0) / 1e6));
  expect(Math.max(0, ...startLoopTimersMs)).toBeGreaterThan(1_500);
}, 150_000);
