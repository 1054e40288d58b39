import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker, type WorkerOptions } from '@temporalio/worker';
import pino, { type Logger } from 'pino';
import type { UpgradeActivityDeps } from '../activities';
import type { Clock } from './clock';
import type { Config } from './config';
import { connectDatabase, type Database } from './db/connection';
import { fromProduct, fromSubscription, loadAccount } from './db/mappers';
import { demoProducts } from './domain/demo-catalog';
import type { Product } from './domain/catalog';
import type { Account, Subscription } from './domain/types';
import { createPartnerCenterSimulator, type FaultOverrides, type PartnerCenterSimulator } from './partner-center/simulator';
import { registerWithSimulator, simulatorSeedFor } from './partner-center/simulator-registration';
import { startApiServer, type ApiServer, type ApiServerDeps } from './server';
import { createUpgradeUseCaseDeps, type UpgradeUseCaseDeps } from './upgrades/deps';
import { temporalTarget } from './temporal/connection-options';
import { ensureMaintenanceSchedules, maintenanceSchedules } from './temporal/maintenance-schedules';
import { activityDepsFromConfig, createUpgradeWorker } from './worker-factory';
import { createVendorClient } from './partner-center-factory';

/**
 * The whole system assembled in one process from a configuration: the database, the Temporal client, the Partner
 * Center (the configured one, or an in-process simulator), the worker and the HTTP API. `npm start`, the integration
 * tests, the history recorder and the benchmark all build their system here, each turning off or overriding only
 * what it must (the benchmark runs its workers as child processes; the API tests need no worker).
 */
export interface SystemOptions {
  /** `TEMPORAL_ADDRESS` and `MONGODB_URI` must be set; without `VENDOR_BASE_URL` the simulator below is started. */
  config: Config;
  /** Default: silent. */
  logger?: Logger;
  /** "Now" for the API, the use cases and the activities alike (tests travel in time); default the system clock. */
  clock?: Clock;
  /** The API asks Partner Center's transition eligibilities (upgrade-options, quote, start), reused for VENDOR_ELIGIBILITY_CACHE_SECONDS. */
  microsoftVerdict?: boolean;
  /** The in-process Partner Center simulator used when `VENDOR_BASE_URL` is unset; `port` 0 (default) = any. */
  simulator?: { faults?: FaultOverrides; port?: number };
  /** Reopen the database client when it stops answering (long-running processes). */
  databaseWatchdog?: boolean;
  /** The in-process worker (default on); a prebuilt bundle saves seconds, `activityDeps` replace config-built ones. */
  worker?: false | { workflowBundle?: WorkerOptions['workflowBundle']; activityDeps?: Partial<UpgradeActivityDeps> };
  /** The HTTP API on `config.HOST:config.PORT` (default on), with these dependencies overriding the built ones. */
  api?: false | ApiServerDeps;
  /** Tell the simulator about subscriptions imported through the API (`npm start`: the demo's imports then upgrade). */
  registerImportsWithSimulator?: boolean;
  /** Register the maintenance schedules (webhook redelivery) when the in-process worker runs; default on. */
  maintenanceSchedules?: boolean;
  /** Drop the database when closing (a throwaway test or recording database). */
  dropDatabaseOnClose?: boolean;
}

