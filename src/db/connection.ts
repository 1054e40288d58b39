import mongoose, { type Connection, type ConnectOptions } from 'mongoose';
import { createModels, type Models } from './models';

export interface Database {
  readonly connection: Connection;
  readonly models: Models;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * The client watchdog (see `watchClient`). A rebuild needs `failuresBeforeRebuild` pings in a row, `intervalMs` apart,
 * to fail within `pingTimeoutMs`, each while a fresh client reaches the same server.
 */
export interface ClientWatchdogOptions {
  intervalMs: number;
  pingTimeoutMs: number;
  failuresBeforeRebuild: number;
  /** Told each time the client is rebuilt (the worker and the API log it). */
  onRebuild?: (reason: string) => void;
}

const DEFAULT_CLIENT_WATCHDOG: ClientWatchdogOptions = { intervalMs: 5_000, pingTimeoutMs: 3_000, failuresBeforeRebuild: 3 };

export interface ConnectDatabaseOptions {
  /** `false` turns the client watchdog off (default: on, DEFAULT_CLIENT_WATCHDOG). */
  watchdog?: Partial<ClientWatchdogOptions> | false;
}

/** Resolves to the promise's outcome, or rejects after `ms`. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Whether a brand-new client (its own monitor and pool) gets an answer from the server. */
async function reachableWithFreshClient(uri: string, timeoutMs: number): Promise<boolean> {
  const client = new mongoose.mongo.MongoClient(uri, { serverSelectionTimeoutMS: timeoutMs, connectTimeoutMS: timeoutMs });
  try {
    await within(
      client.connect().then(() => client.db('admin').command({ ping: 1 })),
      timeoutMs + 1_000,
      'fresh client',
    );
    return true;
  } catch {
    return false;
  } finally {
    void client.close().catch(() => undefined);
  }
}

/**
 * Rebuilds the connection's client when it cannot reach a server that a fresh client reaches. Measured in the fault
 * suite: after a FerretDB restart, the mongodb 7.x driver's monitor can hang for good (a heartbeat write waits for
 * 'drain' on a socket that was closed without an error, and nothing else settles it); from the next network error on,
 * server selection fails every time, although the database is up again. The models stay bound to the connection, so
 * closing and reopening it is invisible to their callers; operations in flight at that moment fail and are retried
 * (activities by Temporal, requests by the portal). A database that is really down is left to the driver: the count
 * starts again whenever a fresh client cannot reach it either, so a restart alone never triggers a rebuild.
 */
function watchClient(connection: Connection, uri: string, connectOptions: ConnectOptions, options: ClientWatchdogOptions): { stop(): Promise<void> } {
  let failures = 0;
  let stopped = false;
  let tick: Promise<void> = Promise.resolve();

  const check = async () => {
    try {
      await within(connection.db!.admin().command({ ping: 1 }), options.pingTimeoutMs, 'ping');
      failures = 0;
      return;
    } catch (error) {
      // Only failures while the server answers others count: a database that is down is the driver's to wait for.
      if (!(await reachableWithFreshClient(uri, options.pingTimeoutMs))) {
        failures = 0;
        return;
      }
      failures += 1;
      if (failures < options.failuresBeforeRebuild || stopped) return;
      const reason = `${failures} pings failed (last: ${error instanceof Error ? error.message : String(error)}) while a fresh client reaches the server`;
      await within(connection.close(), options.pingTimeoutMs, 'closing the stuck client').catch(() => undefined);
      if (stopped) return;
      await connection.openUri(uri, connectOptions);
      failures = 0;
      options.onRebuild?.(reason);
    }
  };
  const timer = setInterval(() => {
    tick = tick.then(check).catch(() => undefined); // one check at a time; a failed rebuild is retried next tick
  }, options.intervalMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await tick;
    },
  };
}

/**
 * One connection per process (API, worker, test file), its models bound to it so tests can use separate databases.
 * Indexes are built at connect: they carry our uniqueness guarantees (one invoice per upgrade and kind, one
 * notification per event), so they must exist before the first write.
 */
export async function connectDatabase(uri: string, dbName: string, options: ConnectDatabaseOptions = {}): Promise<Database> {
  const connectOptions: ConnectOptions = {
    dbName,
    serverSelectionTimeoutMS: 10_000,
    // FerretDB 1.x and MongoDB both accept this; retryable writes need a replica set, which a dev server lacks.
    retryWrites: false,
    autoIndex: false,
  };
  const connection = mongoose.createConnection(uri, connectOptions);
  await connection.asPromise();
  const models = createModels(connection);
  await Promise.all(Object.values(models).map((model) => model.createIndexes()));
  const watchdog = options.watchdog === false ? undefined : watchClient(connection, uri, connectOptions, { ...DEFAULT_CLIENT_WATCHDOG, ...options.watchdog });
  return {
    connection,
    models,
    async ping() {
      try {
        await connection.db?.admin().ping();
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      await watchdog?.stop();
      await connection.close();
    },
  };
}
