import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'csv-parse/sync';
import { bundleWorkflowCode, DefaultLogger, Runtime } from '@temporalio/worker';
import { DEMO_PRODUCT_IDS } from '../../../src/domain/demo-catalog';
import type { Account, Subscription } from '../../../src/domain/types';
import { sampleAccount, sampleSubscription } from '../../../src/sample-data';
import { assembleSystem, type AssembledSystem } from '../../../src/system';
import { WORKFLOWS_PATH } from '../../../src/worker-factory';
import { lockSubscriptions } from '../../../src/db/subscription-locks';
import { campaignWorkflowIdOf, getCampaignProgressQuery } from '../../../workflows/campaign-messages';
import { integrationConfig } from '../support/test-config';

/**
 * An upgrade campaign end to end (docs/campaigns.md), scaled to what finishes in about a minute on this two-core
 * machine shared with other suites: 38 subscriptions across 8 accounts (the 200 across 20 has the same shape,
 * but 160 concurrent upgrades overload the embedded FerretDB here for many minutes). Mixed eligible and ineligible,
 * one subscription locked by another upgrade after the dry run, accounts with several sources (manual seat
 * reassignment) and with one (automatic). The run is throttled (4 starts per second), its worker is stopped and
 * replaced in the middle (an in-process stop: the fault suite is where workers are SIGKILLed), it is paused and
 * resumed, and it continues as new. At the end every eligible item is upgraded exactly once at the simulator, the
 * others are skipped with their reasons, the counts add up and the CSV says the same.
 */
const OPERATOR_KEY = 'test-operator-key-0123456789abcdef';
const run = promisify(execFile);
const BIN = join(__dirname, '..', '..', '..', 'src', 'cli', 'bin.cjs');
const P = DEMO_PRODUCT_IDS;
let system: AssembledSystem;
let webhookServer: Server;
const webhooks: Array<Record<string, unknown>> = [];

