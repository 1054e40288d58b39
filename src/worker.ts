import { NativeConnection, Runtime, makeTelemetryFilterString } from '@temporalio/worker';
import type { Logger } from 'pino';
import { loadConfig, type Config } from './config';
import { connectDatabase } from './db/connection';
import { findFreePort } from './local-services/managed-process';
import { createLogger, sdkLoggerFor } from './logger';
import { observedFetch } from './observability/observed-fetch';
import { startTracing, type Tracing } from './observability/tracing';
import { startWorkerHttpServer } from './observability/worker-http';
import { createWorkerMetrics } from './observability/worker-metrics';
import { temporalTarget } from './temporal/connection-options';
import { ensureSearchAttributes } from './temporal/search-attribute-registration';
import { registerMaintenanceSchedules } from './temporal/maintenance-schedules';
import { activityDepsFromConfig, createUpgradeWorker } from './worker-factory';

export interface WorkerProcess {
  /** Resolves when the worker has stopped (after `close()` or a fatal error). */
  readonly done: Promise<void>;
  /** The worker's HTTP port (/livez, /readyz, /metrics) when WORKER_HTTP_PORT is set. */
  readonly httpUrl?: string;
  close(): Promise<void>;
}

export interface WorkerTelemetry {
  /** Where the SDK's Prometheus exporter listens (set up by `Runtime.install` in `main`), merged into /metrics. */
  sdkMetricsUrl?: string;
  tracing?: Tracing;
}

/**
 * The worker process: connects Temporal, the database and the vendor, registers our search attributes on external
 * clusters, and runs UpgradeWorkflow and its activities until `close()` (SIGTERM/SIGINT in `main`), which drains
 * in-flight tasks before the database closes.
 */
export async function startWorkerProcess(
  config: Config,
  logger: Logger = createLogger(config.LOG_LEVEL, 'worker'),
  telemetry: WorkerTelemetry = {},
): Promise<WorkerProcess> {
  if (!config.TEMPORAL_ADDRESS && !config.TEMPORAL_CONFIG_FILE) throw new Error('TEMPORAL_ADDRESS is not set: run `npm start` for embedded services');
  const target = temporalTarget(config);
  if (!config.MONGODB_URI) throw new Error('MONGODB_URI is not set: run `npm start` for embedded services');
  if (!config.VENDOR_BASE_URL) throw new Error('VENDOR_BASE_URL is not set: run `npm start` for the embedded simulator');
  const registration = await ensureSearchAttributes(target);
  if (registration.error) logger.warn({ error: registration.error }, 'could not register search attributes; create them with the Temporal CLI');
  else if (registration.added.length) logger.info({ added: registration.added }, 'search attributes registered');

  await registerMaintenanceSchedules(target, config, logger);

  const database = await connectDatabase(config.MONGODB_URI, config.MONGODB_DATABASE, {
    watchdog: { onRebuild: (reason) => logger.warn({ reason }, 'database client rebuilt') },
  });
  const connection = await NativeConnection.connect(target.connectionOptions);
  const metrics = createWorkerMetrics(database.models);
  const worker = await createUpgradeWorker({
    connection,
    namespace: target.namespace,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    campaignMaxQueuedItems: config.CAMPAIGN_MAX_QUEUED_ITEMS,
    metrics,
    ...(telemetry.tracing ? { tracing: telemetry.tracing } : {}),
    shutdownGraceSeconds: config.WORKER_SHUTDOWN_GRACE_SECONDS,
    ...(config.WORKER_BUILD_ID ? { deployment: { name: config.WORKER_DEPLOYMENT_NAME, buildId: config.WORKER_BUILD_ID } } : {}),
    deps: activityDepsFromConfig(config, database, config.VENDOR_BASE_URL, logger, observedFetch('partner-center', metrics.outbound)),
  });
  const http =
    config.WORKER_HTTP_PORT !== undefined
      ? await startWorkerHttpServer({
          port: config.WORKER_HTTP_PORT,
          registry: metrics.registry,
          ...(telemetry.sdkMetricsUrl ? { sdkMetricsUrl: telemetry.sdkMetricsUrl } : {}),
          readiness: async () => {
            const polling = worker.getState() === 'RUNNING';
            const databaseUp = await database.models.upgrades.db
              .db!.admin()
              .ping()
              .then(
                () => true,
                () => false,
              );
            return { ready: polling && databaseUp, checks: { polling, database: databaseUp } };
          },
        })
      : undefined;
  logger.info(
    {
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      namespace: target.namespace,
      address: target.connectionOptions.address,
      buildId: config.WORKER_BUILD_ID,
      http: http?.url,
    },
    'worker running',
  );
  const done = worker.run().finally(async () => {
    await http?.close();
    await connection.close();
    await database.close();
    await telemetry.tracing?.shutdown();
    logger.info('worker stopped');
  });
  return {
    done,
    ...(http ? { httpUrl: http.url } : {}),
    async close() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
    },
  };
}

async function main() {
  const config = loadConfig(process.env, 'worker');
  const logger = createLogger(config.LOG_LEVEL, 'worker');
  // The SDK's Prometheus exporter listens on loopback only; the worker's own port serves its series with ours.
  const sdkMetricsPort = config.WORKER_HTTP_PORT !== undefined ? await findFreePort() : undefined;
  Runtime.install({
    // We handle the signals ourselves so the database closes after the worker drained.
    shutdownSignals: [],
    logger: sdkLoggerFor(logger),
    telemetryOptions: {
      logging: { forward: {}, filter: makeTelemetryFilterString({ core: 'WARN' }) },
      ...(sdkMetricsPort ? { metrics: { prometheus: { bindAddress: `127.0.0.1:${sdkMetricsPort}`, useSecondsForDurations: true } } } : {}),
    },
  });
  const tracing = startTracing({ serviceName: 'nce-upgrade-worker' });
  const running = await startWorkerProcess(config, logger, {
    tracing,
    ...(sdkMetricsPort ? { sdkMetricsUrl: `http://127.0.0.1:${sdkMetricsPort}/metrics` } : {}),
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void running.close());
  await running.done;
}

if (require.main === module) {
  main().catch((error) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
