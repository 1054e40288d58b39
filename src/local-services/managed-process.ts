import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection, createServer } from 'node:net';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * A child service process (Temporal dev server, FerretDB) that never outlives us.
 *
 * Node cannot ask Linux to kill a child when the parent dies (no PR_SET_PDEATHSIG), so each service runs under a
 * tiny shell guard that watches our pid and stops the service when we are gone — even after `kill -9` of jest or
 * `npm start`. Stopping is SIGTERM, then SIGKILL after a grace period.
 */
export interface ManagedProcess {
  readonly name: string;
  readonly pid: number | undefined;
  stop(): Promise<void>;
  /** Resolves when the process exits by itself (crash or normal exit). */
  readonly exited: Promise<number | null>;
}

const PARENT_WATCHDOG = `
"$@" &
service=$!
stop_service() { kill -TERM "$service" 2>/dev/null; wait "$service"; exit $?; }
trap stop_service TERM INT HUP
while kill -0 "$NCE_PARENT_PID" 2>/dev/null && kill -0 "$service" 2>/dev/null; do
  sleep 1 & wait $!
done
stop_service
`;

export interface StartProcessOptions {
  name: string;
  command: string;
  args: string[];
  /** Where the service's stdout/stderr go; kept out of our own output so test logs stay readable. */
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  stopGraceMs?: number;
}

export function startManagedProcess(options: StartProcessOptions): ManagedProcess {
  mkdirSync(dirname(options.logFile), { recursive: true });
  const log = createWriteStream(options.logFile, { flags: 'a' });
  const child: ChildProcess = spawn('sh', ['-c', PARENT_WATCHDOG, 'watchdog', options.command, ...options.args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env, NCE_PARENT_PID: String(process.pid) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stopping: Promise<void> | undefined;
  return {
    name: options.name,
    pid: child.pid,
    exited,
    stop() {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const killTimer = setTimeout(() => child.kill('SIGKILL'), options.stopGraceMs ?? 10_000);
        await exited;
        clearTimeout(killTimer);
        log.end();
      })();
      return stopping;
    },
  };
}

/** A TCP port nobody listens on right now (the OS picks it). */
export async function findFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export async function canConnect(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Polls `probe` until it says ready; fails early if the process dies, or after `timeoutMs`. */
export async function waitUntilReady(
  service: ManagedProcess,
  probe: () => Promise<boolean>,
  { timeoutMs, logFile }: { timeoutMs: number; logFile: string },
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let died = false;
  void service.exited.then(() => (died = true));
  while (Date.now() < deadline) {
    if (died) throw new Error(`${service.name} exited before it was ready; see ${logFile}`);
    if (await probe()) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await service.stop();
  throw new Error(`${service.name} was not ready after ${timeoutMs} ms; see ${logFile}`);
}