export interface AssembledSystem {
  readonly config: Config;
  readonly logger: Logger;
  readonly db: Database;
  readonly temporalClient: Client;
  /** The Partner Center the worker talks to (the simulator's URL when it runs). */
  readonly vendorBaseUrl: string | undefined;
  readonly simulator: { instance: PartnerCenterSimulator; url: string } | undefined;
  /** What the worker's activities were built with. */
  readonly activityDeps: UpgradeActivityDeps | undefined;
  /** The running in-process worker (replaced by `startWorker`). */
  readonly worker: Worker | undefined;
  readonly api: ApiServer | undefined;
  /** The upgrade use cases (start, retry, …) on this system, as the API and the CLI call them. */
  readonly upgradeUseCases: UpgradeUseCaseDeps;
  /** Writes products (default: the demo catalog), accounts and subscriptions, and registers them with the simulator. */
  seed(data: { accounts: readonly Account[]; subscriptions: readonly Subscription[]; products?: readonly Product[] }): Promise<void>;
  /** Changes the simulator's faults (PATCH /admin/faults). */
  setFaults(faults: FaultOverrides): Promise<void>;
  /** Stops the in-process worker, letting it drain (a crash or a deploy, as the scenarios need it). */
  stopWorker(): Promise<void>;
  /** Starts a new in-process worker on the same queue (after `stopWorker`). */
  startWorker(): Promise<void>;
  close(): Promise<void>;
}

