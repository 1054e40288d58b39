import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'csv-parse/sync';
import { campaignModelsOf } from '../../../src/db/campaign-models';
import { lockSubscriptions } from '../../../src/db/subscription-locks';
import { DEMO_PRODUCT_IDS } from '../../../src/domain/demo-catalog';
import { startFerretDb, type FerretDbServer } from '../../../src/local-services/ferretdb';
import { addContainmentIndexes, startPostgresql, type PostgresqlServer } from '../../../src/local-services/postgresql';
import { sampleAccount, sampleSubscription } from '../../../src/sample-data';
import { assembleSystem, type AssembledSystem } from '../../../src/system';
import { campaignWorkflowIdOf, getCampaignProgressQuery } from '../../../workflows/campaign-messages';
import {
  startChildWorker,
  UPGRADE_WORKER_ENTRY,
  UPGRADE_WORKER_READY_TEXT,
  upgradeWorkerEnv,
  type ChildWorker,
} from '../../../scripts/bench/support/child-worker';
import { campaignApi, campaignRequest, campaignWorld, until, untilCampaign, type CampaignApi } from '../../../scripts/support/campaign-driver';
import { integrationConfig } from '../support/test-config';

/**
 * An upgrade campaign end to end (docs/campaigns.md) at the size of issue 18: 200 subscriptions across 20 accounts,
 * mixed eligible and ineligible, one locked by another upgrade after the dry run, accounts with several sources
 * (manual seat reassignment) and with one (automatic). The run is throttled (10 starts per second), its worker — a
 * real `src/worker.ts` process — is SIGKILLed in the middle and another started, it is paused and resumed, and it
 * continues as new. At the end every eligible item is upgraded exactly once at the simulator, the others are skipped
 * with their reasons, the counts add up and the CSV says the same.
 *
 * The file has its own FerretDB on a private PostgreSQL (as `npm start` where PostgreSQL is installed), with
 * sequential scans disabled: a query no index can serve still scans, and PostgreSQL's statistics then show it — the
 * campaign collections must show none (issue 22: every campaign query served by an index).
 */
const OPERATOR_KEY = 'test-operator-key-0123456789abcdef';
const run = promisify(execFile);
const BIN = join(__dirname, '..', '..', '..', 'src', 'cli', 'bin.cjs');
const P = DEMO_PRODUCT_IDS;
let postgresql: PostgresqlServer;
let ferretDb: FerretDbServer;
let system: AssembledSystem;
let api: CampaignApi;
let webhookServer: Server;
const webhooks: Array<Record<string, unknown>> = [];
const workers: ChildWorker[] = [];
let scansBeforeTheRun: Record<string, number>;
const began = Date.now();
/** Where a long run is (CI logs): seconds since the file began. */
const phase = (message: string) => process.stdout.write(`[campaign test +${Math.round((Date.now() - began) / 1000)} s] ${message}\n`);

/** The worker's settings beside the API's: the campaigns' shared limit at a test's scale, fast vendor polling. */
const SHARED_SETTINGS = {
  OPERATOR_API_KEY: OPERATOR_KEY,
  WEBHOOK_SIGNING_SECRET: 'test-signing-secret-0123',
  VENDOR_POLL_INITIAL_MS: '100',
  VENDOR_POLL_MAX_MS: '500',
  VENDOR_SETTLING_DELAY_MS: '500',
  VENDOR_TRANSITIONS_PER_INTERVAL: '10',
  VENDOR_TRANSITIONS_INTERVAL_SECONDS: '1',
};

async function startWorker(name: string): Promise<ChildWorker> {
  const worker = await startChildWorker({
    name,
    entry: UPGRADE_WORKER_ENTRY,
    env: {
      ...upgradeWorkerEnv({
        temporalAddress: system.config.TEMPORAL_ADDRESS!,
        mongodbUri: ferretDb.uri,
        database: system.config.MONGODB_DATABASE,
        vendorBaseUrl: system.simulator!.url,
        taskQueue: system.config.TEMPORAL_TASK_QUEUE,
      }),
      ...SHARED_SETTINGS,
    },
    readyText: UPGRADE_WORKER_READY_TEXT,
    readyTimeoutMs: 120_000,
  });
  workers.push(worker);
  return worker;
}

