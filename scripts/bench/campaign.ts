/**
 * `npm run bench -- --campaign 10000 [--seconds 60 --limit 20 --interval-seconds 10 --database sqlite|postgresql]`
 *
 * An upgrade campaign (docs/campaigns.md) at size N: N Business Basic subscriptions over N/10 accounts, the whole
 * system in this process (API, worker and simulator: src/system.ts, so "peak memory" is the one process's peak RSS).
 *   1. Dry run: `POST /v1/campaigns` over every account, timed; items per second.
 *   2. Unthrottled: the simulator has no limit and the campaign's limit is far above what we can do, so we are the
 *      bottleneck: upgrade starts per second over `--seconds`, then the campaign is cancelled.
 *   3. At a realistic limit, scaled in time: the simulator refuses more than `--limit` transition POSTs per partner per
 *      `--interval-seconds` (Microsoft's shape: 100 per 5 minutes), and the campaign's shared limit is the same. A
 *      second campaign (the rest of the subscriptions) runs for `--seconds`; the figure is the transitions Partner
 *      Center accepted divided by what it allowed in that time (target ≥ 0.9), with the 429s it answered.
 * Writes bench-results/campaign-<time>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { bundleWorkflowCode, DefaultLogger, Runtime } from '@temporalio/worker';
import { loadConfig } from '../../src/config';
import { DEMO_PRODUCT_IDS } from '../../src/domain/demo-catalog';
import type { Account, Subscription } from '../../src/domain/types';
import { type DatabaseBackend, startServices } from '../../src/local-services/service-runner';
import { sampleAccount, sampleSubscription } from '../../src/sample-data';
import { assembleSystem, type AssembledSystem } from '../../src/system';
import { WORKFLOWS_PATH } from '../../src/worker-factory';
import { REPO_ROOT } from './support/child-worker';

export interface CampaignBenchOptions {
  subscriptions: number;
  seconds: number;
  limit: number;
  intervalSeconds: number;
  database: DatabaseBackend;
}

const OPERATOR_KEY = 'bench-campaign-operator-key-0123456789';
const say = (message: string) => process.stdout.write(`[bench:campaign] ${message}\n`);
const peakRssMiB = () => Math.round(process.resourceUsage().maxRSS / 1024);

function world(size: number): { accounts: Account[]; subscriptions: Subscription[] } {
  const accounts: Account[] = [];
  const subscriptions: Subscription[] = [];
  for (let a = 0; a < Math.ceil(size / 10); a += 1) {
    const account = sampleAccount({ id: `bench-cmp-acc-${a}` });
    accounts.push(account);
    for (let s = 0; s < 10 && subscriptions.length < size; s += 1) subscriptions.push(sampleSubscription(account, { id: `bench-cmp-sub-${a}-${s}` }));
  }
  return { accounts, subscriptions };
}

async function call(system: AssembledSystem, method: string, path: string, body?: unknown): Promise<Record<string, any>> {
  const response = await fetch(`${system.api!.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${OPERATOR_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return JSON.parse(text) as Record<string, any>;
}

async function transitionsCreated(system: AssembledSystem): Promise<{ created: number; throttled: number }> {
  const counters = (await (await fetch(`${system.simulator!.url}/admin/counters`)).json()) as { transitionsCreated: number; throttledResponses: number };
  return { created: counters.transitionsCreated, throttled: counters.throttledResponses };
}

/** Runs a campaign over `accountIds` for `seconds`, then cancels it; the starts and the transitions in that time. */
async function runFor(system: AssembledSystem, name: string, accountIds: string[], seconds: number) {
  const created = await call(system, 'POST', '/v1/campaigns', {
    name,
    sourceProductId: DEMO_PRODUCT_IDS.businessBasic,
    targetProductId: DEMO_PRODUCT_IDS.businessStandard,
    destination: { type: 'new' },
    accountIds,
    quantity: 'all',
  });
  const before = await transitionsCreated(system);
  const began = Date.now();
  await call(system, 'POST', `/v1/campaigns/${created.campaignId}/execute`);
  await sleep(seconds * 1000);
  const view = await call(system, 'GET', `/v1/campaigns/${created.campaignId}`);
  const after = await transitionsCreated(system);
  const skipped = (await call(system, 'GET', `/v1/campaigns/${created.campaignId}/items?outcome=skipped&eligible=true&limit=1`)).items as Array<{
    outcomeReason: string;
  }>;
  say(`${name}: counts ${JSON.stringify(view.counts)}${skipped[0] ? `; skipped at start, e.g. ${skipped[0].outcomeReason}` : ''}`);
  const elapsedSeconds = (Date.now() - began) / 1000;
  await call(system, 'POST', `/v1/campaigns/${created.campaignId}/cancel`).catch(() => undefined);
  const started = (view.counts.running as number) + (view.counts.completed as number) + (view.counts.failed as number);
  return {
    campaignId: created.campaignId as string,
    elapsedSeconds,
    started,
    transitions: after.created - before.created,
    refusals: after.throttled - before.throttled,
  };
}

