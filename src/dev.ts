import { Runtime } from '@temporalio/worker';
import { loadConfig } from './config';
import { connectDatabase } from './db/connection';
import { registerDatabaseWithSimulator, seedDemoData } from './demo-seed';
import { createLogger } from './logger';
import { startApiServer } from './server';
import { findFreePort, canConnect } from './local-services/managed-process';
import { startServices } from './local-services/service-runner';
import { createPartnerCenterSimulator } from './partner-center/simulator';
import { registerWithSimulator, simulatorSeedFor } from './partner-center/simulator-registration';
import { startWorkerProcess } from './worker';
import { loadAccount } from './db/mappers';
import type { Account } from './domain/types';
import { demoProducts } from './domain/demo-catalog';

/**
 * `npm start`: the whole system on embedded defaults — Temporal dev server with its Web UI, FerretDB, the Partner
 * Center simulator, the worker and the API, seeded with the demo catalog and demo subscriptions. Anything configured
 * (TEMPORAL_ADDRESS, MONGODB_URI, VENDOR_BASE_URL) is used instead of its embedded stand-in. Ctrl-C stops it all.
 */
async function preferredPort(port: number): Promise<number> {
  return (await canConnect('127.0.0.1', port, 300)) ? findFreePort() : port;
}

async function main() {
  const started = Date.now();
  const config = loadConfig({ NODE_ENV: 'development', ...process.env });
  const logger = createLogger(config.LOG_LEVEL, 'nce');
  Runtime.install({ shutdownSignals: [] });
  const say = (message: string) => process.stdout.write(`[nce] ${message}\n`);

  const services = await startServices({
    temporalAddress: config.TEMPORAL_ADDRESS,
    mongodbUri: config.MONGODB_URI,
    temporalNamespace: config.TEMPORAL_NAMESPACE,
    temporalPort: config.TEMPORAL_ADDRESS ? undefined : await preferredPort(7233),
    temporalUiPort: config.TEMPORAL_ADDRESS ? undefined : await preferredPort(8233),
    persistent: true,
    log: say,
  });
  const stops: Array<() => Promise<void>> = [() => services.stop()];

  let vendorBaseUrl = config.VENDOR_BASE_URL;
  let simulatorUrl: string | undefined;
  if (!vendorBaseUrl) {
    const simulator = createPartnerCenterSimulator({ faults: { global: { completionDelayMs: 3_000, licenseReassignmentDelayMs: 1_000 } } });
    const running = await simulator.listen(await preferredPort(4010), '127.0.0.1');
    stops.unshift(() => running.close());
    vendorBaseUrl = simulatorUrl = running.url;
    say(`Partner Center simulator on ${running.url} (admin API under /admin)`);
  }

  const effective = { ...config, TEMPORAL_ADDRESS: services.temporalAddress, MONGODB_URI: services.mongodbUri, VENDOR_BASE_URL: vendorBaseUrl };
  const database = await connectDatabase(services.mongodbUri, config.MONGODB_DATABASE, {
    watchdog: { onRebuild: (reason) => logger.warn({ reason }, 'database client rebuilt') },
  });
  stops.unshift(() => database.close());
  await seedDemoData(database);
  if (simulatorUrl) await registerDatabaseWithSimulator(database, simulatorUrl);

  const worker = await startWorkerProcess(effective, logger.child({ component: 'worker' }));
  stops.unshift(() => worker.close());
  const api = await startApiServer(effective, {
    logger: logger.child({ component: 'api' }),
    ...(simulatorUrl
      ? {
          onSubscriptionsImported: async (subscriptions) => {
            const accounts = (await Promise.all([...new Set(subscriptions.map((s) => s.accountId))].map((id) => loadAccount(database.models, id)))).filter(
              (account): account is Account => account !== undefined,
            );
            await registerWithSimulator(simulatorUrl!, simulatorSeedFor({ accounts, subscriptions, products: demoProducts() }));
          },
        }
      : {}),
  });
  stops.unshift(() => api.close());

  say(`API            ${api.url}   (docs ${api.url}/docs, health ${api.url}/health)`);
  if (services.temporalUiUrl) say(`Temporal UI    ${services.temporalUiUrl}`);
  say(`Operator key   ${config.OPERATOR_API_KEY}${config.operatorKeyGenerated ? '   (generated for this run; set OPERATOR_API_KEY to keep one)' : ''}`);
  say(
    `Try: curl -s -X POST ${api.url}/v1/upgrades -H "Authorization: Bearer ${config.OPERATOR_API_KEY}" -H "Idempotency-Key: demo-1" -H "Content-Type: application/json" -d '{"sourceSubscriptionId":"sub_contoso_basic","targetProductId":"CFQ7TTC0LDPB:0001:DEMO","quantity":4,"destination":{"type":"new"}}'`,
  );
  say(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s — Ctrl-C to stop`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    say(`${signal}: stopping`);
    for (const close of stops) await close().catch((error) => logger.warn({ error: String(error) }, 'stop step failed'));
    say('stopped');
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error) => {
  process.stderr.write(`[nce] failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
