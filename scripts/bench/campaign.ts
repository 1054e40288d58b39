/**
 * `npm run bench -- --campaign 10000 [--seconds 60 --limit-seconds 150 --limit 20 --interval-seconds 10 --database postgresql|sqlite]`
 *
 * An upgrade campaign (docs/campaigns.md) at size N: N Business Basic subscriptions over N/10 accounts, the whole
 * system in this process (API, worker and simulator: src/system.ts, so "peak memory" is the one process's peak RSS),
 * on `npm start`'s embedded database (FerretDB on PostgreSQL where it is installed, else on SQLite).
 *   1. Dry run: `POST /v1/campaigns` over all N subscriptions, timed; items per second.
 *   2. Unthrottled, at size N: the simulator has no limit and the campaign's limit is far above what we can do, so we
 *      are the bottleneck. The N-item campaign runs for `--seconds`: upgrade starts per second; then it is cancelled
 *      and its started upgrades finish.
 *   3. At a realistic limit, scaled in time: Microsoft's 100 per 5 minutes would take 8 hours for 10 000, so the
 *      simulator refuses more than `--limit` transition POSTs per partner per `--interval-seconds` (its window opens
 *      at its first request) and the campaigns' shared limit is the same. A campaign over accounts phase 2 did not
 *      reach runs for `--limit-seconds`; the figure is the transitions Partner Center accepted over the whole windows
 *      since its first, divided by what it allowed in them (target ≥ 0.9), with the 429s it answered.
 * Writes bench-results/campaign-<time>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { bundleWorkflowCode, DefaultLogger, Runtime } from '@temporalio/worker';
import { loadConfig } from '../../src/config';
import { campaignModelsOf } from '../../src/db/campaign-models';
import { addContainmentIndexes } from '../../src/local-services/postgresql';
import type { DatabaseBackend } from '../../src/local-services/service-runner';
import { startBenchServices } from './support/services';
import { assembleSystem, type AssembledSystem } from '../../src/system';
import { WORKFLOWS_PATH } from '../../src/worker-factory';
import { campaignApi, campaignRequest, campaignWorld, untilCampaign, type CampaignApi } from '../support/campaign-driver';
import { REPO_ROOT } from './support/child-worker';

export interface CampaignBenchOptions {
  subscriptions: number;
  /** How long the unthrottled phase runs. */
  seconds: number;
  /** How long the phase at the limit runs. */
  limitSeconds: number;
  limit: number;
  intervalSeconds: number;
  database: DatabaseBackend;
}

const OPERATOR_KEY = 'bench-campaign-operator-key-0123456789';
const say = (message: string) => process.stdout.write(`[bench:campaign] ${new Date().toISOString().slice(11, 19)} ${message}\n`);
const peakRssMiB = () => Math.round(process.resourceUsage().maxRSS / 1024);

async function simulatorCounters(system: AssembledSystem): Promise<{ created: number; throttled: number }> {
  const counters = (await (await fetch(`${system.simulator!.url}/admin/counters`)).json()) as { transitionsCreated: number; throttledResponses: number };
  return { created: counters.transitionsCreated, throttled: counters.throttledResponses };
}

/** Executes the campaign, lets it run `seconds`, cancels it; its starts in that time. */
async function runFor(api: CampaignApi, campaignId: string, seconds: number) {
  const began = Date.now();
  await api.ok('POST', `/v1/campaigns/${campaignId}/execute`);
  await sleep(seconds * 1000);
  const view = await api.ok('GET', `/v1/campaigns/${campaignId}`);
  const elapsedSeconds = (Date.now() - began) / 1000;
  await api.ok('POST', `/v1/campaigns/${campaignId}/cancel`);
  say(`counts at ${elapsedSeconds.toFixed(0)} s: ${JSON.stringify(view.counts)}`);
  return { elapsedSeconds, started: (view.counts.running as number) + (view.counts.completed as number) + (view.counts.failed as number) };
}

/**
 * Partner Center's accepted transitions, sampled every 250 ms while the campaign runs for `seconds`: the fraction of
 * the allowed rate over whole windows from the first accepted one (the simulator's window opens there), so that a
 * window cut short by the end of the measurement counts neither way.
 */
async function runAtLimit(system: AssembledSystem, api: CampaignApi, campaignId: string, options: CampaignBenchOptions) {
  const before = await simulatorCounters(system);
  const samples: Array<{ at: number; created: number }> = [];
  await api.ok('POST', `/v1/campaigns/${campaignId}/execute`);
  const began = Date.now();
  while (Date.now() - began < options.limitSeconds * 1000) {
    samples.push({ at: Date.now(), created: (await simulatorCounters(system)).created - before.created });
    await sleep(250);
  }
  const after = await simulatorCounters(system);
  await api.ok('POST', `/v1/campaigns/${campaignId}/cancel`);
  const first = samples.find((sample) => sample.created > 0);
  if (!first) throw new Error('no transition accepted at the limit');
  const intervalMs = options.intervalSeconds * 1000;
  const windows = Math.floor((samples[samples.length - 1]!.at - first.at) / intervalMs);
  const windowsEnd = first.at + windows * intervalMs;
  const accepted = samples.filter((sample) => sample.at < windowsEnd).pop()!.created;
  const allowed = windows * options.limit;
  return {
    windows,
    allowed,
    accepted,
    fractionOfAllowed: Math.round((accepted / allowed) * 100) / 100,
    refusals: after.throttled - before.throttled,
    transitionsInPhase: after.created - before.created,
  };
}

