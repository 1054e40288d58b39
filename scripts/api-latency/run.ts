/**
 * `npm run bench:api [-- --subscriptions 100000 --accounts 10000 --quick --concurrency 8 --options-requests 2000
 *                       --starts 500 --options-rates 25,50,100 --start-rates 10,20,40 --mixed 40,10 --rate-seconds 10
 *                       --batch-size 2000 --database postgresql|sqlite --durable]`
 *
 * Latency of the portal-facing API with a realistic amount of data (issue #6, "Performance"): with 100k
 * subscriptions across 10k accounts, GET /v1/subscriptions/:id/upgrade-options p50/p95/p99 (target p99 ≤ 25 ms) and
 * POST /v1/upgrades p50/p95/p99 (target p99 ≤ 50 ms)
 *   - at steady loads (open loop: a fixed number of requests per second, each timed from when it was due), the
 *     targets' setting: the verdicts say up to which rate each target holds; then both at once (`--mixed`
 *     options/s,starts/s), as portals send them;
 *   - at a fixed concurrency (closed loop, `--concurrency`): the capacity, i.e. requests/s with the machine saturated,
 * against baselines measured in the same run under the same closed-loop load so that the figures compare across machines:
 *   - `floor`            GET of an unknown path: the full middleware stack (logging, helmet, metrics), no I/O;
 *   - `get-subscription` GET /v1/subscriptions/:id: authentication, rate limit, zod, one `_id` read;
 *   - `health`           GET /health: a database ping and one Temporal RPC.
 * Then the two endpoints once more one request at a time, with the driver's command timings and the Temporal start
 * RPC timed, to split each request into database, Temporal and the rest (our code).
 *
 * Everything is started here and stopped at the end: a throwaway Temporal dev server and FerretDB (startServices), the
 * API in this process on an ephemeral loopback port, the load generator in a worker thread. No worker is needed:
 * a start only needs the Temporal server to accept the workflow. Prints a table, writes bench-results/api-latency-*.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import pino from 'pino';
import { loadConfig } from '../../src/config';
import { connectDatabase, type Database } from '../../src/db/connection';
import { addContainmentIndexes, vacuumAnalyze } from '../../src/local-services/postgresql';
import { parseDatabaseBackend, startServices, type DatabaseBackend, type RunningServices } from '../../src/local-services/service-runner';
import { startApiServer, type ApiServer } from '../../src/server';
import { DbTiming, type CommandStats } from './db-timing';
import { runLoad, summarize, type LatencySummary, type PlannedRequest } from './load';
import { START_TARGET_PRODUCT, accountIdOf, seed, subscriptionIdOf, subscriptionsInAccount, type SeedReport, type SeedShape } from './seed';
import { withCommandMonitoring } from '../support/command-monitoring';

const TARGET_P99_MS = { upgradeOptions: 25, start: 50 } as const;
const OPERATOR_KEY = `bench-operator-${'k'.repeat(24)}`;
const REPO_ROOT = join(__dirname, '..', '..');

interface Options {
  quick: boolean;
  subscriptions: number;
  accounts: number;
  concurrency: number;
  optionsRequests: number;
  starts: number;
  /** Steady loads (requests per second) for upgrade-options and for starts, each held for `rateSeconds`. */
  optionsRates: number[];
  startRates: number[];
  /** Both at once: upgrade-options and starts per second, interleaved evenly. */
  mixed: [number, number];
  rateSeconds: number;
  sequential: number;
  warmup: number;
  batchSize: number;
  phaseTimeoutS: number;
  /** FerretDB's backend: embedded SQLite (tests) or PostgreSQL with containment indexes (`npm start` where installed). */
  database: 'sqlite' | 'postgresql';
  /** PostgreSQL with fsync and synchronous commit on, as `npm start` keeps it (default off: a throwaway cluster). */
  durable: boolean;
}

/** The in-memory server builds no secondary index but unique ones: at 100,000 subscriptions every lookup would scan. */
function indexedDatabase(backend: DatabaseBackend): Exclude<DatabaseBackend, 'memory'> {
  if (backend === 'memory') throw new Error('--database memory builds no secondary indexes: use postgresql (default) or sqlite');
  return backend;
}

