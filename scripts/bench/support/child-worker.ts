import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Worker processes for the benchmark and the fault suite: `node --import tsx <entry>` (not the `tsx` CLI, which
 * forks a second node process — a SIGKILL would hit the wrapper and orphan the real worker), so the pid we hold is
 * the process doing the work: the one we measure and the one we kill.
 */
export const REPO_ROOT = join(__dirname, '..', '..', '..');
export const UPGRADE_WORKER_ENTRY = join(REPO_ROOT, 'src', 'worker.ts');

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ on Linux (getconf CLK_TCK)
const PAGE_SIZE = 4096;

export interface ProcessSample {
  /** user + system CPU time, ms */
  cpuMs: number;
  rssBytes: number;
}

/** CPU time and RSS of one process from /proc (Linux); undefined once it has gone. */
export function sampleProcess(pid: number): ProcessSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (comm) may contain spaces: split after its closing parenthesis. utime/stime are fields 14/15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    const rssPages = Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]);
    return { cpuMs: (ticks * 1000) / CLOCK_TICKS_PER_SECOND, rssBytes: rssPages * PAGE_SIZE };
  } catch {
    return undefined;
  }
}

export interface ChildWorkerOptions {
  name: string;
  entry: string;
  env: Record<string, string>;
  /** A line of output containing this means the worker polls its task queue. */
  readyText: string;
  readyTimeoutMs?: number;
  /** Receives every output line (for a log file or debugging). */
  onOutput?: (line: string) => void;
}

export interface ChildWorker {
  readonly name: string;
  readonly pid: number;
  readonly process: ChildProcess;
  /** Resolves with the exit code/signal once the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** CPU and peak RSS since `resetMeasurement()` (or start), sampled every 200 ms. */
  measurement(): { cpuMs: number; peakRssBytes: number };
  resetMeasurement(): void;
  kill(signal: NodeJS.Signals): void;
  /** SIGTERM (graceful drain), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export async function startChildWorker(options: ChildWorkerOptions): Promise<ChildWorker> {
  // BENCH_WORKER_NODE_ARGS lets an engineer profile the workers of a real run, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
  // (node refuses --cpu-prof in NODE_OPTIONS).
  const extraNodeArgs = (process.env.BENCH_WORKER_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== '');
  const child = spawn(process.execPath, [...extraNodeArgs, '--import', 'tsx', options.entry], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${options.name}: could not spawn`);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });

  let baselineCpuMs = 0;
  let lastCpuMs = 0;
  let peakRssBytes = 0;
  const sample = () => {
    const current = sampleProcess(pid);
    if (!current) return;
    lastCpuMs = current.cpuMs;
    peakRssBytes = Math.max(peakRssBytes, current.rssBytes);
  };
  const sampler = setInterval(sample, 200);
  sampler.unref();
  void exited.then(() => clearInterval(sampler));

  let readyResolve!: () => void;
  const ready = new Promise<void>((resolve) => (readyResolve = resolve));
  const tail: string[] = [];
  const onData = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line) continue;
      tail.push(line);
      if (tail.length > 30) tail.shift();
      options.onOutput?.(line);
      if (line.includes(options.readyText)) readyResolve();
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);

  const timeoutMs = options.readyTimeoutMs ?? 90_000;
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    ready.then(() => 'ready' as const),
    exited.then(() => 'exited' as const),
    new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs))),
  ]);
  clearTimeout(timer);
  if (outcome !== 'ready') {
    child.kill('SIGKILL');
    throw new Error(`${options.name} did not become ready (${outcome}); last output:\n${tail.join('\n')}`);
  }
  sample();
  baselineCpuMs = lastCpuMs;
  peakRssBytes = 0;
  sample();

  return {
    name: options.name,
    pid,
    process: child,
    exited,
    measurement() {
      sample();
      return { cpuMs: lastCpuMs - baselineCpuMs, peakRssBytes };
    },
    resetMeasurement() {
      sample();
      baselineCpuMs = lastCpuMs;
      peakRssBytes = 0;
      sample();
    },
    kill(signal) {
      if (child.exitCode === null && child.signalCode === null) process.kill(pid, signal);
    },
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      process.kill(pid, 'SIGTERM');
      const timeout = setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null) process.kill(pid, 'SIGKILL');
      }, graceMs);
      await exited;
      clearTimeout(timeout);
    },
  };
}

/** What the workers sign webhooks with and the benchmark's receiver checks. */
export const BENCH_WEBHOOK_SIGNING_SECRET = 'bench-webhook-signing-secret';

/** Env for `src/worker.ts` (the real upgrade worker process). */
export function upgradeWorkerEnv(settings: {
  temporalAddress: string;
  mongodbUri: string;
  database: string;
  vendorBaseUrl: string;
  taskQueue: string;
}): Record<string, string> {
  return {
    NODE_ENV: 'development',
    LOG_LEVEL: 'info',
    TEMPORAL_ADDRESS: settings.temporalAddress,
    TEMPORAL_NAMESPACE: 'default',
    MONGODB_URI: settings.mongodbUri,
    MONGODB_DATABASE: settings.database,
    VENDOR_BASE_URL: settings.vendorBaseUrl,
    TEMPORAL_TASK_QUEUE: settings.taskQueue,
    WEBHOOK_SIGNING_SECRET: BENCH_WEBHOOK_SIGNING_SECRET,
    // The benchmark's webhook receiver listens on 127.0.0.1.
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    // We measure ourselves against the simulator: Partner Center's limit on transition POSTs out of the way.
    VENDOR_TRANSITIONS_PER_INTERVAL: '1000000',
    VENDOR_TRANSITIONS_INTERVAL_SECONDS: '1',
  };
}

/** The upgrade worker logs this (pino JSON) once its Worker is created and about to poll. */
export const UPGRADE_WORKER_READY_TEXT = '"msg":"worker running"';

/** CPU ms used so far by this process and each of its descendants, summed per program name (temporal, ferretdb, node…). */
export function processTreeCpuByName(rootPid: number = process.pid): Record<string, number> {
  const parentOf = new Map<number, number>();
  const nameOf = new Map<number, string>();
  const cpuOf = new Map<number, number>();
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
  } catch {
    return {};
  }
  for (const entry of entries) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const pid = Number(entry);
      parentOf.set(pid, Number(fields[1]));
      nameOf.set(pid, name);
      cpuOf.set(pid, ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND);
    } catch {
      // gone meanwhile
    }
  }
  const isInTree = (pid: number): boolean => {
    for (let current: number | undefined = pid, hops = 0; current !== undefined && current > 1 && hops < 64; current = parentOf.get(current), hops++) {
      if (current === rootPid) return true;
    }
    return false;
  };
  const totals: Record<string, number> = {};
  for (const [pid, cpu] of cpuOf) {
    if (!isInTree(pid)) continue;
    const name = pid === rootPid ? 'driver (API, simulator, load)' : nameOf.get(pid)!;
    totals[name] = (totals[name] ?? 0) + cpu;
  }
  return totals;
}

/** Difference of two `processTreeCpuByName` snapshots, in CPU seconds, largest first. */
export function cpuSecondsBetween(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  return Object.fromEntries(
    [...names]
      .map((name) => [name, Math.round(((after[name] ?? 0) - (before[name] ?? 0)) / 100) / 10] as const)
      .filter(([, seconds]) => seconds > 0)
      .sort((a, b) => b[1] - a[1]),
  );
}
