import { join } from 'node:path';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dataRootDir, installedTool } from './tools';
import { canConnect, findFreePort, startManagedProcess, waitUntilReady, type ManagedProcess } from './managed-process';

export interface FerretDbServer {
  /** mongodb:// URI without a database name; callers append theirs. */
  readonly uri: string;
  readonly process: ManagedProcess;
  stop(): Promise<void>;
}

export interface StartFerretDbOptions {
  port?: number;
  /** SQLite files live here (one per database). */
  dataDir?: string;
  logFile?: string;
  /** Use FerretDB's `postgresql` backend on this database instead of the embedded SQLite (benchmarks). */
  postgresqlUrl?: string;
}

/**
 * Starts FerretDB 1.x on its embedded SQLite backend: the MongoDB wire protocol without a MongoDB server.
 * Telemetry is disabled. It lacks multi-document transactions and change streams, which our code never uses.
 */
export async function startFerretDb(options: StartFerretDbOptions = {}): Promise<FerretDbServer> {
  const binary = installedTool('ferretdb');
  if (!binary) throw new Error('FerretDB not installed: run `npm run setup` (or set MONGODB_URI to a MongoDB server)');
  const port = options.port ?? (await findFreePort());
  // Without a data folder the state is throwaway (tests): a temporary folder, removed at stop.
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'nce-ferretdb-'));
  const logFile = options.logFile ?? join(dataRootDir, 'logs', `ferretdb-${port}.log`);
  mkdirSync(dataDir, { recursive: true });
  const backend = options.postgresqlUrl
    ? ['--handler=postgresql', `--postgresql-url=${options.postgresqlUrl}`]
    : [
        '--handler=sqlite',
        // FerretDB's SQLite runs in WAL mode. `synchronous(normal)` skips the fsync per commit (still safe when a
        // process crashes, only a power loss can drop the last commits), which matters because every FerretDB write
        // is a commit: with the default FULL, writes took ~17 ms each here. Throwaway state needs no fsync at all.
        `--sqlite-url=file:${dataDir}/?_pragma=synchronous(${options.dataDir ? 'normal' : 'off'})`,
      ];
  const args = [
    ...backend,
    `--listen-addr=127.0.0.1:${port}`,
    // its debug/metrics HTTP listener would otherwise take the fixed port 8088 and clash between instances
    `--debug-addr=127.0.0.1:${await findFreePort()}`,
    `--state-dir=${dataDir}`,
    '--telemetry=disable',
    '--log-level=warn',
  ];
  const service = startManagedProcess({ name: 'FerretDB', command: binary, args, logFile, env: { DO_NOT_TRACK: '1' } });
  await waitUntilReady(service, () => canConnect('127.0.0.1', port), { timeoutMs: 30_000, logFile });
  const stop = async () => {
    await service.stop();
    if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
  };
  return { uri: `mongodb://127.0.0.1:${port}`, process: service, stop };
}