async function api(method: string, path: string, body?: unknown, key = OPERATOR_KEY) {
  const response = await fetch(`${system.api!.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  let parsed: any;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: response.status, body: parsed, text, headers: response.headers };
}

async function until<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
  webhookServer = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      webhooks.push(JSON.parse(body) as Record<string, unknown>);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => webhookServer.listen(0, '127.0.0.1', resolve));
  const config = integrationConfig('it', 'campaign', {
    OPERATOR_API_KEY: OPERATOR_KEY,
    WEBHOOK_SIGNING_SECRET: 'test-signing-secret-0123',
    VENDOR_POLL_INITIAL_MS: '100',
    VENDOR_POLL_MAX_MS: '500',
    VENDOR_SETTLING_DELAY_MS: '500',
    // The shared throttle at a test's scale: 4 starts per second for every process together.
    CAMPAIGN_STARTS_PER_INTERVAL: '4',
    CAMPAIGN_INTERVAL_SECONDS: '1',
  });
  system = await assembleSystem({
    config,
    simulator: { faults: { completionDelayMs: 200, licenseReassignmentDelayMs: 100 } },
    worker: { workflowBundle: await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') }) },
    api: { campaignWorkflowOptions: { followIntervalMs: 500, startsInParallel: 4, eventsBeforeContinueAsNew: 60 } },
    dropDatabaseOnClose: true,
  });
}, 120_000);

afterAll(async () => {
  await system?.close();
  await new Promise((resolve) => webhookServer?.close(resolve));
});

/**
 * Business Basic subscriptions: accounts 0–5 hold 6 each (4 eligible, a trial and a suspended one; several sources,
 * so their seats go to a manual reassignment), accounts 6 and 7 one each (automatic reassignment).
 */
const MANUAL_ACCOUNTS = 6;
const PER_MANUAL_ACCOUNT = 6;
const AUTOMATIC_ACCOUNTS = 2;
function world(): { accounts: Account[]; subscriptions: Subscription[]; eligibleIds: string[]; ineligibleIds: string[] } {
  const accounts: Account[] = [];
  const subscriptions: Subscription[] = [];
  const eligibleIds: string[] = [];
  const ineligibleIds: string[] = [];
  const webhookUrl = `http://127.0.0.1:${(webhookServer.address() as AddressInfo).port}/hooks`;
  for (let a = 0; a < MANUAL_ACCOUNTS + AUTOMATIC_ACCOUNTS; a += 1) {
    const account = sampleAccount({ id: `cmp-acc-${a}`, ...(a === 0 ? { webhookUrl } : {}) });
    accounts.push(account);
    const count = a < MANUAL_ACCOUNTS ? PER_MANUAL_ACCOUNT : 1;
    for (let s = 0; s < count; s += 1) {
      const id = `cmp-sub-${a}-${s}`;
      const ineligible = count > 1 && s === count - 2 ? { isTrial: true } : count > 1 && s === count - 1 ? { status: 'suspended' as const } : undefined;
      subscriptions.push(sampleSubscription(account, { id, quantity: 5 + s, ...ineligible }));
      (ineligible ? ineligibleIds : eligibleIds).push(id);
    }
  }
  return { accounts, subscriptions, eligibleIds, ineligibleIds };
}

test('a campaign plans, runs throttled through a worker replacement and a pause, and upgrades each eligible subscription exactly once', async () => {
  const { accounts, subscriptions, eligibleIds, ineligibleIds } = world();
  await system.seed({ accounts, subscriptions });

  const bad = await api('POST', '/v1/campaigns', {
    name: 'x',
    sourceProductId: P.businessBasic,
    targetProductId: P.businessPremium,
    destination: { type: 'new' },
    quantity: 3,
  });
  expect(bad.status).toBe(400);
  expect(bad.body.error.details.fields.map((field: { path: string }) => field.path)).toEqual(['quantity']);
  expect(await system.db.connection.db!.collection('campaigns').countDocuments()).toBe(0);

  const created = await api('POST', '/v1/campaigns', {
    name: 'Basic to Premium',
    sourceProductId: P.businessBasic,
    targetProductId: P.businessPremium,
    destination: { type: 'new' },
    accountIds: accounts.map((account) => account.id),
    quantity: 'all',
  });
  expect(created.status).toBe(201);
  const { campaignId, summary } = created.body;
  expect(created.body.status).toBe('planned');
  expect(summary).toMatchObject({ total: eligibleIds.length + ineligibleIds.length, eligible: eligibleIds.length, ineligible: ineligibleIds.length });
  expect(summary.byReason).toEqual({ SOURCE_IS_TRIAL: MANUAL_ACCOUNTS, SOURCE_NOT_ACTIVE: MANUAL_ACCOUNTS });
  expect(summary.totals).toHaveLength(1);
  expect(summary.totals[0].currency).toBe('USD');
  expect(summary.totals[0].credit).toBeLessThan(0);
  expect(summary.totals[0].debit).toBeGreaterThan(0);

  const ineligiblePage = await api('GET', `/v1/campaigns/${campaignId}/items?eligible=false&limit=10`);
  expect(ineligiblePage.status).toBe(200);
  expect(ineligiblePage.body.items).toHaveLength(10);
  expect(ineligiblePage.body.nextCursor).toBeDefined();
  const secondPage = await api('GET', `/v1/campaigns/${campaignId}/items?eligible=false&limit=10&cursor=${encodeURIComponent(ineligiblePage.body.nextCursor)}`);
  const ineligibleSeen = [...ineligiblePage.body.items, ...secondPage.body.items];
  expect(ineligibleSeen.map((item: { subscriptionId: string }) => item.subscriptionId).sort()).toEqual([...ineligibleIds].sort());
  expect(ineligibleSeen.every((item: { reasons: unknown[]; outcome: string }) => item.reasons.length > 0 && item.outcome === 'skipped')).toBe(true);

  // Another upgrade takes one eligible subscription after the dry run: the run must skip it, naming the holder.
  const lockedId = eligibleIds[1]!;
  await lockSubscriptions(system.db.models, 'upg_someone_else', 'cmp-acc-0', [lockedId], 'start');

  const executed = await api('POST', `/v1/campaigns/${campaignId}/execute`);
  expect(executed.status).toBe(202);
  expect((await api('POST', `/v1/campaigns/${campaignId}/execute`)).status).toBe(202); // idempotent

  // A worker replaced mid-run (stopped, a new one started): the run goes on where it was.
  await until(
    'a few starts',
    () => api('GET', `/v1/campaigns/${campaignId}`),
    (r) => r.body.counts.running + r.body.counts.completed >= 4,
  );
  await system.stopWorker();
  await system.startWorker();

  // Paused: no new start while paused; resumed: the rest.
  const paused = await api('POST', `/v1/campaigns/${campaignId}/pause`);
  expect(paused.status).toBe(200);
  expect(paused.body.status).toBe('paused');
  // Starts already in flight when the pause arrived may still land; none after them.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const startedAtPause = (await api('GET', `/v1/campaigns/${campaignId}`)).body.counts.pending as number;
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const duringPause = await api('GET', `/v1/campaigns/${campaignId}`);
  expect(duringPause.body.status).toBe('paused');
  expect(duringPause.body.counts.pending).toBe(startedAtPause);
  expect(startedAtPause).toBeGreaterThan(0);
  const resumed = await api('POST', `/v1/campaigns/${campaignId}/resume`);
  expect(resumed.body.status).toBe('running');

  const done = await until(
    'the campaign to complete',
    () => api('GET', `/v1/campaigns/${campaignId}`),
    (r) => r.body.status === 'completed',
    110_000,
  );
  const { counts } = done.body;
  expect(counts).toEqual({
    total: eligibleIds.length + ineligibleIds.length,
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
  for (const id of eligibleIds.filter((id) => id !== lockedId)) expect(simulatorCounters.transitionsCreatedBySubscription[`ext-${id}`]).toBe(1);
  for (const id of [...ineligibleIds, lockedId]) expect(simulatorCounters.transitionsCreatedBySubscription[`ext-${id}`]).toBeUndefined();

  // Executing again after the end is refused and starts nothing.
  expect((await api('POST', `/v1/campaigns/${campaignId}/execute`)).status).toBe(409);

  const report = await api('GET', `/v1/campaigns/${campaignId}/report.csv`);
  expect(report.status).toBe(200);
  expect(report.headers.get('content-type')).toMatch(/^text\/csv/);
  const rows = parse(report.text, { columns: true }) as Array<Record<string, string>>;
  expect(rows).toHaveLength(counts.total);
  const bySubscription = new Map(rows.map((row) => [row.subscriptionId!, row]));
  expect(bySubscription.get(lockedId)).toMatchObject({ outcome: 'skipped', eligible: 'true' });
  expect(bySubscription.get(lockedId)!.outcomeReason).toContain('upg_someone_else');
  for (const id of ineligibleIds) expect(bySubscription.get(id)!.outcome).toBe('skipped');
  const completedRows = rows.filter((row) => row.outcome === 'completed');
  expect(completedRows).toHaveLength(counts.completed);
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
}, 180_000);

test('the CLI plans, executes and watches a campaign to its end, with a progress bar', async () => {
  const account = sampleAccount({ id: 'cmp-cli-acc' });
  const subscriptions = [0, 1].map((s) => sampleSubscription(account, { id: `cmp-cli-sub-${s}`, productId: P.businessStandard, unitPrice: 1313 }));
  await system.seed({ accounts: [account], subscriptions });
  const env = {
    ...process.env,
    TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS,
    MONGODB_URI: process.env.MONGODB_URI,
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
