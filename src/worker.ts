import { NativeConnection, Runtime } from '@temporalio/worker';
import type { Logger } from 'pino';
import { loadConfig, type Config } from './config';
import { connectDatabase } from './db/connection';
import { policyByName } from './domain/eligibility-policies';
import { createLogger } from './logger';
import { ensureSearchAttributes } from './temporal/search-attribute-registration';
import { createUpgradeWorker } from './worker-factory';
import { createGraphClientFromConfig, createVendorClient } from './partner-center-factory';

export interface WorkerProcess {
  /** Resolves when the worker has stopped (after `close()` or a fatal error). */
  readonly done: Promise<void>;
  close(): Promise<void>;
}

/**
 * The worker process: connects Temporal, the database and the vendor, registers our search attributes on external
 * clusters, and runs UpgradeWorkflow and its activities until `close()` (SIGTERM/SIGINT in `main`), which drains
 * in-flight tasks before the database closes.
 */
export async function startWorkerProcess(config: Config, logger: Logger = createLogger(config.LOG_LEVEL, 'worker')): Promise<WorkerProcess> {
  if (!config.TEMPORAL_ADDRESS) throw new Error('TEMPORAL_ADDRESS is not set: run `npm start` for embedded services');
  if (!config.MONGODB_URI) throw new Error('MONGODB_URI is not set: run `npm start` for embedded services');
  if (!config.VENDOR_BASE_URL) throw new Error('VENDOR_BASE_URL is not set: run `npm start` for the embedded simulator');
  const registration = await ensureSearchAttributes(config.TEMPORAL_ADDRESS, config.TEMPORAL_NAMESPACE);
  if (registration.error) logger.warn({ error: registration.error }, 'could not register search attributes; create them with the Temporal CLI');
  else if (registration.added.length) logger.info({ added: registration.added }, 'search attributes registered');

  const database = await connectDatabase(config.MONGODB_URI, config.MONGODB_DATABASE, {
    watchdog: { onRebuild: (reason) => logger.warn({ reason }, 'database client rebuilt') },
  });
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  const worker = await createUpgradeWorker({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    deps: {
      models: database.models,
      vendor: createVendorClient(config, config.VENDOR_BASE_URL, logger),
      graph: createGraphClientFromConfig(config, config.VENDOR_BASE_URL, logger),
      clock: () => new Date(),
      logger,
      policy: policyByName(config.ELIGIBILITY_POLICY),
      webhooks: { signingSecret: config.WEBHOOK_SIGNING_SECRET, timeoutMs: 10_000 },
      vendorPolling: { initialIntervalMs: config.VENDOR_POLL_INITIAL_MS, maxIntervalMs: config.VENDOR_POLL_MAX_MS },
    },
  });
  logger.info({ taskQueue: config.TEMPORAL_TASK_QUEUE, namespace: config.TEMPORAL_NAMESPACE }, 'worker running');
  const done = worker.run().finally(async () => {
    await connection.close();
    await database.close();
    logger.info('worker stopped');
  });
  return {
    done,
    async close() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
    },
  };
}

async function main() {
  const config = loadConfig(process.env, 'worker');
  // We handle the signals ourselves so the database closes after the worker drained.
  Runtime.install({ shutdownSignals: [] });
  const running = await startWorkerProcess(config);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void running.close());
  await running.done;
}

if (require.main === module) {
  main().catch((error) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
