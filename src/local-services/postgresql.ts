import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { canConnect, findFreePort, startManagedProcess, waitUntilReady, type ManagedProcess } from './managed-process';
import { dataRootDir } from './tools';

/**
 * A private PostgreSQL server from Debian's packages, as the storage of FerretDB's `postgresql` backend — `npm
 * start`'s database where the package is installed (kept under .data/postgresql/, durable) and the benchmarks'
 * (`--database postgresql`, throwaway, durability off: the data lives for one run). Unlike the embedded SQLite
 * backend, it filters in the database and, with the containment indexes of `addContainmentIndexes`, answers `{_id}`
 * and `{accountId}` from an index, as MongoDB would.
 */
export interface PostgresqlServer {
  /** postgres://… URL of the `ferretdb` database. */
  readonly url: string;
  readonly process: ManagedProcess;
  /** Runs SQL with psql against the `ferretdb` database (ON_ERROR_STOP). */
  runSql(sql: string): string;
  stop(): Promise<void>;
}

const DATABASE = 'ferretdb';

/**
 * FerretDB's connections to PostgreSQL. FerretDB 1.x runs an update as a query that keeps its connection while the
 * write takes a second one, so with as many concurrent updates as pooled connections every update holds one and waits
 * for another, forever (seen with 160 upgrades of a campaign at once: FerretDB's default pool of 50 deadlocked). Each
 * of our processes sends at most 100 operations at once (the MongoDB driver's pool), so 2 × 100 per process for an
 * API, a worker and a CLI or a second worker keeps every update's second connection available.
 */
const FERRETDB_POOL_CONNECTIONS = 600;

/** Whether a PostgreSQL server is installed (`npm run setup` installs Debian's package when it runs as root). */
export function postgresqlInstalled(): boolean {
  return postgresqlBinDir() !== undefined;
}

/** The newest PostgreSQL server installed by Debian's packages (`/usr/lib/postgresql/<major>/bin`). */
function postgresqlBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const majors = readdirSync(root)
    .filter((name) => /^\d+$/.test(name) && existsSync(join(root, name, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a));
  return majors[0] ? join(root, majors[0], 'bin') : undefined;
}

