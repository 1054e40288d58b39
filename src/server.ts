import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import pino, { type Logger } from 'pino';
import { createApp, type AppDeps } from './api/app';
import { createMetrics, type ApiMetrics } from './api/metrics';
import { loadConfig, type Config } from './config';
import { canReadPriceSheet, createVendorClient } from './partner-center-factory';
import { fetchReportingThrottling, transitionLimitFromConfig } from './partner-center/transition-limit';
import { systemClock } from './clock';
import { connectDatabase, type Database } from './db/connection';
import { temporalTarget } from './temporal/connection-options';
import { createLogger } from './logger';
import { startTracing } from './observability/tracing';

/**
 * The API process: config → database → Temporal → HTTP. `startApiServer` is also what `src/dev.ts` runs in-process;
 * whatever it is given (models, a Temporal client, a logger) it uses and leaves open, whatever it opens it closes.
 */
export interface ApiServer {
  server: Server;
  port: number;
  url: string;
  /** The port serving /metrics without a key, when `METRICS_PORT` is set. */
  metricsPort?: number;
  /** Stop accepting, finish in-flight requests, then close the Temporal connection and the database we opened. */
  close(): Promise<void>;
}

export type ApiServerDeps = Partial<AppDeps>;

export async function startApiServer(config: Config, deps: ApiServerDeps = {}): Promise<ApiServer> {
  const logger: Logger = deps.logger ?? pino({ level: config.LOG_LEVEL, name: 'api' });
  const opened: Array<() => Promise<void>> = [];

  try {
    let models = deps.models;
    if (!models) {
      if (!config.MONGODB_URI) throw new Error('MONGODB_URI is not set: run `npm start` for embedded services, or point it at a database');
      const database: Database = await connectDatabase(config.MONGODB_URI, config.MONGODB_DATABASE, {
        watchdog: { onRebuild: (reason) => logger.warn({ reason }, 'database client rebuilt') },
      });
      opened.push(() => database.close());
      models = database.models;
    }

    let temporalClient = deps.temporalClient;
    if (!temporalClient) {
      if (!config.TEMPORAL_ADDRESS && !config.TEMPORAL_CONFIG_FILE) {
        throw new Error('TEMPORAL_ADDRESS is not set: run `npm start` for embedded services, or point it at Temporal');
      }
      const target = temporalTarget(config);
      const connection = await Connection.connect(target.connectionOptions);
      opened.push(() => connection.close());
      // Starting a workflow carries the request's trace into Temporal (a no-op when tracing is off).
      temporalClient = new Client({ connection, namespace: target.namespace, interceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor()] } });
    }

    // Its 429s hold back the tenant's transition POSTs too (src/partner-center/transition-limit.ts), as the worker's do.
    const vendorFetch = fetchReportingThrottling(models, transitionLimitFromConfig(config).key, systemClock);
    const catalogVendor = config.VENDOR_BASE_URL ? { vendor: createVendorClient(config, config.VENDOR_BASE_URL, logger, vendorFetch) } : {};
    const catalogSync = { country: config.CATALOG_COUNTRY, readPriceSheet: canReadPriceSheet(config) };
    const microsoftEligibilityMaxAgeMs = config.VENDOR_ELIGIBILITY_CACHE_SECONDS * 1000;
    const metrics = deps.metrics ?? createMetrics();
    const app = createApp({
      metrics,
      ipRateLimit: { requestsPerMinute: config.RATE_LIMIT_PER_IP_PER_MINUTE, authFailuresPer15Minutes: config.AUTH_FAILURES_PER_IP_PER_15_MINUTES },
      trustProxyHops: config.TRUST_PROXY_HOPS,
      catalogMaxAgeMs: config.CATALOG_CACHE_SECONDS * 1000,
      catalogSync,
      microsoftEligibilityMaxAgeMs,
      ...catalogVendor,
      ...deps,
      models,
      temporalClient,
      config,
      logger,
    });
    const server = await new Promise<Server>((resolve, reject) => {
      const listening = app.listen(config.PORT, config.HOST, (error?: Error) => (error ? reject(error) : resolve(listening)));
    });
    // Slow or stalled clients must not pin sockets forever.
    server.requestTimeout = 30_000;
    server.headersTimeout = 15_000;
    const port = (server.address() as AddressInfo).port;
    const url = `http://${config.HOST === '0.0.0.0' || config.HOST === '::' ? 'localhost' : config.HOST}:${port}`;
    logger.info({ url }, 'API listening');
    let metricsPort: number | undefined;
    if (config.METRICS_PORT !== undefined) {
      const metricsServer = await listenForMetrics(metrics, config.METRICS_PORT, config.HOST);
      opened.push(() => new Promise<void>((resolve) => metricsServer.close(() => resolve())));
      metricsPort = (metricsServer.address() as AddressInfo).port;
      logger.info({ port: metricsPort }, 'API metrics listening');
    }

    let closing: Promise<void> | undefined;
    return {
      server,
      port,
      url,
      ...(metricsPort !== undefined ? { metricsPort } : {}),
      close: () =>
        (closing ??= (async () => {
          await new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeIdleConnections();
          });
          for (const close of opened.reverse()) await close().catch((error: unknown) => logger.warn({ err: error }, 'close failed'));
          logger.info('API stopped');
        })()),
    };
  } catch (error) {
    for (const close of opened.reverse()) await close().catch(() => undefined);
    throw error;
  }
}

/** `METRICS_PORT`: the API's Prometheus series without a key, on a port only the cluster's scraper reaches. */
async function listenForMetrics(metrics: ApiMetrics, port: number, host: string): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}

/** `npm run start:api`: the API alone, against configured services, stopped cleanly by SIGTERM/SIGINT. */
async function main(): Promise<void> {
  const config = loadConfig(process.env, 'api');
  const logger = createLogger(config.LOG_LEVEL, 'api');
  const tracing = startTracing({ serviceName: 'nce-upgrade-api' });
  if (config.operatorKeyGenerated) logger.warn({ operatorApiKey: config.OPERATOR_API_KEY }, 'OPERATOR_API_KEY not set; generated one for this run');
  const api = await startApiServer(config, { logger });
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 15_000).unref();
    api
      .close()
      .then(() => tracing.shutdown())
      .then(
        () => {
          clearTimeout(force);
          process.exit(0);
        },
        () => process.exit(1),
      );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
