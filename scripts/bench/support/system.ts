import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import pino from 'pino';
import { loadConfig } from '../../../src/config';
import { connectDatabase, type Database } from '../../../src/db/connection';
import { fromProduct, fromSubscription } from '../../../src/db/mappers';
import { demoProducts } from '../../../src/domain/demo-catalog';
import type { Account, Subscription } from '../../../src/domain/types';
import { startApiServer, type ApiServer } from '../../../src/server';
import { findFreePort } from '../../../src/local-services/managed-process';
import {
  createPartnerCenterSimulator,
  type FaultOverrides,
  type PartnerCenterSimulator,
  type RunningSimulator,
  type SimulatorCounters,
} from '../../../src/partner-center/simulator';
import { registerWithSimulator, simulatorSeedFor } from '../../../src/partner-center/simulator-registration';
import {
  BENCH_WEBHOOK_SIGNING_SECRET,
  startChildWorker,
  UPGRADE_WORKER_ENTRY,
  UPGRADE_WORKER_READY_TEXT,
  upgradeWorkerEnv,
  type ChildWorker,
} from './child-worker';
import type { UpgradeCase } from './scenarios';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver';

/**
 * The system under test for the benchmark and the fault suite, on services the caller started: the in-process
 * Partner Center simulator, our database, the HTTP API in this process, and upgrade workers as child processes
 * (`src/worker.ts`, exactly what production runs) that can be measured, killed and restarted.
 */
export const BENCH_OPERATOR_KEY = 'bench-operator-key-0123456789abcdef';

export interface SystemOptions {
  temporalAddress: string;
  mongodbUri: string;
  /** Database name (default: a fresh one). */
  database?: string;
  taskQueue?: string;
  faults?: FaultOverrides;
  /** Worker output lines (default: dropped). */
  onWorkerOutput?: (worker: string, line: string) => void;
}

export interface HttpResult {
  status: number;
  body: any;
  ms: number;
}

export interface TestSystem {
  readonly db: Database;
  readonly database: string;
  readonly taskQueue: string;
  readonly simulator: PartnerCenterSimulator;
  readonly simulatorUrl: string;
  readonly api: ApiServer;
  readonly client: Client;
  /** Every seeded account's webhook points here: drivers learn of a manual seat reassignment from it. */
  readonly webhooks: WebhookReceiver;
  seed(cases: readonly UpgradeCase[]): Promise<void>;
  http(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<HttpResult>;
  setFaults(faults: FaultOverrides): Promise<void>;
  counters(): Promise<SimulatorCounters>;
  startWorker(name: string): Promise<ChildWorker>;
  close(): Promise<void>;
}

export async function startTestSystem(options: SystemOptions): Promise<TestSystem> {
  const suffix = randomBytes(3).toString('hex');
  const database = options.database ?? `bench_${suffix}`;
  const taskQueue = options.taskQueue ?? `bench-upgrades-${suffix}`;
  const db = await connectDatabase(options.mongodbUri, database);
  const simulator = createPartnerCenterSimulator({
    faults: { global: { latencyMs: 0, completionDelayMs: 0, licenseReassignmentDelayMs: 0, ...options.faults } },
  });
  const running: RunningSimulator = await simulator.listen(0, '127.0.0.1');
  const connection = await Connection.connect({ address: options.temporalAddress });
  const client = new Client({ connection, namespace: 'default' });
  const config = loadConfig({
    NODE_ENV: 'development',
    HOST: '127.0.0.1',
    PORT: String(await findFreePort()),
    LOG_LEVEL: 'silent',
    OPERATOR_API_KEY: BENCH_OPERATOR_KEY,
    TEMPORAL_ADDRESS: options.temporalAddress,
    TEMPORAL_TASK_QUEUE: taskQueue,
    MONGODB_URI: options.mongodbUri,
    MONGODB_DATABASE: database,
    VENDOR_BASE_URL: running.url,
  });
  const api = await startApiServer(config, {
    models: db.models,
    temporalClient: client,
    logger: pino({ level: 'silent' }),
    // The load generator is one API key doing what thousands of portal users would: lift the per-key limit.
    rateLimit: { windowMs: 60_000, limit: 100_000_000 },
  });
  const workers: ChildWorker[] = [];
  const webhooks = await startWebhookReceiver(BENCH_WEBHOOK_SIGNING_SECRET);

  return {
    db,
    database,
    taskQueue,
    simulator,
    simulatorUrl: running.url,
    api,
    client,
    webhooks,
    async seed(cases) {
      const products = demoProducts();
      await db.models.products.bulkWrite(
        products.map((product) => ({ replaceOne: { filter: { _id: product.productId }, replacement: fromProduct(product) as never, upsert: true } })),
      );
      const chunk = 50;
      for (let start = 0; start < cases.length; start += chunk) {
        const slice = cases.slice(start, start + chunk);
        const accounts: Account[] = slice.map((c) => ({ ...c.account, webhookUrl: webhooks.url }));
        const subscriptions: Subscription[] = slice.flatMap((c) => (c.destination ? [c.source, c.destination] : [c.source]));
        await db.models.accounts.bulkWrite(
          accounts.map(({ id, ...fields }) => ({ replaceOne: { filter: { _id: id }, replacement: { _id: id, ...fields } as never, upsert: true } })),
        );
        await db.models.subscriptions.bulkWrite(
          subscriptions.map((s) => ({ replaceOne: { filter: { _id: s.id }, replacement: fromSubscription(s) as never, upsert: true } })),
        );
        await registerWithSimulator(running.url, simulatorSeedFor({ accounts, subscriptions, products }));
      }
    },
    async http(method, path, body, headers = {}) {
      const started = performance.now();
      const response = await fetch(`${api.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${BENCH_OPERATOR_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(60_000),
      });
      const text = await response.text();
      const ms = performance.now() - started;
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = text;
      }
      return { status: response.status, body: parsed, ms };
    },
    async setFaults(faults) {
      const response = await fetch(`${running.url}/admin/faults`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(faults),
      });
      if (!response.ok) throw new Error(`simulator refused faults: ${response.status} ${await response.text()}`);
    },
    async counters() {
      return (await (await fetch(`${running.url}/admin/counters`)).json()) as SimulatorCounters;
    },
    async startWorker(name) {
      const worker = await startChildWorker({
        name,
        entry: UPGRADE_WORKER_ENTRY,
        env: upgradeWorkerEnv({ temporalAddress: options.temporalAddress, mongodbUri: options.mongodbUri, database, vendorBaseUrl: running.url, taskQueue }),
        readyText: UPGRADE_WORKER_READY_TEXT,
        ...(options.onWorkerOutput ? { onOutput: (line: string) => options.onWorkerOutput!(name, line) } : {}),
      });
      workers.push(worker);
      return worker;
    },
    async close() {
      await Promise.allSettled(workers.map((worker) => worker.stop(5_000)));
      await api.close();
      await webhooks.close();
      await connection.close();
      await running.close();
      await db.connection.dropDatabase().catch(() => undefined);
      await db.close();
    },
  };
}
