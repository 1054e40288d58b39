import type { Client } from '@temporalio/client';
import { bundleWorkflowCode, Runtime, DefaultLogger, type Worker } from '@temporalio/worker';
import type { UpgradeActivityDeps } from '../../../activities';
import type { AppDeps } from '../../../src/api/deps';
import type { Clock } from '../../../src/clock';
import type { Database } from '../../../src/db/connection';
import type { Product } from '../../../src/domain/catalog';
import type { Account, Subscription } from '../../../src/domain/types';
import type { FaultOverrides, PartnerCenterSimulator } from '../../../src/partner-center/simulator';
import { assembleSystem } from '../../../src/system';
import type { UpgradeUseCaseDeps } from '../../../src/upgrades/deps';
import { WORKFLOWS_PATH } from '../../../src/worker-factory';
import { integrationConfig } from './test-config';

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
  options: {
    faults?: FaultOverrides;
    /** One clock for the API and the activities (time travel). */ clock?: Clock;
    /** The API asks Microsoft's transition eligibilities (upgrade-options, quote, start). */ askMicrosoft?: boolean;
    /** More configuration variables (e.g. `WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'false'`). */ env?: Record<string, string>;
    /** The campaign workflow's tunables (a short follow interval). */ campaignWorkflowOptions?: AppDeps['campaignWorkflowOptions'];
  } = {},
): Promise<SystemHarness> {
  quietTemporalRuntime();
  const config = integrationConfig('it', name, {
    OPERATOR_API_KEY: OPERATOR_KEY,
    WEBHOOK_SIGNING_SECRET: 'test-signing-secret-0123',
    VENDOR_POLL_INITIAL_MS: '100',
    VENDOR_POLL_MAX_MS: '500',
    VENDOR_SETTLING_DELAY_MS: '500',
    // Every test's changes to the simulator are seen at once.
    VENDOR_ELIGIBILITY_CACHE_SECONDS: '0',
    ...options.env,
  });
  const system = await assembleSystem({
    config,
    simulator: { faults: { completionDelayMs: 200, licenseReassignmentDelayMs: 100, ...options.faults } },
    worker: { workflowBundle: await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') }) },
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.askMicrosoft ? { microsoftVerdict: true } : {}),
    ...(options.campaignWorkflowOptions ? { api: { campaignWorkflowOptions: options.campaignWorkflowOptions } } : {}),
    dropDatabaseOnClose: true,
  });
  const apiUrl = system.api!.url;

  return {
    db: system.db,
    simulator: system.simulator!.instance,
    simulatorUrl: system.simulator!.url,
    client: system.temporalClient,
    apiUrl,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    upgradeUseCases: system.upgradeUseCases,
    activityDeps: system.activityDeps!,
    get worker() {
      return system.worker!;
    },
    seed: (data) => system.seed(data),
    async api(method, path, body, headers = {}) {
      const response = await fetch(`${apiUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${OPERATOR_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
    },
    setFaults: (faults) => system.setFaults(faults),
    async waitForUpgrade(upgradeId) {
      await system.temporalClient.workflow
        .getHandle(upgradeId)
        .result()
        .catch(() => undefined);
      return system.db.models.upgrades.findById(upgradeId).lean();
    },
    async restartWorker() {
      await system.stopWorker();
      await system.startWorker();
    },
    close: () => system.close(),
  };
}