function parseOptions(argv: readonly string[]): Options {
  const flag = (name: string) => argv.includes(`--${name}`);
  const value = (name: string): string | undefined => {
    const index = argv.indexOf(`--${name}`);
    if (index >= 0) return argv[index + 1];
    return argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
  };
  const int = (name: string, fallback: number, min = 1) => {
    const raw = value(name);
    if (raw === undefined) return fallback;
    const parsed = Number(raw);
    if (!Number.isInteger(parsed) || parsed < min) throw new Error(`--${name} must be an integer ≥ ${min}, got ${raw}`);
    return parsed;
  };
  const known = new Set([
    'quick',
    'durable',
    'subscriptions',
    'accounts',
    'concurrency',
    'options-requests',
    'starts',
    'options-rates',
    'start-rates',
    'mixed',
    'rate-seconds',
    'sequential',
    'warmup',
    'batch-size',
    'phase-timeout-s',
    'database',
  ]);
  for (const arg of argv) {
    if (arg.startsWith('--') && !known.has(arg.slice(2).split('=')[0]!)) throw new Error(`unknown flag ${arg}`);
  }
  const rates = (name: string, fallback: number[]) => {
    const raw = value(name);
    if (raw === undefined) return fallback;
    const parsed = raw.split(',').map(Number);
    if (parsed.some((rate) => !Number.isFinite(rate) || rate <= 0)) throw new Error(`--${name} must be comma-separated positive rates, got ${raw}`);
    return parsed;
  };
  const quick = flag('quick');
  const options: Options = {
    quick,
    subscriptions: int('subscriptions', quick ? 10_000 : 100_000),
    accounts: int('accounts', quick ? 1_000 : 10_000),
    concurrency: int('concurrency', 8),
    optionsRequests: int('options-requests', quick ? 1_000 : 2_000),
    starts: int('starts', quick ? 200 : 500),
    optionsRates: rates('options-rates', quick ? [25, 50] : [25, 50, 100]),
    startRates: rates('start-rates', quick ? [10, 20] : [10, 20, 40]),
    mixed: rates('mixed', [40, 10]) as [number, number],
    rateSeconds: int('rate-seconds', quick ? 5 : 10),
    sequential: int('sequential', quick ? 100 : 200),
    warmup: int('warmup', quick ? 100 : 200, 0),
    batchSize: int('batch-size', 2_000),
    phaseTimeoutS: int('phase-timeout-s', quick ? 30 : 60),
    // The benchmarks' figures come from FerretDB on PostgreSQL (indexed lookups); `--database sqlite` measures the
    // embedded backend that tests and `npm start` use, whose every filter but `_id` scans the collection.
    database: indexedDatabase(parseDatabaseBackend(value('database'), 'postgresql')),
    durable: flag('durable'),
  };
  if (options.accounts > options.subscriptions) throw new Error('--accounts must not exceed --subscriptions (every account holds at least one)');
  // Every start (and its warm-up and sequential runs) needs a distinct source: subscription 0 of a distinct account.
  if (options.mixed.length !== 2) throw new Error('--mixed takes two rates: upgrade-options/s,starts/s');
  const startsNeeded =
    options.starts +
    Math.ceil(options.warmup / 4) +
    options.sequential +
    [...options.startRates, options.mixed[1]].reduce((sum, rate) => sum + Math.ceil(rate * options.rateSeconds) + 1, 0);
  if (startsNeeded > options.accounts) throw new Error(`${startsNeeded} starts need as many accounts; raise --accounts or lower --starts/--sequential`);
  return options;
}

const say = (message: string) => process.stdout.write(`[bench:api] ${message}\n`);

/** Deterministic pseudo-random sequence (LCG), so runs pick the same subscriptions. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

interface QueryPlan {
  query: string;
  ms: number;
  filterPushdown: unknown;
  plan: string[];
  ferretdbVersion?: string;
}

/**
 * The two subscription reads every upgrade-options request and start makes, run once each on their own, with the
 * server's explain: on FerretDB it says whether the filter reached SQLite (`filterPushdown`) and SQLite's plan.
 */
