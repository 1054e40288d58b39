import { join } from 'node:path';
import { startFerretDb, type FerretDbServer } from './ferretdb';
import { startInMemoryMongo, type InMemoryMongoServer } from './in-memory-mongo';
import { startPostgresql, type PostgresqlServer } from './postgresql';
import { startTemporalDevServer, type TemporalDevServer } from './temporal-dev-server';
import { dataRootDir } from './tools';

/**
 * Brings up the services the system needs, used by `npm start`, the jest global setup and the benchmarks:
 * an address that is already configured (TEMPORAL_ADDRESS, MONGODB_URI) is used as-is; anything unset is started
 * locally from the binaries `npm run setup` installed, on free ports, and stopped by `stop()`.
 */
export interface RunningServices {
  temporalAddress: string;
  /** Only when we started the dev server ourselves. */
  temporalUiUrl?: string;
  mongodbUri: string;
  /** FerretDB's PostgreSQL, when started with `database: 'postgresql'` (for `addContainmentIndexes`). */
  postgresql?: PostgresqlServer;
  stop(): Promise<void>;
}

export interface ServiceRunnerOptions {
  temporalAddress?: string;
  mongodbUri?: string;
  temporalNamespace?: string;
  temporalPort?: number;
  temporalUiPort?: number;
  mongoPort?: number;
  /** Keep Temporal and FerretDB state across runs under .data/ (npm start); tests use throwaway state. */
  persistent?: boolean;
  headless?: boolean;
  /**
   * The MongoDB-wire database when we start one: FerretDB on its embedded SQLite (default) or on a private PostgreSQL
   * (`npm start` where it is installed, kept under .data/postgresql/ when `persistent`; the benchmarks), or the
   * benchmarks' in-memory server (`memory`, see in-memory-mongo.ts).
   */
  database?: 'sqlite' | 'postgresql' | 'memory';
  /** PostgreSQL with its durability settings even when throwaway (`bench:api --durable`: what `npm start` runs). */
  durableDatabase?: boolean;
  log?: (message: string) => void;
}

export type DatabaseBackend = NonNullable<ServiceRunnerOptions['database']>;

const DATABASE_BACKENDS: readonly DatabaseBackend[] = ['sqlite', 'postgresql', 'memory'];

/** `--database sqlite|postgresql|memory` of the benchmark scripts. */
export function parseDatabaseBackend(raw: string | undefined, fallback: DatabaseBackend = 'sqlite'): DatabaseBackend {
  if (raw === undefined) return fallback;
  const backend = DATABASE_BACKENDS.find((candidate) => candidate === raw);
  if (!backend) throw new Error(`--database must be ${DATABASE_BACKENDS.join(', ')}, got ${raw}`);
  return backend;
}

export async function startServices(options: ServiceRunnerOptions): Promise<RunningServices> {
  const log = options.log ?? (() => undefined);
  const started: Array<TemporalDevServer | FerretDbServer | InMemoryMongoServer> = [];
  let postgresql: PostgresqlServer | undefined;
  const stop = async () => {
    await Promise.allSettled(started.map((service) => service.stop()));
    await postgresql?.stop(); // after FerretDB, its client
  };
  try {
    const [temporal, ferret] = await Promise.all([
      options.temporalAddress
        ? undefined
        : startTemporalDevServer({
            port: options.temporalPort,
            uiPort: options.temporalUiPort,
            namespace: options.temporalNamespace,
            headless: options.headless,
            dbFile: options.persistent ? join(dataRootDir, 'temporal.sqlite') : undefined,
          }).then((server) => {
            started.push(server);
            log(`Temporal dev server on ${server.address}${options.headless ? '' : `, UI ${server.uiUrl}`}`);
            return server;
          }),
      options.mongodbUri
        ? undefined
        : (async () => {
            if (options.database === 'memory') {
              const server = await startInMemoryMongo({ log });
              started.push(server);
              log(`in-memory MongoDB-wire server (mongo-java-server, not durable) on ${server.uri}`);
              return server;
            }
            if (options.database === 'postgresql') {
              postgresql = await startPostgresql({
                ...(options.persistent ? { dataDir: join(dataRootDir, 'postgresql') } : {}),
                ...(options.durableDatabase ? { durable: true } : {}),
              });
              log(`PostgreSQL for FerretDB on ${postgresql.url}`);
            }
            const server = await startFerretDb({
              port: options.mongoPort,
              // The SQLite backend's files; on PostgreSQL, FerretDB keeps nothing of its own.
              dataDir: options.persistent && !postgresql ? join(dataRootDir, 'ferretdb') : undefined,
              ...(postgresql ? { postgresqlUrl: postgresql.url } : {}),
            });
            started.push(server);
            log(`FerretDB (MongoDB wire protocol, ${postgresql ? 'PostgreSQL' : 'SQLite'} backend) on ${server.uri}`);
            return server;
          })(),
    ]);
    return {
      temporalAddress: options.temporalAddress ?? temporal!.address,
      temporalUiUrl: temporal && !options.headless ? temporal.uiUrl : undefined,
      mongodbUri: options.mongodbUri ?? ferret!.uri,
      ...(postgresql ? { postgresql } : {}),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
