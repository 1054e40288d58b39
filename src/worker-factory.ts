import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Logger } from 'pino';
import { createUpgradeActivities, type UpgradeActivityDeps } from '../activities';
import type { Config } from './config';
import type { Database } from './db/connection';
import { policyByName } from './domain/eligibility-policies';
import { createVendorClient } from './partner-center-factory';

/**
 * Builds the upgrade worker: the bundled workflows of `workflows/` and the activities wired to their dependencies.
 * Used by the worker process, `npm start` and the integration tests (which pass a prebuilt bundle to save time).
 */
export interface UpgradeWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: UpgradeActivityDeps;
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Defaults sized for the 2-core machines we run on; raise them on bigger workers. */
  maxConcurrentActivityTaskExecutions?: number;
  maxConcurrentWorkflowTaskExecutions?: number;
}

export const WORKFLOWS_PATH = require.resolve('../workflows');

export async function createUpgradeWorker(options: UpgradeWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    activities: createUpgradeActivities(options.deps),
    maxConcurrentActivityTaskExecutions: options.maxConcurrentActivityTaskExecutions ?? 100,
    maxConcurrentWorkflowTaskExecutions: options.maxConcurrentWorkflowTaskExecutions ?? 40,
    // A graceful shutdown lets running activities finish their current write before the process exits.
    shutdownGraceTime: '10 seconds',
  });
}

/** The activities' dependencies as the worker process builds them from its configuration. */
export function activityDepsFromConfig(config: Config, database: Database, vendorBaseUrl: string, logger: Logger): UpgradeActivityDeps {
  return {
    models: database.models,
    vendor: createVendorClient(config, vendorBaseUrl, logger),
    clock: () => new Date(),
    logger,
    policy: policyByName(config.ELIGIBILITY_POLICY),
    webhooks: { signingSecret: config.WEBHOOK_SIGNING_SECRET, timeoutMs: 10_000 },
    vendorPolling: { initialIntervalMs: config.VENDOR_POLL_INITIAL_MS, maxIntervalMs: config.VENDOR_POLL_MAX_MS },
  };
}