export async function startPostgresql(
  options: {
    port?: number;
    logFile?: string;
    /** Keep the cluster here across runs (npm start); default a throwaway one. */
    dataDir?: string;
    /** fsync, synchronous commit and full pages as PostgreSQL ships them; default: a kept cluster is durable, a throwaway one not. */
    durable?: boolean;
  } = {},
): Promise<PostgresqlServer> {
  const binDir = postgresqlBinDir();
  if (!binDir) throw new Error("PostgreSQL not installed: run `npm run setup` as root (installs Debian's postgresql package)");
  const port = options.port ?? (await findFreePort());
  const persistent = options.dataDir !== undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'nce-postgresql-'));
  mkdirSync(dataDir, { recursive: true });
  const logFile = options.logFile ?? join(dataRootDir, 'logs', `postgresql-${port}.log`);
  // PostgreSQL refuses to run as root: as root, the server runs as Debian's `postgres` user.
  const asRoot = userInfo().uid === 0;
  const asServiceUser = (command: string, args: string[]): [string, string[]] =>
    asRoot ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
  chmodSync(dataDir, 0o700);
  if (asRoot) {
    chownSync(dataDir, Number(execFileSync('id', ['-u', 'postgres']).toString().trim()), Number(execFileSync('id', ['-g', 'postgres']).toString().trim()));
  }
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    const [initCommand, initArgs] = asServiceUser(join(binDir, 'initdb'), ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
    execFileSync(initCommand, initArgs, { stdio: 'ignore' });
  }
  // A throwaway cluster trades durability for speed; a kept one keeps PostgreSQL's defaults.
  const throwawaySettings = (options.durable ?? persistent) ? [] : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'];

  const [command, args] = asServiceUser(join(binDir, 'postgres'), [
    '-D',
    dataDir,
    '-p',
    String(port),
    '-k',
    dataDir,
    '-c',
    'listen_addresses=127.0.0.1',
    ...throwawaySettings,
    '-c',
    'shared_buffers=256MB',
    // FerretDB sends `WHERE _jsonb->$1 @> $2` as a cached prepared statement. After five runs PostgreSQL may switch
    // to a generic plan, in which the field name is a parameter and no expression index can match: every lookup
    // would scan the table again. Custom plans see `_jsonb->'accountId'` and use the index.
    '-c',
    'plan_cache_mode=force_custom_plan',
    // Room for FerretDB's pool below (and psql beside it).
    '-c',
    `max_connections=${FERRETDB_POOL_CONNECTIONS + 50}`,
  ]);
  const service = startManagedProcess({ name: 'PostgreSQL', command, args, logFile });
  await waitUntilReady(service, () => canConnect('127.0.0.1', port), { timeoutMs: 30_000, logFile });

  const psql = join(binDir, 'psql');
  const runSql = (sql: string, database = DATABASE) =>
    execFileSync(psql, ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', database, '-v', 'ON_ERROR_STOP=1', '-qAt', '-c', sql], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  await retryUntil(() => {
    if (runSql(`SELECT 1 FROM pg_database WHERE datname = '${DATABASE}'`, 'postgres').trim() !== '1') runSql(`CREATE DATABASE ${DATABASE}`, 'postgres');
  }, 10_000);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/${DATABASE}?pool_max_conns=${FERRETDB_POOL_CONNECTIONS}`,
    process: service,
    runSql: (sql) => runSql(sql),
    async stop() {
      await service.stop();
      if (!persistent) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The server accepts TCP a moment before it accepts sessions ("the database system is starting up"). */
async function retryUntil(action: () => unknown, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      action();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

/**
 * FerretDB 1.x's postgresql backend turns a mongoose index into a btree on `(_jsonb -> 'field')`, but filters with
 * `_jsonb -> 'field' @> value`, which a btree cannot serve. For every field of every such index in the database's
 * schema (FerretDB keeps one schema per MongoDB database), this adds a GIN index on the same expression, which serves
 * `@>`: the equality lookups our code makes become index scans. Idempotent; returns the indexes created.
 */
/**
 * `VACUUM ANALYZE` of the whole cluster database: fresh planner statistics and visibility maps after a bulk load, so
 * that autovacuum does not start in the middle of a measurement and the planner knows the new indexes' tables.
 */
export function vacuumAnalyze(server: Pick<PostgresqlServer, 'runSql'>): void {
  server.runSql('VACUUM ANALYZE;');
}

export function addContainmentIndexes(server: Pick<PostgresqlServer, 'runSql'>, mongoDatabase: string): number {
  const schema = mongoDatabase.replace(/'/g, "''");
  const sql = `
DO $$
DECLARE
  btree record;
  field text;
  index_name text;
  created integer := 0;
BEGIN
  FOR btree IN
    SELECT tablename, indexdef FROM pg_indexes
    WHERE schemaname = '${schema}' AND indexdef LIKE '%USING btree%' AND indexdef LIKE '%_jsonb -> %'
  LOOP
    FOR field IN SELECT (regexp_matches(btree.indexdef, '_jsonb -> ''([^'']+)''::text', 'g'))[1] LOOP
      index_name := btree.tablename || '_' || substr(md5(field), 1, 8) || '_gin';
      IF NOT EXISTS (SELECT 1 FROM pg_indexes WHERE schemaname = '${schema}' AND indexname = index_name) THEN
        EXECUTE format('CREATE INDEX %I ON %I.%I USING gin ((_jsonb -> %L))', index_name, '${schema}', btree.tablename, field);
        created := created + 1;
      END IF;
    END LOOP;
  END LOOP;
  RAISE NOTICE 'created %', created;
END $$;
SELECT count(*) FROM pg_indexes WHERE schemaname = '${schema}' AND indexname LIKE '%\\_gin';`;
  return Number(server.runSql(sql).trim().split('\n').pop());
}