export async function assembleSystem(options: SystemOptions): Promise<AssembledSystem> {
  const { config } = options;
  if (!config.TEMPORAL_ADDRESS || !config.MONGODB_URI) throw new Error('assembleSystem needs TEMPORAL_ADDRESS and MONGODB_URI');
  const logger = options.logger ?? pino({ level: 'silent' });
  // Closed in reverse order of opening.
  const closers: Array<() => Promise<unknown>> = [];
  const close = async () => {
    for (const closer of closers.splice(0).reverse()) await closer().catch((error: unknown) => logger.warn({ err: error }, 'closing failed'));
  };

  try {
    const db = await connectDatabase(config.MONGODB_URI, config.MONGODB_DATABASE, {
      ...(options.databaseWatchdog ? { watchdog: { onRebuild: (reason: string) => logger.warn({ reason }, 'database client rebuilt') } } : {}),
    });
    closers.push(async () => {
      // A test may have closed it on purpose (health while the database is down).
      if (db.connection.readyState !== 1) return;
      if (options.dropDatabaseOnClose) await db.connection.dropDatabase().catch(() => undefined);
      await db.close();
    });
    const target = temporalTarget(config);
    const temporalConnection = await Connection.connect(target.connectionOptions);
    closers.push(() => temporalConnection.close());
    const temporalClient = new Client({ connection: temporalConnection, namespace: target.namespace });

    let simulator: AssembledSystem['simulator'];
    let vendorBaseUrl = config.VENDOR_BASE_URL;
    if (!vendorBaseUrl && options.simulator) {
      const instance = createPartnerCenterSimulator({ faults: { global: { ...options.simulator.faults } } });
      const running = await instance.listen(options.simulator.port ?? 0, '127.0.0.1');
      closers.push(() => running.close());
      simulator = { instance, url: running.url };
      vendorBaseUrl = running.url;
    }

    let activityDeps: UpgradeActivityDeps | undefined;
    let worker: Worker | undefined;
    let workerRun: Promise<void> | undefined;
    const workerOptions = options.worker === false ? undefined : (options.worker ?? {});
    const startWorker = async (connection: NativeConnection, deps: UpgradeActivityDeps) => {
      worker = await createUpgradeWorker({
        connection,
        namespace: target.namespace,
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        campaignMaxQueuedItems: config.CAMPAIGN_MAX_QUEUED_ITEMS,
        deps,
        ...(workerOptions?.workflowBundle ? { workflowBundle: workerOptions.workflowBundle } : {}),
      });
      workerRun = worker.run();
    };
    const stopWorker = async () => {
      if (worker?.getState() === 'RUNNING') worker.shutdown();
      await workerRun?.catch((error: unknown) => logger.warn({ err: error }, 'worker stopped with an error'));
    };
    let nativeConnection: NativeConnection | undefined;
    if (workerOptions) {
      if (!vendorBaseUrl) throw new Error('the worker needs a Partner Center: set VENDOR_BASE_URL or ask for the simulator');
      nativeConnection = await NativeConnection.connect(target.connectionOptions);
      closers.push(() => nativeConnection!.close());
      activityDeps = {
        ...activityDepsFromConfig(config, db, vendorBaseUrl, logger),
        ...(options.clock ? { clock: options.clock } : {}),
        ...workerOptions.activityDeps,
      };
      await startWorker(nativeConnection, activityDeps);
      closers.push(stopWorker);
      if (options.maintenanceSchedules !== false) {
        const schedules = maintenanceSchedules(config);
        await ensureMaintenanceSchedules(temporalClient, config.TEMPORAL_TASK_QUEUE, schedules, logger);
        // A throwaway system's schedules would keep starting runs on a task queue nobody polls any more.
        if (options.dropDatabaseOnClose) {
          closers.push(() => Promise.all(schedules.map((schedule) => temporalClient.schedule.getHandle(schedule.scheduleId).delete())));
        }
      }
    }

    let api: ApiServer | undefined;
    if (options.api !== false) {
      const simulatorUrl = options.registerImportsWithSimulator ? simulator?.url : undefined;
      const registerImports = simulatorUrl
        ? async (subscriptions: Subscription[]) => {
            const accountIds = [...new Set(subscriptions.map((subscription) => subscription.accountId))];
            const accounts = (await Promise.all(accountIds.map((id) => loadAccount(db.models, id)))).filter((account) => account !== undefined);
            await registerWithSimulator(simulatorUrl, simulatorSeedFor({ accounts, subscriptions, products: demoProducts() }));
          }
        : undefined;
      api = await startApiServer(config, {
        models: db.models,
        temporalClient,
        logger,
        ...(options.clock ? { clock: options.clock } : {}),
        ...(registerImports ? { onSubscriptionsImported: registerImports } : {}),
        ...(options.microsoftVerdict && vendorBaseUrl
          ? { vendor: createVendorClient(config, vendorBaseUrl, logger), microsoftEligibilityMaxAgeMs: config.VENDOR_ELIGIBILITY_CACHE_SECONDS * 1000 }
          : {}),
        ...options.api,
      });
      closers.push(() => api!.close());
    }

    const simulatorAdmin = async (method: string, path: string, body: unknown) => {
      if (!simulator) throw new Error('no Partner Center simulator in this system');
      const response = await fetch(`${simulator.url}${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (!response.ok) throw new Error(`the simulator refused ${method} ${path}: ${response.status} ${await response.text()}`);
    };

    return {
      config,
      logger,
      db,
      temporalClient,
      vendorBaseUrl,
      simulator,
      activityDeps,
      get worker() {
        return worker;
      },
      api,
      upgradeUseCases: createUpgradeUseCaseDeps({ models: db.models, temporalClient, config, ...(options.clock ? { clock: options.clock } : {}) }),
      async seed(data) {
        const products = data.products ?? demoProducts();
        if (products.length > 0) {
          await db.models.products.bulkWrite(
            products.map((product) => ({ replaceOne: { filter: { _id: product.productId }, replacement: fromProduct(product) as never, upsert: true } })),
          );
        }
        if (data.accounts.length > 0) {
          await db.models.accounts.bulkWrite(
            data.accounts.map(({ id, ...fields }) => ({ replaceOne: { filter: { _id: id }, replacement: { _id: id, ...fields } as never, upsert: true } })),
          );
        }
        if (data.subscriptions.length > 0) {
          await db.models.subscriptions.bulkWrite(
            data.subscriptions.map((s) => ({ replaceOne: { filter: { _id: s.id }, replacement: fromSubscription(s) as never, upsert: true } })),
          );
        }
        if (simulator) {
          await registerWithSimulator(
            simulator.url,
            simulatorSeedFor({ accounts: [...data.accounts], subscriptions: [...data.subscriptions], products: [...products] }),
          );
        }
      },
      setFaults: (faults) => simulatorAdmin('PATCH', '/admin/faults', faults),
      stopWorker,
      async startWorker() {
        if (!nativeConnection || !activityDeps) throw new Error('no in-process worker in this system');
        await startWorker(nativeConnection, activityDeps);
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