async function explainHotQueries(database: Database): Promise<QueryPlan[]> {
  const collection = database.connection.db!.collection('subscriptions');
  const queries: Array<{ query: string; filter: Record<string, unknown> }> = [
    { query: 'subscriptions.find({_id})', filter: { _id: subscriptionIdOf(1, 1) } },
    { query: 'subscriptions.find({accountId})', filter: { accountId: accountIdOf(1) } },
  ];
  const plans: QueryPlan[] = [];
  for (const { query, filter } of queries) {
    const started = performance.now();
    await collection.find(filter as never).toArray();
    const ms = performance.now() - started;
    const explain = (await collection.find(filter as never).explain()) as Record<string, unknown>;
    const planner = explain.queryPlanner as { Plan?: unknown; winningPlan?: unknown } | undefined;
    const plan = Array.isArray(planner?.Plan) ? planner.Plan.map(String) : [JSON.stringify(planner?.winningPlan ?? planner ?? {}).slice(0, 200)];
    const serverInfo = explain.serverInfo as { ferretdbVersion?: string } | undefined;
    plans.push({
      query,
      ms,
      filterPushdown: explain.filterPushdown ?? 'n/a',
      plan,
      ...(serverInfo?.ferretdbVersion ? { ferretdbVersion: serverInfo.ferretdbVersion } : {}),
    });
  }
  return plans;
}

/** Closed loop (a fixed number in flight) or open loop (a fixed arrival rate). */
type Load = { concurrency: number } | { ratePerSecond: number };
const describeLoad = (load: Load) => ('ratePerSecond' in load ? `${load.ratePerSecond}/s` : `c=${load.concurrency}`);

interface PhaseResult {
  name: string;
  request: string;
  /** The closed loop's concurrency (1 for open-loop phases, whose load is `ratePerSecond`). */
  concurrency: number;
  ratePerSecond?: number;
  latencyMs: LatencySummary;
  perSecond: number;
  statuses: Record<string, number>;
  /** Responses with another status than the phase expects (refused connections count as status 0). */
  errors: number;
  unexpected: Array<{ status: number; body: string }>;
  timedOut: boolean;
  db: { commandsPerRequest: number; msPerRequest: number; commands: CommandStats[] };
  temporalStartMsPerRequest?: number;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const shape: SeedShape = { accounts: options.accounts, subscriptions: options.subscriptions };
  say(
    `${shape.subscriptions.toLocaleString('en-US')} subscriptions across ${shape.accounts.toLocaleString('en-US')} accounts; concurrency ${options.concurrency}; ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'})`,
  );

  const cleanups: Array<() => Promise<void>> = [];
  const cleanup = async () => {
    for (const step of cleanups.reverse()) await step().catch((error: unknown) => say(`cleanup: ${(error as Error).message}`));
    cleanups.length = 0;
  };
  let stopAccepting: (() => void) | undefined;
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    say('interrupted; stopping services');
    // Requests in flight against a slow database can take minutes: drop them rather than wait.
    stopAccepting?.();
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    let t0 = performance.now();
    // MONGODB_URI / TEMPORAL_ADDRESS, when set, are used instead of starting FerretDB / a dev server (e.g. to compare
    // with a real MongoDB); the database `api_latency` is dropped first and seeded from scratch.
    const services: RunningServices = await startServices({
      headless: true,
      persistent: false,
      database: options.database,
      durableDatabase: options.durable,
      ...(process.env.MONGODB_URI ? { mongodbUri: process.env.MONGODB_URI } : {}),
      ...(process.env.TEMPORAL_ADDRESS ? { temporalAddress: process.env.TEMPORAL_ADDRESS } : {}),
    });
    cleanups.push(() => services.stop());
    say(
      `services up in ${Math.round(performance.now() - t0)} ms (Temporal ${services.temporalAddress}, FerretDB ${services.mongodbUri} on ${services.postgresql ? 'PostgreSQL' : options.database === 'sqlite' && !process.env.MONGODB_URI ? 'SQLite' : 'the given database'})`,
    );

    // monitorCommands lets DbTiming see every command; otherwise this is the API's own connectDatabase.
    const database: Database = await connectDatabase(withCommandMonitoring(services.mongodbUri), 'api_latency');
    cleanups.push(() => database.close());
    if (process.env.MONGODB_URI) {
      await database.connection.dropDatabase();
      await Promise.all(Object.values(database.models).map((model) => model.createIndexes()));
    }
    const dbTiming = new DbTiming(database.connection);

