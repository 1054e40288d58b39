import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

export interface PlannedRequest {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: unknown;
}

export interface LoadJob {
  baseUrl: string;
  /** Closed loop: this many requests in flight, each sent when the one before it finished. */
  concurrency: number;
  /**
   * Open loop instead (a steady load): request i is due at i / ratePerSecond seconds, sent then whatever is still in
   * flight, and its latency counts from when it was due — so a server that falls behind is not excused by the load
   * generator politely waiting for it (no coordinated omission).
   */
  ratePerSecond?: number;
  requests: PlannedRequest[];
  expectStatus: number[];
  maxDurationMs: number;
}

export interface LoadResult {
  latenciesMs: number[];
  /** The status of each request sent, by its index in the job's list (0: no response). */
  statusByIndex: number[];
  sent: number;
  durationMs: number;
  statuses: Record<string, number>;
  unexpected: Array<{ status: number; body: string }>;
  timedOut: boolean;
}

export interface LatencySummary {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** Runs one load phase in a worker thread (see load-worker.ts) and waits for its result. */
export function runLoad(job: LoadJob): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    // A worker does not inherit tsx's loader hooks: register tsx's CommonJS hook first, then load the TypeScript file.
    const entry = join(__dirname, 'load-worker.ts');
    const worker = new Worker(`require('tsx/cjs'); require(${JSON.stringify(entry)});`, { eval: true, workerData: job });
    worker.once('message', (message: { ok: true; result: LoadResult } | { ok: false; error: string }) => {
      if (message.ok) resolve(message.result);
      else reject(new Error(message.error));
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function summarize(values: readonly number[]): LatencySummary {
  const sorted = [...values].sort((a, b) => a - b);
  const round = (v: number) => Math.round(v * 100) / 100;
  return {
    n: sorted.length,
    p50: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted[sorted.length - 1] ?? Number.NaN),
    mean: round(sorted.reduce((sum, v) => sum + v, 0) / Math.max(1, sorted.length)),
  };
}
