import type { UpgradeActivityDeps } from '../../../activities';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Runtime, DefaultLogger, type Worker } from '@temporalio/worker';
import pino from 'pino';
import { createApp } from '../../../src/api/app';
import { systemClock, type Clock } from '../../../src/clock';
import { createUpgradeUseCaseDeps, type UpgradeUseCaseDeps } from '../../../src/upgrades/deps';
import { connectDatabase, type Database } from '../../../src/db/connection';
import { fromProduct, fromSubscription } from '../../../src/db/mappers';
import type { Product } from '../../../src/domain/catalog';
import { demoProducts } from '../../../src/domain/demo-catalog';
import { POLICY_PROFILES } from '../../../src/domain/eligibility-policies';
import type { Account, Subscription } from '../../../src/domain/types';
import { createUpgradeWorker, WORKFLOWS_PATH } from '../../../src/worker-factory';
import { createPartnerCenterClient } from '../../../src/partner-center/partner-center-client';
import { createPartnerCenterSimulator, type PartnerCenterSimulator, type RunningSimulator } from '../../../src/partner-center/simulator';
import type { FaultOverrides } from '../../../src/partner-center/simulator';
import { registerWithSimulator, simulatorSeedFor } from '../../../src/partner-center/simulator-registration';
import { staticTokenProvider } from '../../../src/partner-center/token-providers';

/**
 * The whole system in one test file, on the real services from globalSetup: FerretDB (own database), the Temporal
 * dev server (own task queue), an in-process Partner Center simulator, a worker, and the HTTP API.
 */
export const OPERATOR_KEY = 'test-operator-key-0123456789abcdef';

let installedRuntime = false;
function quietTemporalRuntime() {
  if (installedRuntime) return;
  installedRuntime = true;
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
}

export interface SystemHarness {
  db: Database;
  simulator: PartnerCenterSimulator;
  simulatorUrl: string;
  client: Client;
  apiUrl: string;
  taskQueue: string;
  worker: Worker;
  /** The upgrade use cases (start, retry, …) on this system, as the API and the CLI call them. */
  upgradeUseCases: UpgradeUseCaseDeps;
  /** What the worker's activities were built with: a test can run an activity again, as a retry would. */
  activityDeps: UpgradeActivityDeps;
  /** Seeds products, accounts and subscriptions in our DB and in the simulator. */
  seed(data: { accounts: Account[]; subscriptions: Subscription[]; products?: Product[] }): Promise<void>;
  api(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }>;
  setFaults(faults: FaultOverrides): Promise<void>;
  /** Resolves when the upgrade's workflow closes (either way) and returns the stored record. */
  waitForUpgrade(upgradeId: string): Promise<any>;
  restartWorker(): Promise<void>;
  close(): Promise<void>;
}

export async function startSystemHarness(
  name: string,
  options: { faults?: FaultOverrides; seatReminderMs?: number; /** One clock for the API and the activities (time travel). */ clock?: Clock } = {},
): Promise<SystemHarness> {
  const clock = options.clock ?? systemClock;
  quietTemporalRuntime();
  const address = process.env.TEMPORAL_ADDRESS!;
  const suffix = randomBytes(4).toString('hex');
  const db = await connectDatabase(process.env.MONGODB_URI!, `it_${name}_${suffix}`);
  const simulator = createPartnerCenterSimulator({ faults: { global: { completionDelayMs: 200, licenseReassignmentDelayMs: 100, ...options.faults } } });
  const running: RunningSimulator = await simulator.listen(0, '127.0.0.1');
  const vendor = createPartnerCenterClient({ baseUrl: running.url, tokenProvider: staticTokenProvider('test'), timeoutMs: 5_000 });
  const logger = pino({ level: 'silent' });
  const connection = await NativeConnection.connect({ address });
  const client = new Client({ connection: await Connection.connect({ address }), namespace: 'default' });
  const taskQueue = `it-${name}-${suffix}`;
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') });
  const deps: UpgradeActivityDeps = {
    models: db.models,
    vendor,
    clock,
    logger,
    policy: POLICY_PROFILES.microsoft,
    webhooks: { signingSecret: 'test-signing-secret-0123', timeoutMs: 2_000 },
    vendorPolling: { initialIntervalMs: 100, maxIntervalMs: 500 },
  };
  const makeWorker = () => createUpgradeWorker({ connection, namespace: 'default', taskQueue, deps, workflowBundle });
  let worker = await makeWorker();
  let workerRun = worker.run();

  const useCaseConfig = { TEMPORAL_TASK_QUEUE: taskQueue, ELIGIBILITY_POLICY: 'microsoft', SEAT_REMINDER_INTERVAL_HOURS: 24, SEAT_ESCALATION_DAYS: 7 } as const;
  const app = createApp({ models: db.models, temporalClient: client, config: { OPERATOR_API_KEY: OPERATOR_KEY, ...useCaseConfig }, logger, clock });
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const harness: SystemHarness = {
    db,
    simulator,
    simulatorUrl: running.url,
    client,
    apiUrl,
    taskQueue,
    upgradeUseCases: createUpgradeUseCaseDeps({ models: db.models, temporalClient: client, config: useCaseConfig, clock }),
    activityDeps: deps,
    get worker() {
      return worker;
    },
    async seed(data) {
      const products = data.products ?? demoProducts();
      await db.models.products.bulkWrite(
        products.map((product) => ({ replaceOne: { filter: { _id: product.productId }, replacement: fromProduct(product) as never, upsert: true } })),
      );
      for (const account of data.accounts) {
        const { id, ...fields } = account;
        await db.models.accounts.replaceOne({ _id: id }, { _id: id, ...fields } as never, { upsert: true });
      }
      for (const subscription of data.subscriptions) {
        await db.models.subscriptions.replaceOne({ _id: subscription.id }, fromSubscription(subscription) as never, { upsert: true });
      }
      await registerWithSimulator(running.url, simulatorSeedFor({ accounts: data.accounts, subscriptions: data.subscriptions, products }));
    },
    async api(method, path, body, headers = {}) {
      const response = await fetch(`${apiUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${OPERATOR_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
    },
    async setFaults(faults) {
      const response = await fetch(`${running.url}/admin/faults`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(faults),
      });
      if (!response.ok) throw new Error(`faults refused: ${response.status} ${await response.text()}`);
    },
    async waitForUpgrade(upgradeId) {
      await client.workflow
        .getHandle(upgradeId)
        .result()
        .catch(() => undefined);
      return db.models.upgrades.findById(upgradeId).lean();
    },
    async restartWorker() {
      worker.shutdown();
      await workerRun;
      worker = await makeWorker();
      workerRun = worker.run();
    },
    async close() {
      await new Promise((resolve) => server.close(resolve));
      worker.shutdown();
      await workerRun.catch(() => undefined);
      await connection.close();
      await client.connection.close();
      await running.close();
      await db.connection.dropDatabase().catch(() => undefined);
      await db.close();
    },
  };
  return harness;
}