    t0 = performance.now();
    const seedReport: SeedReport = await seed(database.models, shape, { batchSize: options.batchSize, log: say });
    say(
      `seeded ${seedReport.products} products, ${seedReport.accounts.toLocaleString('en-US')} accounts (${seedReport.accountsMs} ms), ` +
        `${seedReport.subscriptions.toLocaleString('en-US')} subscriptions (${(seedReport.subscriptionsMs / 1000).toFixed(1)} s, ` +
        `${seedReport.subscriptionsPerSecond.toLocaleString('en-US')}/s, batches of ${seedReport.batchSize}) in ${(seedReport.totalMs / 1000).toFixed(1)} s`,
    );

    if (services.postgresql) {
      t0 = performance.now();
      const created = addContainmentIndexes(services.postgresql, 'api_latency');
      say(`PostgreSQL backend: ${created} containment (GIN) indexes beside FerretDB's btrees in ${Math.round(performance.now() - t0)} ms`);
      t0 = performance.now();
      vacuumAnalyze(services.postgresql);
      say(`PostgreSQL: VACUUM ANALYZE after the bulk load in ${Math.round(performance.now() - t0)} ms (no autovacuum during the phases)`);
    }
    const queryPlans = await explainHotQueries(database);
    for (const plan of queryPlans) {
      say(
        `query ${plan.query}: ${plan.ms.toFixed(1)} ms alone; filterPushdown ${String(plan.filterPushdown)}; plan ${plan.plan.join(' / ')}${plan.ferretdbVersion ? ` (FerretDB ${plan.ferretdbVersion})` : ''}`,
      );
    }

    const connection = await Connection.connect({ address: services.temporalAddress });
    cleanups.push(() => connection.close());
    const temporalClient = new Client({ connection, namespace: 'default' });
    // Times the one Temporal RPC a start makes, to split start latency into Temporal vs the rest.
    const temporalStartMs: number[] = [];
    const service = connection.workflowService as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    const startRpc = service.startWorkflowExecution!.bind(service);
    service.startWorkflowExecution = async (...args: unknown[]) => {
      const started = performance.now();
      try {
        return await startRpc(...args);
      } finally {
        temporalStartMs.push(performance.now() - started);
      }
    };

    // Port 0 (ephemeral) is below what the config schema accepts from the environment, so it is set afterwards.
    const config = {
      ...loadConfig({ OPERATOR_API_KEY: OPERATOR_KEY, HOST: '127.0.0.1', TEMPORAL_TASK_QUEUE: 'api-latency-bench', LOG_LEVEL: 'info' }),
      PORT: 0,
    };
    // Request logs are written as in production (pino-http at info) but to /dev/null, so their cost is counted
    // and the terminal stays readable.
    const logger = pino({ level: 'info', name: 'api' }, pino.destination({ dest: '/dev/null', sync: false }));
    const api: ApiServer = await startApiServer(config, {
      models: database.models,
      temporalClient,
      logger,
      rateLimit: { windowMs: 60_000, limit: 100_000_000 },
      // Every request of the load comes from 127.0.0.1: the per-address limit would measure itself.
      ipRateLimit: { requestsPerMinute: 100_000_000, authFailuresPer15Minutes: 20 },
    });
    cleanups.push(() => api.close());
    stopAccepting = () => api.server.closeAllConnections();
    say(`API on ${api.url}`);

    const auth = { authorization: `Bearer ${OPERATOR_KEY}` };
    const random = lcg(20_261_122);
    const anySubscription = () => {
      const a = Math.floor(random() * shape.accounts);
      return subscriptionIdOf(a, Math.floor(random() * subscriptionsInAccount(shape, a)));
    };
    const repeat = (n: number, make: (i: number) => PlannedRequest) => Array.from({ length: n }, (_, i) => make(i));
    // The seeded quantity of subscription 0 (seed.ts): a full upgrade.
    const quantityOf = (a: number) => 5 + ((a * 13) % 40);
    let nextStartAccount = 0;
    let startKey = 0;
    const startRequest = (): PlannedRequest => {
      const a = nextStartAccount++;
      return {
        method: 'POST',
        path: '/v1/upgrades',
        headers: { ...auth, 'idempotency-key': `bench-${process.pid}-${startKey++}` },
        body: { sourceSubscriptionId: subscriptionIdOf(a, 0), targetProductId: START_TARGET_PRODUCT, quantity: quantityOf(a), destination: { type: 'new' } },
      };
    };