export async function runCampaignBench(options: CampaignBenchOptions): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR'), shutdownSignals: [] });
  const services = await startBenchServices(options.database, say);
  const database = `bench_campaign_${Date.now()}`;
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') });
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
    // Phases 1 and 2: the tenant's limit on transition POSTs far above what this process can start.
    VENDOR_TRANSITIONS_PER_INTERVAL: '1000000',
    VENDOR_TRANSITIONS_INTERVAL_SECONDS: '1',
  });
  let system: AssembledSystem | undefined;
  try {
    system = await assembleSystem({
      config: { ...config, PORT: 0 },
      simulator: { faults: { completionDelayMs: 500, licenseReassignmentDelayMs: 200 } },
      worker: { workflowBundle },
      api: { campaignWorkflowOptions: { followIntervalMs: 2_000 } },
      dropDatabaseOnClose: true,
    });
    const api = campaignApi(system.api!.url, OPERATOR_KEY);
    if (services.postgresql) {
      // As `npm start` does (src/dev.ts): FerretDB's btrees get the GIN twins its filters can use.
      await campaignModelsOf(system.db.models);
      addContainmentIndexes(services.postgresql, database);
    }
    const { accounts, subscriptions } = campaignWorld({
      prefix: 'bench-cmp',
      accounts: Math.ceil(options.subscriptions / 10),
      perAccount: (a) => Math.min(10, options.subscriptions - a * 10),
    });
    const seedBegan = Date.now();
    // 20 accounts (200 subscriptions) per call: the simulator's admin API takes bodies up to 1 MB.
    for (let start = 0; start < accounts.length; start += 20) {
      const slice = accounts.slice(start, start + 20);
      const ids = new Set(slice.map((account) => account.id));
      await system.seed({ accounts: slice, subscriptions: subscriptions.filter((subscription) => ids.has(subscription.accountId)) });
    }
    say(`seeded ${subscriptions.length} subscriptions over ${accounts.length} accounts in ${((Date.now() - seedBegan) / 1000).toFixed(1)} s`);

    const dryBegan = Date.now();
    const planned = await api.ok('POST', '/v1/campaigns', campaignRequest('bench dry run', undefined));
    const drySeconds = (Date.now() - dryBegan) / 1000;
    const dryRun = { items: planned.summary.total as number, seconds: drySeconds, itemsPerSecond: Math.round((planned.summary.total as number) / drySeconds) };
    say(`dry run: ${dryRun.items} items in ${drySeconds.toFixed(1)} s (${dryRun.itemsPerSecond} items/s), peak RSS ${peakRssMiB()} MiB`);

    // Phase 2: the N-item campaign itself, unthrottled.
    const unthrottled = await runFor(api, planned.campaignId as string, options.seconds);
    const unthrottledRate = unthrottled.started / unthrottled.elapsedSeconds;
    say(
      `unthrottled: ${unthrottled.started} starts in ${unthrottled.elapsedSeconds.toFixed(1)} s = ${unthrottledRate.toFixed(2)} starts/s (we are the bottleneck)`,
    );
    // Its started upgrades finish before the limit is set, so that their POSTs are not counted against it.
    await untilCampaign(api, planned.campaignId as string, 'the cancelled campaign to settle', (view) => view.counts.running === 0, 600_000);

    // Phase 3: the simulator refuses beyond the limit, and the tenant's limit on transition POSTs is the same. The
    // worker's activities read their limit at each POST, from the dependencies it was started with.
    await system.setFaults({ partnerWriteThrottle: { requestsPerWindow: options.limit, windowMs: options.intervalSeconds * 1000 } });
    system.activityDeps!.transitionLimit = { ...system.activityDeps!.transitionLimit!, limit: options.limit, intervalMs: options.intervalSeconds * 1000 };
    // Enough items for every window, from the accounts phase 2 reached last (items start in `_id` order).
    const wanted = Math.ceil(((options.limitSeconds / options.intervalSeconds + 2) * options.limit * 1.25) / 10);
    const untouched = accounts
      .map((account) => account.id)
      .sort()
      .slice(-wanted);
    const limited = await api.ok('POST', '/v1/campaigns', campaignRequest('bench at the limit', untouched));
    say(`at the limit: a campaign of ${limited.summary.eligible as number} eligible of ${limited.summary.total as number}`);
    const atLimit = await runAtLimit(system, api, limited.campaignId as string, options);
    say(
      `at ${options.limit} per ${options.intervalSeconds} s: ${atLimit.accepted} transitions accepted of ${atLimit.allowed} allowed in ${atLimit.windows} ` +
        `whole windows = ${atLimit.fractionOfAllowed} (target ≥ 0.9), ${atLimit.refusals} refused with 429`,
    );
    const result = {
      command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
      at: new Date().toISOString(),
      subscriptions: subscriptions.length,
      database: options.database,
      dryRun,
      unthrottled: { ...unthrottled, startsPerSecond: Math.round(unthrottledRate * 100) / 100 },
      atLimit: { ...atLimit, limit: options.limit, intervalSeconds: options.intervalSeconds, seconds: options.limitSeconds },
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
