/**
 * `npm run bench -- --subscriptions 10000,1000000 [--upgrades 30 --database postgresql|sqlite]`
 *
 * How an upgrade's database cost grows with the size of the data. For each size N: a database seeded with N
 * subscriptions over N/10 accounts (scripts/api-latency/seed.ts; on PostgreSQL with the containment indexes and
 * `VACUUM ANALYZE`) and the whole system in this process on it (API, worker, simulator: src/system.ts); then
 * `--upgrades` full upgrades into a new subscription on each size, alternating between the sizes, each timed from
 * POST /v1/upgrades until its record is final.
 * Every command the API and the worker send is seen by the driver's command monitoring (one connection, in this
 * process): per upgrade, the database milliseconds and commands, and the commands by shape. The last line is the
 * ratio of the largest size's database time per upgrade to the smallest's (target ≤ 1.2: cost flat in data size).
 * Writes bench-results/data-size-<time>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Db, MongoClient } from 'mongodb';
import { join } from 'node:path';
import { loadConfig } from '../../src/config';
import { loadAccount, loadSubscription } from '../../src/db/mappers';
import { demoProducts } from '../../src/domain/demo-catalog';
import { addContainmentIndexes, vacuumAnalyze } from '../../src/local-services/postgresql';
import { type DatabaseBackend, type RunningServices, startServices } from '../../src/local-services/service-runner';
import type { Subscription } from '../../src/domain/types';
import { registerWithSimulator, simulatorSeedFor } from '../../src/partner-center/simulator-registration';
import { assembleSystem } from '../../src/system';
import { DbTiming, type CommandStats } from '../api-latency/db-timing';
import { accountIdOf, seed, START_TARGET_PRODUCT, subscriptionIdOf } from '../api-latency/seed';
import { REPO_ROOT } from './support/child-worker';
import { FINAL_STATUSES } from './support/load';
import { withCommandMonitoring } from '../support/command-monitoring';

export interface DataSizeOptions {
  sizes: number[];
  upgrades: number;
  database: Exclude<DatabaseBackend, 'memory'>;
}

interface SizeResult {
  subscriptions: number;
  accounts: number;
  seedSeconds: number;
  upgrades: number;
  completed: number;
  /** Median over the upgrades of the database milliseconds each spent (all commands, API and worker). */
  dbMsPerUpgradeP50: number;
  dbMsPerUpgradeMean: number;
  commandsPerUpgrade: number;
  wallMsPerUpgradeP50: number;
  byCommand: CommandStats[];
}

const OPERATOR_KEY = 'bench-data-size-operator-key-0123456789';
const say = (message: string) => process.stdout.write(`[bench:data-size] ${message}\n`);

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? 0 : sorted[Math.floor((sorted.length - 1) / 2)]!;
};
const round1 = (value: number) => Math.round(value * 10) / 10;

/** One size's database and system, seeded, with what its upgrades measured so far. */
interface Stand {
  subscriptions: number;
  accounts: number;
  seedSeconds: number;
  system: Awaited<ReturnType<typeof assembleSystem>>;
  sources: Subscription[];
  watcher: Db;
  /** Reset before each upgrade: that upgrade's commands. */
  timing: DbTiming;
  /** Every command of every upgrade of this size. */
  aggregate: DbTiming;
  dbMs: number[];
  wallMs: number[];
  commands: number;
  upgradeIds: string[];
}

