import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { loadConfig } from '../../../src/config';
import type { Database } from '../../../src/db/connection';
import type { ApiServer } from '../../../src/server';
import { findFreePort } from '../../../src/local-services/managed-process';
import type { FaultOverrides, PartnerCenterSimulator, SimulatorCounters } from '../../../src/partner-center/simulator';
import { assembleSystem } from '../../../src/system';
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
  /** Faults for one customer tenant only, on top of the global ones. */
  setTenantFaults(customerTenantId: string, faults: FaultOverrides): Promise<void>;
  counters(): Promise<SimulatorCounters>;
  startWorker(name: string): Promise<ChildWorker>;
  close(): Promise<void>;
}

export async function startTestSystem(options: SystemOptions): Promise<TestSystem> {
  const suffix = randomBytes(3).toString('hex');
  const database = options.database ?? `bench_${suffix}`;
  const taskQueue = options.taskQueue ?? `bench-upgrades-${suffix}`;
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
  });
  // The workers run as child processes (startWorker below), so the assembled system has none of its own.
  const system = await assembleSystem({
    config,
    simulator: { faults: { latencyMs: 0, completionDelayMs: 0, licenseReassignmentDelayMs: 0, ...options.faults } },
    worker: false,
    // The load generator is one API key from one address doing what thousands of portal users would: lift both limits.
    api: { rateLimit: { windowMs: 60_000, limit: 100_000_000 }, ipRateLimit: { requestsPerMinute: 100_000_000, authFailuresPer15Minutes: 20 } },
    dropDatabaseOnClose: true,
  });
  const { db, temporalClient: client } = system;
  const api = system.api!;
  const simulatorUrl = system.simulator!.url;
  const simulator = system.simulator!.instance;
  const workers: ChildWorker[] = [];
  const webhooks = await startWebhookReceiver(BENCH_WEBHOOK_SIGNING_SECRET);

  return {
    db,
    database,
    taskQueue,
    simulator,
    simulatorUrl,
    api,
    client,
    webhooks,
    async seed(cases) {
      const chunk = 50;
      for (let start = 0; start < cases.length; start += chunk) {
        const slice = cases.slice(start, start + chunk);
        await system.seed({
          accounts: slice.map((c) => ({ ...c.account, webhookUrl: webhooks.url })),
          subscriptions: slice.flatMap((c) => (c.destination ? [c.source, c.destination] : [c.source])),
        });
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
    setFaults: (faults) => system.setFaults(faults),
    async setTenantFaults(customerTenantId, faults) {
      const response = await fetch(`${simulatorUrl}/admin/faults/tenants/${encodeURIComponent(customerTenantId)}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(faults),
      });
      if (!response.ok) throw new Error(`the simulator refused the faults of ${customerTenantId}: ${response.status} ${await response.text()}`);
    },
    async counters() {
      return (await (await fetch(`${simulatorUrl}/admin/counters`)).json()) as SimulatorCounters;
    },
    async startWorker(name) {
      const worker = await startChildWorker({
        name,
        entry: UPGRADE_WORKER_ENTRY,
        env: upgradeWorkerEnv({ temporalAddress: options.temporalAddress, mongodbUri: options.mongodbUri, database, vendorBaseUrl: simulatorUrl, taskQueue }),
        readyText: UPGRADE_WORKER_READY_TEXT,
        ...(options.onWorkerOutput ? { onOutput: (line: string) => options.onWorkerOutput!(name, line) } : {}),
      });
      workers.push(worker);
      return worker;
    },
    async close() {
      await Promise.allSettled(workers.map((worker) => worker.stop(5_000)));
      await webhooks.close();
      await system.close();
    },
  };
}