beforeAll(async () => {
  webhookServer = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      webhooks.push(JSON.parse(body) as Record<string, unknown>);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => webhookServer.listen(0, '127.0.0.1', resolve));
  postgresql = await startPostgresql();
  postgresql.runSql('ALTER DATABASE ferretdb SET enable_seqscan = off');
  ferretDb = await startFerretDb({ postgresqlUrl: postgresql.url });
  const config = integrationConfig('it', 'campaign', { ...SHARED_SETTINGS, MONGODB_URI: ferretDb.uri });
  system = await assembleSystem({
    config,
    simulator: { faults: { completionDelayMs: 200, licenseReassignmentDelayMs: 100 } },
    // The workers are processes of their own (startWorker), so that one can be SIGKILLed.
    worker: false,
    api: { campaignWorkflowOptions: { followIntervalMs: 500, startsInParallel: 10, eventsBeforeContinueAsNew: 300 } },
    dropDatabaseOnClose: true,
  });
  api = campaignApi(system.api!.url, OPERATOR_KEY);
  // The campaign collections and their indexes exist; FerretDB's btrees get the GIN twins its filters can use.
  await campaignModelsOf(system.db.models);
  addContainmentIndexes(postgresql, config.MONGODB_DATABASE);
  await startWorker('worker-1');
  // From here on (the indexes built, which scans each table once per index), no campaign query may scan.
  scansBeforeTheRun = await campaignTableScans();
}, 180_000);

afterAll(async () => {
  await Promise.allSettled(workers.map((worker) => worker.stop(5_000)));
  await system?.close();
  await ferretDb?.stop();
  await postgresql?.stop();
  await new Promise((resolve) => webhookServer?.close(resolve));
});

/** Sequential scans of a collection's table since the server started (none can be chosen while an index serves). */
function sequentialScansOf(collection: string): number {
  const rows = postgresql.runSql(
    `SELECT coalesce(sum(seq_scan), 0) FROM pg_stat_user_tables WHERE schemaname = '${system.config.MONGODB_DATABASE}' AND relname LIKE '${collection}\\_%'`,
  );
  return Number(rows.trim());
}

async function campaignTableScans(): Promise<Record<string, number>> {
  // A PostgreSQL backend publishes its statistics once it has been idle for 10 s at most.
  await new Promise((resolve) => setTimeout(resolve, 11_000));
  return { campaigns: sequentialScansOf('campaigns'), campaign_items: sequentialScansOf('campaign_items') };
}

/**
 * Business Basic subscriptions over 20 accounts: accounts 0–17 hold 11 each (9 eligible, a trial and a suspended one;
 * several sources, so their seats go to a manual reassignment), accounts 18 and 19 one each (automatic reassignment).
 */
const MANUAL_ACCOUNTS = 18;
const PER_MANUAL_ACCOUNT = 11;
function world() {
  const webhookUrl = `http://127.0.0.1:${(webhookServer.address() as AddressInfo).port}/hooks`;
  const { accounts, subscriptions } = campaignWorld({
    prefix: 'cmp',
    accounts: MANUAL_ACCOUNTS + 2,
    perAccount: (a) => (a < MANUAL_ACCOUNTS ? PER_MANUAL_ACCOUNT : 1),
    account: (a) => (a === 0 ? { webhookUrl } : undefined),
    overrides: (a, s) =>
      a >= MANUAL_ACCOUNTS
        ? undefined
        : s === PER_MANUAL_ACCOUNT - 2
          ? { isTrial: true }
          : s === PER_MANUAL_ACCOUNT - 1
            ? { status: 'suspended' }
            : { quantity: 5 + s },
  });
  const isIneligible = (subscription: (typeof subscriptions)[number]) => subscription.isTrial || subscription.status === 'suspended';
  return {
    accounts,
    subscriptions,
    eligibleIds: subscriptions.filter((subscription) => !isIneligible(subscription)).map((subscription) => subscription.id),
    ineligibleIds: subscriptions.filter(isIneligible).map((subscription) => subscription.id),
  };
}