    const phases: PhaseResult[] = [];
    const phase = async (name: string, request: string, load: Load, make: () => PlannedRequest, n: number, expect: number[]) => {
      if (interrupted) throw new Error('interrupted');
      const concurrency = 'concurrency' in load ? load.concurrency : 1;
      const ratePerSecond = 'ratePerSecond' in load ? load.ratePerSecond : undefined;
      if (options.warmup > 0 && concurrency > 1) {
        const warm = name === 'start' ? Math.ceil(options.warmup / 4) : options.warmup;
        await runLoad({
          baseUrl: api.url,
          concurrency,
          requests: repeat(warm, make),
          expectStatus: expect,
          maxDurationMs: Math.min(15, options.phaseTimeoutS) * 1000,
        });
      }
      dbTiming.reset();
      temporalStartMs.length = 0;
      const result = await runLoad({
        baseUrl: api.url,
        concurrency,
        ...(ratePerSecond ? { ratePerSecond } : {}),
        requests: repeat(n, make),
        expectStatus: expect,
        // An open-loop phase is sent in n / rate seconds: the timeout only guards against a server that stopped.
        maxDurationMs: (ratePerSecond ? Math.ceil(n / ratePerSecond) + options.phaseTimeoutS : options.phaseTimeoutS) * 1000,
      });
      const commands = dbTiming.stats();
      if (interrupted) throw new Error('interrupted');
      const count = result.latenciesMs.length;
      const errors = Object.entries(result.statuses).reduce((sum, [status, times]) => sum + (expect.includes(Number(status)) ? 0 : times), 0);
      const out: PhaseResult = {
        name,
        request,
        concurrency,
        ...(ratePerSecond ? { ratePerSecond } : {}),
        latencyMs: summarize(result.latenciesMs),
        perSecond: Math.round(count / (result.durationMs / 1000)),
        statuses: result.statuses,
        errors,
        unexpected: result.unexpected,
        timedOut: result.timedOut,
        db: {
          commandsPerRequest: Math.round((commands.reduce((s, c) => s + c.count, 0) / Math.max(1, count)) * 10) / 10,
          msPerRequest: Math.round((dbTiming.totalMs() / Math.max(1, count)) * 100) / 100,
          commands,
        },
        ...(temporalStartMs.length > 0 ? { temporalStartMsPerRequest: Math.round((temporalStartMs.reduce((s, v) => s + v, 0) / count) * 100) / 100 } : {}),
      };
      phases.push(out);
      const l = out.latencyMs;
      say(
        `${name.padEnd(24)} n=${l.n} ${describeLoad(load)} p50 ${l.p50} p95 ${l.p95} p99 ${l.p99} max ${l.max} ms, ${out.perSecond}/s; ` +
          `DB ${out.db.commandsPerRequest} cmds ${out.db.msPerRequest} ms/req${out.temporalStartMsPerRequest !== undefined ? `; Temporal start ${out.temporalStartMsPerRequest} ms/req` : ''}` +
          `${result.timedOut ? ' (TIMED OUT)' : ''}; statuses ${JSON.stringify(out.statuses)}`,
      );
      for (const bad of out.unexpected) say(`  unexpected ${bad.status}: ${bad.body}`);
      return out;
    };