async function prepareStand(services: RunningServices, subscriptions: number, options: DataSizeOptions, watcherClient: MongoClient): Promise<Stand> {
  const accounts = Math.max(options.upgrades, Math.floor(subscriptions / 10));
  const database = `data_size_${subscriptions}`;
  const config = {
    ...loadConfig({
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      OPERATOR_API_KEY: OPERATOR_KEY,
      TEMPORAL_ADDRESS: services.temporalAddress,
      TEMPORAL_TASK_QUEUE: `bench-data-size-${subscriptions}`,
      MONGODB_URI: withCommandMonitoring(services.mongodbUri),
      MONGODB_DATABASE: database,
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
      VENDOR_POLL_INITIAL_MS: '100',
      VENDOR_POLL_MAX_MS: '200',
      // We measure the database, not Partner Center's limit on transition POSTs.
      VENDOR_TRANSITIONS_PER_INTERVAL: '1000000',
      VENDOR_TRANSITIONS_INTERVAL_SECONDS: '1',
    }),
    PORT: 0,
  };
  const system = await assembleSystem({ config, simulator: { faults: { completionDelayMs: 0, licenseReassignmentDelayMs: 0 } } });
  const began = performance.now();
  await seed(system.db.models, { accounts, subscriptions }, { batchSize: 2_000, log: say });
  if (services.postgresql) {
    addContainmentIndexes(services.postgresql, database);
    vacuumAnalyze(services.postgresql);
  }
  const seedSeconds = (performance.now() - began) / 1000;
  say(`${subscriptions.toLocaleString('en-US')} subscriptions over ${accounts.toLocaleString('en-US')} accounts seeded in ${seedSeconds.toFixed(1)} s`);

  // The simulator learns only the accounts and sources the run upgrades (Partner Center has them all).
  const sourceIds = Array.from({ length: options.upgrades }, (_, i) => subscriptionIdOf(i, 0));
  const sources = await Promise.all(
    sourceIds.map(async (id) => {
      const source = await loadSubscription(system.db.models, id);
      if (!source) throw new Error(`seeded source ${id} missing`);
      return source;
    }),
  );
  const owners = await Promise.all(Array.from({ length: options.upgrades }, (_, i) => loadAccount(system.db.models, accountIdOf(i))));
  await registerWithSimulator(
    system.simulator!.url,
    simulatorSeedFor({ accounts: owners.filter((a) => a !== undefined), subscriptions: sources, products: demoProducts() }),
  );
  return {
    subscriptions,
    accounts,
    seedSeconds,
    system,
    sources,
    watcher: watcherClient.db(database),
    timing: new DbTiming(system.db.connection),
    aggregate: new DbTiming(system.db.connection),
    dbMs: [],
    wallMs: [],
    commands: 0,
    upgradeIds: [],
  };
}

/** Upgrade `index` of a stand, timed from POST /v1/upgrades until the record is final. */
async function upgradeOnce(stand: Stand, index: number): Promise<void> {
  const { system } = stand;
  const source = stand.sources[index]!;
  stand.timing.reset();
  const began = performance.now();
  const response = await fetch(`${system.api!.url}/v1/upgrades`, {
    method: 'POST',
    headers: { authorization: `Bearer ${OPERATOR_KEY}`, 'content-type': 'application/json', 'idempotency-key': `data-size-${stand.subscriptions}-${index}` },
    body: JSON.stringify({ sourceSubscriptionId: source.id, targetProductId: START_TARGET_PRODUCT, quantity: source.quantity, destination: { type: 'new' } }),
  });
  const body = (await response.json()) as { upgradeId?: string };
  if (response.status !== 202 || !body.upgradeId) throw new Error(`start of ${source.id} answered ${response.status}: ${JSON.stringify(body)}`);
  // Watched on the bench's own connection (not counted); a manual seat reassignment is confirmed as a portal would.
  let confirmed = false;
  for (;;) {
    const record = await stand.watcher.collection('upgrades').findOne({ _id: body.upgradeId as never }, { projection: { status: 1 } });
    const status = String(record?.status ?? '');
    if (FINAL_STATUSES.has(status)) break;
    if (status === 'awaiting_manual_seat_reassignment' && !confirmed) {
      const confirmation = await fetch(`${system.api!.url}/v1/upgrades/${body.upgradeId}/seat-reassignment`, {
        method: 'POST',
        headers: { authorization: `Bearer ${OPERATOR_KEY}`, 'content-type': 'application/json' },
        body: '{}',
      });
      confirmed = confirmation.status === 200;
    }
    await sleep(50);
  }
  stand.wallMs.push(performance.now() - began);
  stand.dbMs.push(stand.timing.totalMs());
  stand.commands += stand.timing.stats().reduce((sum, s) => sum + s.count, 0);
  stand.upgradeIds.push(body.upgradeId);
}