test('200 subscriptions across 20 accounts: planned, run throttled through a worker SIGKILL and a pause, each eligible one upgraded exactly once', async () => {
  const { accounts, subscriptions, eligibleIds, ineligibleIds } = world();
  expect(subscriptions).toHaveLength(200);
  expect(accounts).toHaveLength(20);
  await system.seed({ accounts, subscriptions });

  const bad = await api.call('POST', '/v1/campaigns', { ...campaignRequest('x', undefined), quantity: 3 });
  expect(bad.status).toBe(400);
  expect(bad.body.error.details.fields.map((field: { path: string }) => field.path)).toEqual(['quantity']);

  const created = await api.call('POST', '/v1/campaigns', {
    ...campaignRequest(
      'Basic to Premium',
      accounts.map((account) => account.id),
    ),
    targetProductId: P.businessPremium,
  });
  expect(created.status).toBe(201);
  const { campaignId, summary } = created.body;
  expect(created.body.status).toBe('planned');
  expect(summary).toMatchObject({ total: 200, eligible: eligibleIds.length, ineligible: ineligibleIds.length });
  expect(summary.byReason).toEqual({ SOURCE_IS_TRIAL: MANUAL_ACCOUNTS, SOURCE_NOT_ACTIVE: MANUAL_ACCOUNTS });
  phase('planned');
  expect(summary.totals).toHaveLength(1);
  expect(summary.totals[0].currency).toBe('USD');
  expect(summary.totals[0].credit).toBeLessThan(0);
  expect(summary.totals[0].debit).toBeGreaterThan(0);

  // The ineligible items, paged: every one with its reasons, skipped from the outset.
  const ineligibleSeen: Array<{ subscriptionId: string; reasons: unknown[]; outcome: string }> = [];
  let cursor: string | undefined;
  do {
    const page = await api.ok('GET', `/v1/campaigns/${campaignId}/items?eligible=false&limit=10${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    expect(page.items.length).toBeLessThanOrEqual(10);
    ineligibleSeen.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  expect(ineligibleSeen.map((item) => item.subscriptionId).sort()).toEqual([...ineligibleIds].sort());
  expect(ineligibleSeen.every((item) => item.reasons.length > 0 && item.outcome === 'skipped')).toBe(true);

  // Another upgrade takes one eligible subscription after the dry run: the run must skip it, naming the holder.
  const lockedId = eligibleIds[1]!;
  await lockSubscriptions(system.db.models, 'upg_someone_else', 'cmp-acc-0', [lockedId], 'start');

  expect((await api.call('POST', `/v1/campaigns/${campaignId}/execute`)).status).toBe(202);
  expect((await api.call('POST', `/v1/campaigns/${campaignId}/execute`)).status).toBe(202); // idempotent
  phase('executing');

  // The worker process SIGKILLed mid-run (no drain, activities cut short), another started: the run goes on.
  await untilCampaign(api, campaignId, 'some starts', (view) => view.counts.running + view.counts.completed >= 30);
  const first = workers[0]!;
  first.kill('SIGKILL');
  phase('worker-1 SIGKILLed');
  expect((await first.exited).signal).toBe('SIGKILL');
  const atKill = (await api.ok('GET', `/v1/campaigns/${campaignId}`)).counts;
  expect(atKill.pending).toBeGreaterThan(0);
  // Nothing starts while no worker runs.
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  expect((await api.ok('GET', `/v1/campaigns/${campaignId}`)).counts.pending).toBe(atKill.pending);
  await startWorker('worker-2');
  phase('worker-2 ready');

  // Paused: no new start while paused; resumed: the rest.
  await untilCampaign(api, campaignId, 'starts after the restart', (view) => view.counts.pending < atKill.pending, 150_000);
  const paused = await api.call('POST', `/v1/campaigns/${campaignId}/pause`);
  expect(paused.status).toBe(200);
  expect(paused.body.status).toBe('paused');
  phase(`paused at ${JSON.stringify(paused.body.counts)}`);
  // Starts already in flight when the pause arrived (one parallel batch at most, whose slots were being taken) still
  // land; none after them. Settled once the run has no activity pending and its own counts (updated when its batch
  // ends) agree with the items'.
  const handle = system.temporalClient.workflow.getHandle(campaignWorkflowIdOf(campaignId));
  const settled = await until(
    'the in-flight starts to land',
    async () => [
      (await api.ok('GET', `/v1/campaigns/${campaignId}`)).counts.pending as number,
      (await handle.query(getCampaignProgressQuery)).counts.pending,
      (await handle.describe()).raw.pendingActivities?.length ?? 0,
    ],
    ([stored, run, activities]) => stored === run && activities === 0,
    60_000,
  );
  const pendingAtPause = settled[0]!;
  expect(pendingAtPause).toBeGreaterThanOrEqual(paused.body.counts.pending - 10);
  expect(pendingAtPause).toBeGreaterThan(0);
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const duringPause = await api.ok('GET', `/v1/campaigns/${campaignId}`);
  expect(duringPause.status).toBe('paused');
  expect(duringPause.counts.pending).toBe(pendingAtPause);
  const resumed = await api.call('POST', `/v1/campaigns/${campaignId}/resume`);
  expect(resumed.body.status).toBe('running');
  phase('resumed');

  const done = await untilCampaign(api, campaignId, 'the campaign to complete', (view) => view.status === 'completed', 200_000);
  const { counts } = done;
  phase('completed');
  expect(counts).toEqual({
    total: 200,
    pending: 0,
    running: 0,
    completed: eligibleIds.length - 1,
    failed: 0,
    skipped: ineligibleIds.length + 1,
  });
  const progress = await system.temporalClient.workflow.getHandle(campaignWorkflowIdOf(campaignId)).query(getCampaignProgressQuery);
  expect(progress.counts).toEqual(counts);
  // The run continued as new on the way (a short history limit here), carrying its state.
  let runs = 0;
  for await (const execution of system.temporalClient.workflow.list({ query: `WorkflowId = "${campaignWorkflowIdOf(campaignId)}"` })) runs += execution ? 1 : 0;
  expect(runs).toBeGreaterThan(1);
  const description = await system.temporalClient.workflow.getHandle(campaignWorkflowIdOf(campaignId)).describe();
  expect(description.searchAttributes.CampaignStatus).toEqual(['completed']);
  expect(description.searchAttributes.CampaignItemsDone).toEqual([counts.total]);

  // Exactly once at Microsoft: one transition per upgraded subscription, none for the others.
  const simulatorCounters = (await (await fetch(`${system.simulator!.url}/admin/counters`)).json()) as {
    transitionsCreatedBySubscription: Record<string, number>;
  };
  const upgradedIds = eligibleIds.filter((id) => id !== lockedId);
  expect(upgradedIds.filter((id) => simulatorCounters.transitionsCreatedBySubscription[`ext-${id}`] !== 1)).toEqual([]);
  for (const id of [...ineligibleIds, lockedId]) expect(simulatorCounters.transitionsCreatedBySubscription[`ext-${id}`]).toBeUndefined();
  // One upgrade record per upgraded subscription, whatever the kill interrupted.
  expect(await system.db.models.upgrades.countDocuments({})).toBe(upgradedIds.length);

  // Executing again after the end is refused and starts nothing.
  expect((await api.call('POST', `/v1/campaigns/${campaignId}/execute`)).status).toBe(409);

  const report = await api.call('GET', `/v1/campaigns/${campaignId}/report.csv`);
  expect(report.status).toBe(200);
  expect(report.headers.get('content-type')).toMatch(/^text\/csv/);
  const rows = parse(report.text, { columns: true }) as Array<Record<string, string>>;
  expect(rows).toHaveLength(counts.total);
  const bySubscription = new Map(rows.map((row) => [row.subscriptionId!, row]));
  expect(bySubscription.get(lockedId)).toMatchObject({ outcome: 'skipped', eligible: 'true' });
  expect(bySubscription.get(lockedId)!.outcomeReason).toContain('upg_someone_else');
  for (const id of ineligibleIds) {
    expect(bySubscription.get(id)).toMatchObject({ outcome: 'skipped', eligible: 'false' });
    expect(bySubscription.get(id)!.reasons).toMatch(/^SOURCE_(IS_TRIAL|NOT_ACTIVE)$/);
  }
  const completedRows = rows.filter((row) => row.outcome === 'completed');
  expect(completedRows.map((row) => row.subscriptionId).sort()).toEqual([...upgradedIds].sort());
  // Accounts with several sources wait for a manual reassignment, and the report lists them; the others are done.
  const seatsOf = (accountId: string) => completedRows.filter((row) => row.accountId === accountId).map((row) => row.seatReassignment);
  expect(new Set(seatsOf('cmp-acc-1'))).toEqual(new Set(['manual_pending']));
  expect(seatsOf(`cmp-acc-${MANUAL_ACCOUNTS}`)).toEqual(['automatic']);
  for (const row of completedRows) {
    const upgrade = await system.db.models.upgrades.findById(row.upgradeId).lean();
    expect(upgrade!.request).toMatchObject({ sourceSubscriptionId: row.subscriptionId });
    expect(await system.db.models.invoices.countDocuments({ upgradeId: row.upgradeId })).toBe(2);
  }

  // The account with a webhook heard of its own subscriptions only.
  const completedHook = await until(
    'campaign_completed',
    async () => webhooks.find((hook) => hook.event === 'campaign_completed'),
    (hook) => hook !== undefined,
  );
  expect(completedHook).toMatchObject({ campaignId, accountId: 'cmp-acc-0', campaign: { status: 'completed', counts: { total: PER_MANUAL_ACCOUNT } } });

  // Every campaign query of the dry run, the run, the pages and the report was served by an index.
  expect(await campaignTableScans()).toEqual(scansBeforeTheRun);
  // The bad request stored nothing: this campaign is the only one.
  expect(await system.db.connection.db!.collection('campaigns').countDocuments()).toBe(1);
}, 480_000);

test('the CLI plans, executes and watches a campaign to its end, with a progress bar', async () => {
  const account = sampleAccount({ id: 'cmp-cli-acc' });
  const subscriptions = [0, 1].map((s) => sampleSubscription(account, { id: `cmp-cli-sub-${s}`, productId: P.businessStandard, unitPrice: 1313 }));
  await system.seed({ accounts: [account], subscriptions });
  const env = {
    ...process.env,
    TEMPORAL_ADDRESS: system.config.TEMPORAL_ADDRESS,
    MONGODB_URI: ferretDb.uri,
    MONGODB_DATABASE: system.db.connection.name,
    TEMPORAL_TASK_QUEUE: system.config.TEMPORAL_TASK_QUEUE,
    NODE_ENV: 'development',
  };
  const cli = async (args: string[]) => {
    try {
      const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env, timeout: 90_000 });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code?: number; stdout?: string; stderr?: string };
      return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
    }
  };

  const usage = await cli(['campaign', 'create', '--name', 'x', '--source', P.businessStandard, '--target', P.businessStandard]);
  expect(usage.code).toBe(2);
  const created = await cli([
    'campaign',
    'create',
    '--name',
    'CLI campaign',
    '--source',
    P.businessStandard,
    '--target',
    P.businessPremium,
    '--accounts',
    account.id,
    '--json',
  ]);
  expect(created.code).toBe(0);
  const { campaignId, summary } = JSON.parse(created.stdout) as { campaignId: string; summary: { eligible: number } };
  expect(summary.eligible).toBe(2);

  const executed = await cli(['campaign', 'execute', campaignId, '--watch']);
  expect(executed.code).toBe(0);
  expect(executed.stdout).toContain('completed: 2 completed, 0 failed, 0 skipped, 0 running, 0 pending of 2');
  expect(executed.stderr).toMatch(/campaign cmp_\w+ \|.*\| 2\/2 done/);
  const shown = await cli(['campaign', 'show', campaignId, '--json']);
  expect(JSON.parse(shown.stdout)).toMatchObject({ campaignId, status: 'completed', counts: { completed: 2, total: 2 } });
  const paused = await cli(['campaign', 'pause', campaignId]);
  expect(paused.code).toBe(1);
  expect(paused.stderr).toContain('CAMPAIGN_STATE_CONFLICT');
}, 120_000);