    const n = options.optionsRequests;
    const c = options.concurrency;
    const floor = await phase(
      'floor',
      'GET /v1/unknown (404, middleware only)',
      { concurrency: c },
      () => ({ method: 'GET', path: '/v1/unknown', headers: auth }),
      n,
      [404],
    );
    const getSub = await phase(
      'get-subscription',
      'GET /v1/subscriptions/:id',
      { concurrency: c },
      () => ({ method: 'GET', path: `/v1/subscriptions/${anySubscription()}`, headers: auth }),
      n,
      [200],
    );
    const health = await phase('health', 'GET /health', { concurrency: c }, () => ({ method: 'GET', path: '/health', headers: {} }), n, [200]);
    const upgradeOptions = await phase(
      'upgrade-options',
      'GET /v1/subscriptions/:id/upgrade-options',
      { concurrency: c },
      () => ({ method: 'GET', path: `/v1/subscriptions/${anySubscription()}/upgrade-options`, headers: auth }),
      n,
      [200],
    );
    const start = await phase('start', 'POST /v1/upgrades (new destination)', { concurrency: c }, startRequest, options.starts, [202]);
    const optionsRequest = (): PlannedRequest => ({ method: 'GET', path: `/v1/subscriptions/${anySubscription()}/upgrade-options`, headers: auth });
    const steadyOptions: PhaseResult[] = [];
    for (const rate of options.optionsRates) {
      steadyOptions.push(
        await phase(
          `upgrade-options @${rate}/s`,
          'GET /v1/subscriptions/:id/upgrade-options',
          { ratePerSecond: rate },
          optionsRequest,
          Math.ceil(rate * options.rateSeconds),
          [200],
        ),
      );
    }
    const steadyStarts: PhaseResult[] = [];
    for (const rate of options.startRates) {
      steadyStarts.push(
        await phase(
          `start @${rate}/s`,
          'POST /v1/upgrades (new destination)',
          { ratePerSecond: rate },
          startRequest,
          Math.ceil(rate * options.rateSeconds),
          [202],
        ),
      );
    }
    // Both at once, starts spread evenly among the upgrade-options requests; each kind summarised on its own.
    const [mixedOptionsRate, mixedStartRate] = options.mixed;
    const mixedTotal = mixedOptionsRate + mixedStartRate;
    const mixedRequests = Array.from({ length: Math.ceil(mixedTotal * options.rateSeconds) }, (_, i) =>
      Math.floor(((i + 1) * mixedStartRate) / mixedTotal) > Math.floor((i * mixedStartRate) / mixedTotal) ? startRequest() : optionsRequest(),
    );
    dbTiming.reset();
    temporalStartMs.length = 0;
    const mixedResult = await runLoad({
      baseUrl: api.url,
      concurrency: 1,
      ratePerSecond: mixedTotal,
      requests: mixedRequests,
      expectStatus: [200, 202],
      maxDurationMs: (options.rateSeconds + options.phaseTimeoutS) * 1000,
    });
    const mixedCommands = dbTiming.stats();
    const mixedPhase = (kind: 'GET' | 'POST', name: string, request: string, ratePerSecond: number, expect: number): PhaseResult => {
      const indexes = mixedResult.statusByIndex.map((_, i) => i).filter((i) => mixedRequests[i]!.method === kind);
      const statuses: Record<string, number> = {};
      for (const i of indexes) statuses[mixedResult.statusByIndex[i]!] = (statuses[mixedResult.statusByIndex[i]!] ?? 0) + 1;
      const out: PhaseResult = {
        name,
        request,
        concurrency: 1,
        ratePerSecond,
        latencyMs: summarize(indexes.map((i) => mixedResult.latenciesMs[i]!)),
        perSecond: ratePerSecond,
        statuses,
        errors: indexes.filter((i) => mixedResult.statusByIndex[i] !== expect).length,
        unexpected: mixedResult.unexpected,
        timedOut: mixedResult.timedOut,
        // The database figures are the mixed phase's as a whole, per request of either kind.
        db: {
          commandsPerRequest: Math.round((mixedCommands.reduce((sum, command) => sum + command.count, 0) / Math.max(1, mixedRequests.length)) * 10) / 10,
          msPerRequest: Math.round((dbTiming.totalMs() / Math.max(1, mixedRequests.length)) * 100) / 100,
          commands: mixedCommands,
        },
      };
      phases.push(out);
      say(
        `${name.padEnd(24)} n=${out.latencyMs.n} p50 ${out.latencyMs.p50} p95 ${out.latencyMs.p95} p99 ${out.latencyMs.p99} max ${out.latencyMs.max} ms; statuses ${JSON.stringify(statuses)}`,
      );
      return out;
    };
    const mixedOptions = mixedPhase(
      'GET',
      `mixed: upgrade-options @${mixedOptionsRate}/s`,
      'GET /v1/subscriptions/:id/upgrade-options (with starts)',
      mixedOptionsRate,
      200,
    );
    const mixedStarts = mixedPhase('POST', `mixed: start @${mixedStartRate}/s`, 'POST /v1/upgrades (with upgrade-options)', mixedStartRate, 202);

