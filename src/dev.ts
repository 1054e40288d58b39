import { Runtime } from '@temporalio/worker';
import { loadConfig } from './config';
import { registerDatabaseWithSimulator, seedDemoData } from './demo-seed';
import { createLogger } from './logger';
import { findFreePort, canConnect } from './local-services/managed-process';
import { addContainmentIndexes, postgresqlInstalled } from './local-services/postgresql';
import { startServices } from './local-services/service-runner';
import { assembleSystem } from './system';
import { temporalTarget } from './temporal/connection-options';
import { ensureSearchAttributes } from './temporal/search-attribute-registration';

/**
 * `npm start`: the whole system on embedded defaults — Temporal dev server with its Web UI, FerretDB, the Partner
 * Center simulator, the worker and the API, seeded with the demo catalog and demo subscriptions. Anything configured
 * (TEMPORAL_ADDRESS, MONGODB_URI, VENDOR_BASE_URL) is used instead of its embedded stand-in. Ctrl-C stops it all.
 */
/**
 * FerretDB on a private PostgreSQL where the package is installed (every filter served by an index: README
 * "Measured" has the figures at 100,000 subscriptions), else on its embedded SQLite (every filter but `_id` scans).
 * `EMBEDDED_DATABASE=sqlite|postgresql` chooses; it applies only when MONGODB_URI is unset.
 */
function embeddedDatabase(): 'sqlite' | 'postgresql' {
  const chosen = process.env.EMBEDDED_DATABASE;
  if (chosen === 'sqlite' || chosen === 'postgresql') return chosen;
  if (chosen !== undefined && chosen !== '') throw new Error(`EMBEDDED_DATABASE must be sqlite or postgresql, got ${chosen}`);
  return postgresqlInstalled() ? 'postgresql' : 'sqlite';
}

async function preferredPort(port: number): Promise<number> {
  return (await canConnect('127.0.0.1', port, 300)) ? findFreePort() : port;
}

async function main() {
  const started = Date.now();
  // The dev stack's webhook receivers run on this machine (loopback, private networks).
  const config = loadConfig({ NODE_ENV: 'development', WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', ...process.env });
  const logger = createLogger(config.LOG_LEVEL, 'nce');
  Runtime.install({ shutdownSignals: [] });
  const say = (message: string) => process.stdout.write(`[nce] ${message}\n`);

  const serviceOptions = {
    temporalAddress: config.TEMPORAL_ADDRESS,
    mongodbUri: config.MONGODB_URI,
    temporalNamespace: config.TEMPORAL_NAMESPACE,
    temporalPort: config.TEMPORAL_ADDRESS ? undefined : await preferredPort(7233),
    temporalUiPort: config.TEMPORAL_ADDRESS ? undefined : await preferredPort(8233),
    persistent: true,
    log: say,
  };
  const database = embeddedDatabase();
  const services = await startServices({ ...serviceOptions, database }).catch((error: unknown) => {
    // PostgreSQL chosen by default but unable to start here (e.g. its user cannot reach .data/): the demo still runs.
    if (database !== 'postgresql' || process.env.EMBEDDED_DATABASE === 'postgresql') throw error;
    say(`PostgreSQL did not start (${error instanceof Error ? error.message : String(error)}); FerretDB on SQLite instead`);
    return startServices({ ...serviceOptions, database: 'sqlite' });
  });
  const stops: Array<() => Promise<void>> = [() => services.stop()];

  const effective = { ...config, TEMPORAL_ADDRESS: services.temporalAddress, MONGODB_URI: services.mongodbUri };
  const registration = await ensureSearchAttributes(temporalTarget(effective));
  if (registration.error) logger.warn({ error: registration.error }, 'could not register search attributes; create them with the Temporal CLI');
  const system = await assembleSystem({
    config: effective,
    logger,
    // The embedded simulator, unless VENDOR_BASE_URL names a Partner Center; slow enough to watch a run in the UI.
    simulator: { faults: { completionDelayMs: 3_000, licenseReassignmentDelayMs: 1_000 }, port: await preferredPort(4010) },
    databaseWatchdog: true,
    registerImportsWithSimulator: true,
    // upgrade-options, quote and start ask Partner Center's own verdict, as in production (src/server.ts).
    microsoftVerdict: true,
    api: { logger: logger.child({ component: 'api' }) },
  });
  stops.unshift(() => system.close());
  if (services.postgresql) {
    // FerretDB's btree per mongoose index cannot serve its own `@>` filters; the GIN twins can (postgresql.ts).
    addContainmentIndexes(services.postgresql, config.MONGODB_DATABASE);
  }
  if (system.simulator) say(`Partner Center simulator on ${system.simulator.url} (admin API under /admin)`);
  await seedDemoData(system.db);
  if (system.simulator) await registerDatabaseWithSimulator(system.db, system.simulator.url);
  const api = system.api!;

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