async function resultOf(stand: Stand): Promise<SizeResult> {
  const completed = await stand.system.db.models.upgrades.countDocuments({ _id: { $in: stand.upgradeIds }, status: 'completed' });
  const upgrades = stand.upgradeIds.length;
  return {
    subscriptions: stand.subscriptions,
    accounts: stand.accounts,
    seedSeconds: round1(stand.seedSeconds),
    upgrades,
    completed,
    dbMsPerUpgradeP50: round1(median(stand.dbMs)),
    dbMsPerUpgradeMean: round1(stand.dbMs.reduce((s, v) => s + v, 0) / Math.max(1, upgrades)),
    commandsPerUpgrade: round1(stand.commands / Math.max(1, upgrades)),
    wallMsPerUpgradeP50: round1(median(stand.wallMs)),
    byCommand: stand.aggregate.stats().slice(0, 12),
  };
}

/**
 * Every size seeded first, in one database server; then the upgrades alternate between the sizes (upgrade i of each
 * size, in turn), so that whatever else the machine does weighs on every size alike and the ratio compares like with like.
 */
async function measureSizes(options: DataSizeOptions): Promise<SizeResult[]> {
  const services = await startServices({ headless: true, persistent: false, database: options.database });
  const watcherClient = await new MongoClient(services.mongodbUri).connect();
  const stands: Stand[] = [];
  try {
    for (const size of options.sizes) stands.push(await prepareStand(services, size, options, watcherClient));
    say(`${options.upgrades} upgrades on each size, alternating`);
    for (let index = 0; index < options.upgrades; index += 1) for (const stand of stands) await upgradeOnce(stand, index);
    return await Promise.all(stands.map(resultOf));
  } finally {
    for (const stand of stands) await stand.system.close();
    await watcherClient.close();
    await services.stop();
  }
}

export async function runDataSizeBench(options: DataSizeOptions): Promise<void> {
  say(`sizes ${options.sizes.map((size) => size.toLocaleString('en-US')).join(', ')} (FerretDB on ${options.database})`);
  const results = await measureSizes(options);
  for (const result of results) {
    say(
      `size ${result.subscriptions.toLocaleString('en-US')}: ${result.completed}/${result.upgrades} completed; database per upgrade p50 ${result.dbMsPerUpgradeP50} ms ` +
        `(mean ${result.dbMsPerUpgradeMean}), ${result.commandsPerUpgrade} commands; wall p50 ${result.wallMsPerUpgradeP50} ms`,
    );
    for (const command of result.byCommand) say(`   ${command.command}: ${command.count} × mean ${command.meanMs} ms (p99 ${command.p99Ms})`);
  }
  const smallest = results[0]!;
  const largest = results[results.length - 1]!;
  const ratio = smallest.dbMsPerUpgradeP50 > 0 ? largest.dbMsPerUpgradeP50 / smallest.dbMsPerUpgradeP50 : Number.NaN;
  say(
    `database time per upgrade at ${largest.subscriptions.toLocaleString('en-US')} / at ${smallest.subscriptions.toLocaleString('en-US')} subscriptions: ` +
      `${ratio.toFixed(2)} (target ≤ 1.2)`,
  );
  const directory = join(REPO_ROOT, 'bench-results');
  mkdirSync(directory, { recursive: true });
  const file = join(directory, `data-size-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify({ command: `npm run bench -- ${process.argv.slice(2).join(' ')}`, options, results, ratio }, null, 2)}\n`);
  say(`written ${file}`);
}
