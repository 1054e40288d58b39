import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { canConnect, findFreePort, startManagedProcess, waitUntilReady, type ManagedProcess } from './managed-process';
import { dataRootDir, projectRoot } from './tools';

/**
 * The benchmarks' third database (`--database memory`): mongo-java-server's in-memory backend, a MongoDB-wire
 * server whose per-command cost is a fraction of FerretDB's (no SQL translation, no storage engine). It measures
 * what our code costs apart from the database engine's work — not a stand-in for production: nothing is durable and
 * only unique secondary indexes exist (others scan, cheap at benchmark size). Built on first use with Maven from
 * scripts/bench/in-memory-mongo (Java 17 and Maven Central), into .tools/in-memory-mongo.
 */
export interface InMemoryMongoServer {
  /** mongodb:// URI without a database name. */
  readonly uri: string;
  readonly process: ManagedProcess;
  stop(): Promise<void>;
}

const SOURCE_DIR = join(projectRoot, 'scripts', 'bench', 'in-memory-mongo');
const BUILD_DIR = join(projectRoot, '.tools', 'in-memory-mongo');
const LAUNCHER_CLASS = 'InMemoryMongoServer';

/** Compiles the launcher and copies its jars (mongo-java-server, Netty, slf4j) unless an earlier run did. */
function buildInMemoryMongo(log: (message: string) => void = () => undefined): void {
  if (existsSync(join(BUILD_DIR, 'classes', `${LAUNCHER_CLASS}.class`)) && existsSync(join(BUILD_DIR, 'lib'))) return;
  log('building the in-memory MongoDB-wire server (mongo-java-server) with Maven');
  execFileSync(
    'mvn',
    ['-q', '-B', '-f', join(SOURCE_DIR, 'pom.xml'), 'dependency:copy-dependencies', `-DoutputDirectory=${join(BUILD_DIR, 'lib')}`, 'compile'],
    {
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
}

export async function startInMemoryMongo(options: { port?: number; log?: (message: string) => void } = {}): Promise<InMemoryMongoServer> {
  buildInMemoryMongo(options.log);
  const port = options.port ?? (await findFreePort());
  const logFile = join(dataRootDir, 'logs', `in-memory-mongo-${port}.log`);
  const service = startManagedProcess({
    name: 'in-memory MongoDB-wire server',
    command: 'java',
    args: ['-cp', `${join(BUILD_DIR, 'lib', '*')}:${join(BUILD_DIR, 'classes')}`, LAUNCHER_CLASS, String(port)],
    logFile,
  });
  await waitUntilReady(service, () => canConnect('127.0.0.1', port), { timeoutMs: 30_000, logFile });
  return { uri: `mongodb://127.0.0.1:${port}`, process: service, stop: () => service.stop() };
}