    const optionsSequential = await phase(
      'upgrade-options (c=1)',
      'GET /v1/subscriptions/:id/upgrade-options',
      { concurrency: 1 },
      () => ({ method: 'GET', path: `/v1/subscriptions/${anySubscription()}/upgrade-options`, headers: auth }),
      options.sequential,
      [200],
    );
    const startSequential = await phase('start (c=1)', 'POST /v1/upgrades (new destination)', { concurrency: 1 }, startRequest, options.sequential, [202]);

    // ---- report
    const ratio = (a: LatencySummary, b: LatencySummary) => Math.round((a.p99 / b.p99) * 100) / 100;
    // A phase with failed requests has no valid latency (a refused connection is fast): no verdict for it.
    const verdict = (p: PhaseResult, target: number) => (p.errors > 0 ? `INVALID (${p.errors} errors)` : p.latencyMs.p99 <= target ? 'PASS' : 'MISS');
    const rows: string[][] = [
      ['phase', 'n', 'load', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'req/s', 'target p99', '', 'p99 ÷ floor', 'p99 ÷ get-sub'],
      ...phases.map((p) => {
        const target = p.request.startsWith('GET /v1/subscriptions/:id/upgrade-options')
          ? TARGET_P99_MS.upgradeOptions
          : p.request.startsWith('POST /v1/upgrades')
            ? TARGET_P99_MS.start
            : undefined;
        return [
          p.name,
          String(p.latencyMs.n),
          p.ratePerSecond ? `${p.ratePerSecond}/s` : `c=${p.concurrency}`,
          p.latencyMs.p50.toFixed(1),
          p.latencyMs.p95.toFixed(1),
          p.latencyMs.p99.toFixed(1),
          p.latencyMs.max.toFixed(1),
          String(p.perSecond),
          target ? `≤ ${target}` : '',
          target ? verdict(p, target) : '',
          String(ratio(p.latencyMs, floor.latencyMs)),
          String(ratio(p.latencyMs, getSub.latencyMs)),
        ];
      }),
    ];
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    process.stdout.write('\n');
    for (const [index, row] of rows.entries()) {
      process.stdout.write(`${row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ')}\n`);
      if (index === 0) process.stdout.write(`${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
    }
    const split = (p: PhaseResult) => {
      const total = p.latencyMs.mean;
      const temporal = p.temporalStartMsPerRequest ?? 0;
      return (
        `mean ${total.toFixed(1)} ms = DB ${p.db.msPerRequest.toFixed(1)} ms (${p.db.commandsPerRequest} commands, summed)` +
        (temporal ? ` + Temporal start RPC ${temporal.toFixed(1)} ms` : '') +
        (total - p.db.msPerRequest - temporal > 0
          ? ` + the rest ${(total - p.db.msPerRequest - temporal).toFixed(1)} ms (our code, HTTP, event loop)`
          : ' + the rest ≈ 0 (parallel DB commands overlap: the request is DB-bound)')
      );
    };
    process.stdout.write(`\none request at a time:\n  upgrade-options  ${split(optionsSequential)}\n  start            ${split(startSequential)}\n`);
    process.stdout.write('  slowest commands (c=1):\n');
    for (const p of [optionsSequential, startSequential]) {
      for (const cmd of p.db.commands.slice(0, 4)) {
        process.stdout.write(
          `    ${p.name.padEnd(22)} ${cmd.command.padEnd(48)} ×${String(cmd.count).padStart(4)}  mean ${cmd.meanMs.toFixed(2)} ms  p99 ${cmd.p99Ms.toFixed(2)} ms\n`,
        );
      }
    }
    /** The highest steady rate up to which every rate met the target (0: not even the lowest). */
    const holdsUpTo = (steady: readonly PhaseResult[], target: number) => {
      let rate = 0;
      for (const p of [...steady].sort((a, b) => a.ratePerSecond! - b.ratePerSecond!)) {
        if (verdict(p, target) !== 'PASS') break;
        rate = p.ratePerSecond!;
      }
      return rate;
    };
    const steadyLine = (label: string, steady: readonly PhaseResult[], target: number) =>
      `${label} at a steady load (target p99 ≤ ${target} ms): ` +
      steady.map((p) => `${p.ratePerSecond}/s p99 ${p.latencyMs.p99.toFixed(1)} ms ${verdict(p, target)}`).join(', ') +
      ` → holds up to ${holdsUpTo(steady, target)}/s`;
    process.stdout.write(
      `\n${steadyLine('upgrade-options', steadyOptions, TARGET_P99_MS.upgradeOptions)}\n${steadyLine('start', steadyStarts, TARGET_P99_MS.start)}\n` +
        `both at once (${mixedOptionsRate} upgrade-options/s + ${mixedStartRate} starts/s): upgrade-options p99 ${mixedOptions.latencyMs.p99.toFixed(1)} ms ${verdict(mixedOptions, TARGET_P99_MS.upgradeOptions)}, ` +
        `start p99 ${mixedStarts.latencyMs.p99.toFixed(1)} ms ${verdict(mixedStarts, TARGET_P99_MS.start)}\n` +
        `capacity (closed loop, c=${c}, machine saturated): upgrade-options ${upgradeOptions.perSecond}/s with p99 ${upgradeOptions.latencyMs.p99.toFixed(1)} ms (${verdict(upgradeOptions, TARGET_P99_MS.upgradeOptions)}), ` +
        `start ${start.perSecond}/s with p99 ${start.latencyMs.p99.toFixed(1)} ms (${verdict(start, TARGET_P99_MS.start)}); ` +
        `baselines p99: floor ${floor.latencyMs.p99.toFixed(1)}, get-subscription ${getSub.latencyMs.p99.toFixed(1)}, health ${health.latencyMs.p99.toFixed(1)} ms\n`,
    );

    const outDir = join(REPO_ROOT, 'bench-results');
    mkdirSync(outDir, { recursive: true });
    const file = join(outDir, `api-latency-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(
      file,
      `${JSON.stringify(
        {
          kind: 'api-latency',
          at: new Date().toISOString(),
          options,
          machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, totalMemGb: Math.round(totalmem() / 2 ** 30), loadavg: loadavg(), node: process.version },
          seed: seedReport,
          queryPlans,
          targets: { upgradeOptionsP99Ms: TARGET_P99_MS.upgradeOptions, startP99Ms: TARGET_P99_MS.start },
          verdict: {
            steady: {
              upgradeOptions: steadyOptions.map((p) => ({
                ratePerSecond: p.ratePerSecond,
                p99: p.latencyMs.p99,
                verdict: verdict(p, TARGET_P99_MS.upgradeOptions),
              })),
              start: steadyStarts.map((p) => ({ ratePerSecond: p.ratePerSecond, p99: p.latencyMs.p99, verdict: verdict(p, TARGET_P99_MS.start) })),
              upgradeOptionsHoldsUpToPerSecond: holdsUpTo(steadyOptions, TARGET_P99_MS.upgradeOptions),
              startHoldsUpToPerSecond: holdsUpTo(steadyStarts, TARGET_P99_MS.start),
              mixed: {
                upgradeOptionsPerSecond: mixedOptionsRate,
                startsPerSecond: mixedStartRate,
                upgradeOptionsP99: mixedOptions.latencyMs.p99,
                upgradeOptions: verdict(mixedOptions, TARGET_P99_MS.upgradeOptions),
                startP99: mixedStarts.latencyMs.p99,
                start: verdict(mixedStarts, TARGET_P99_MS.start),
              },
            },
            upgradeOptions: verdict(upgradeOptions, TARGET_P99_MS.upgradeOptions),
            start: verdict(start, TARGET_P99_MS.start),
            upgradeOptionsP99VsGetSubscription: ratio(upgradeOptions.latencyMs, getSub.latencyMs),
            startP99VsGetSubscription: ratio(start.latencyMs, getSub.latencyMs),
            upgradeOptionsP99VsHealth: ratio(upgradeOptions.latencyMs, health.latencyMs),
            upgradeOptionsP99VsFloor: ratio(upgradeOptions.latencyMs, floor.latencyMs),
            startP99VsFloor: ratio(start.latencyMs, floor.latencyMs),
            startP99VsHealth: ratio(start.latencyMs, health.latencyMs),
          },
          phases,
        },
        null,
        2,
      )}\n`,
    );
    say(`wrote ${file}`);
  } finally {
    await cleanup();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`[bench:api] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