export async function runCampaignBench(options: CampaignBenchOptions): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR'), shutdownSignals: [] });
  const services = await startServices({
    headless: true,
    log: say,
    database: options.database,
    ...(process.env.MONGODB_URI ? { mongodbUri: process.env.MONGODB_URI } : {}),
    ...(process.env.TEMPORAL_ADDRESS ? { temporalAddress: process.env.TEMPORAL_ADDRESS } : {}),
  });
  const database = `bench_campaign_${Date.now()}`;
  /** The whole system, its campaigns limited to `limit` starts per `intervalSeconds`. */
  const assemble = async (limit: number, intervalSeconds: number) => {
    const config = loadConfig({
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      TEMPORAL_ADDRESS: services.temporalAddress,
      TEMPORAL_TASK_QUEUE: `bench-campaign-${Date.now()}`,
      MONGODB_URI: services.mongodbUri,
      MONGODB_DATABASE: database,
      OPERATOR_API_KEY: OPERATOR_KEY,
      WEBHOOK_SIGNING_SECRET: 'bench-signing-secret-0123',
      VENDOR_TOKEN: 'bench',
      VENDOR_POLL_INITIAL_MS: '200',
      VENDOR_POLL_MAX_MS: '1000',
      CATALOG_CACHE_SECONDS: '5',
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
      CAMPAIGN_STARTS_PER_INTERVAL: String(limit),
      CAMPAIGN_INTERVAL_SECONDS: String(intervalSeconds),
    });
    return assembleSystem({
      config: { ...config, PORT: 0 },
      simulator: { faults: { completionDelayMs: 500, licenseReassignmentDelayMs: 200 } },
      worker: { workflowBundle },
      api: { campaignWorkflowOptions: { followIntervalMs: 2_000 } },
      dropDatabaseOnClose: true,
    });
  };
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') });
  let system: AssembledSystem | undefined;
  try {
    // Phases 1 and 2: the campaigns' limit far above what this process can start, the simulator unlimited.
    system = await assemble(1_000_000, 1);
    const { accounts, subscriptions } = world(options.subscriptions);
    const half = Math.ceil(accounts.length / 2);
    const seedBegan = Date.now();
    await system.seed({ accounts, subscriptions });
    say(`seeded ${subscriptions.length} subscriptions over ${accounts.length} accounts in ${((Date.now() - seedBegan) / 1000).toFixed(1)} s`);

    const dryBegan = Date.now();
    const planned = await call(system, 'POST', '/v1/campaigns', {
      name: 'bench dry run',
      sourceProductId: DEMO_PRODUCT_IDS.businessBasic,
      targetProductId: DEMO_PRODUCT_IDS.businessStandard,
      destination: { type: 'new' },
      quantity: 'all',
    });
    const drySeconds = (Date.now() - dryBegan) / 1000;
    const dryRun = { items: planned.summary.total as number, seconds: drySeconds, itemsPerSecond: Math.round((planned.summary.total as number) / drySeconds) };
    say(`dry run: ${dryRun.items} items in ${drySeconds.toFixed(1)} s (${dryRun.itemsPerSecond} items/s), peak RSS ${peakRssMiB()} MiB`);

    // Half the accounts for the unthrottled phase, the other half for the limited one: no subscription runs twice.
    const unthrottled = await runFor(
      system,
      'bench unthrottled',
      accounts.slice(0, half).map((a) => a.id),
      options.seconds,
    );
    const unthrottledRate = unthrottled.started / unthrottled.elapsedSeconds;
    say(
      `unthrottled: ${unthrottled.started} starts in ${unthrottled.elapsedSeconds.toFixed(1)} s = ${unthrottledRate.toFixed(2)} starts/s (we are the bottleneck)`,
    );

    // Phase 3: the simulator refuses beyond the limit, and the campaigns' shared limit is the same. The worker reads
    // its limit from the configuration when it starts (src/system.ts), so it is restarted with the new one.
    await system.setFaults({ partnerWriteThrottle: { requestsPerWindow: options.limit, windowMs: options.intervalSeconds * 1000 } });
    await system.stopWorker();
    Object.assign(system.config, { CAMPAIGN_STARTS_PER_INTERVAL: options.limit, CAMPAIGN_INTERVAL_SECONDS: options.intervalSeconds });
    await system.startWorker();
    const atLimit = await runFor(
      system,
      'bench at the limit',
      accounts.slice(half).map((a) => a.id),
      options.seconds,
    );
    const windows = Math.ceil(atLimit.elapsedSeconds / options.intervalSeconds);
    const allowed = windows * options.limit;
    const fraction = atLimit.transitions / allowed;
    say(
      `at ${options.limit} per ${options.intervalSeconds} s: ${atLimit.transitions} transitions accepted of ${allowed} allowed in ${windows} windows = ${fraction.toFixed(2)} ` +
        `(target ≥ 0.9), ${atLimit.refusals} refused with 429`,
    );
    const result = {
      command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
      at: new Date().toISOString(),
      subscriptions: subscriptions.length,
      database: options.database,
      dryRun,
      unthrottled: { ...unthrottled, startsPerSecond: Math.round(unthrottledRate * 100) / 100 },
      atLimit: { ...atLimit, limit: options.limit, intervalSeconds: options.intervalSeconds, allowed, fractionOfAllowed: Math.round(fraction * 100) / 100 },
      peakRssMiB: peakRssMiB(),
      note: 'API, worker and simulator in one process: the peak RSS is theirs together',
    };
    const directory = join(REPO_ROOT, 'bench-results');
    mkdirSync(directory, { recursive: true });
    const file = join(directory, `campaign-${result.at.replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    say(`peak RSS ${result.peakRssMiB} MiB; written ${file}`);
  } finally {
    await system?.close().catch(() => undefined);
    await services.stop();
  }
}
