import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { needsManualSeatConfirmation, type UpgradeCase } from './scenarios';
import type { TestSystem } from './system';

/** Load generation and statistics shared by the benchmark and the fault suite. */

export const FINAL_STATUSES = new Set(['completed', 'failed', 'rejected']);

/** Runs `task` for every item with at most `concurrency` in flight (a closed loop: each slot starts the next item when its last one ended). */
export async function runWithConcurrency<T, R>(items: readonly T[], concurrency: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const slot = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, slot));
  return results;
}

export interface UpgradeRun {
  kind: string;
  upgradeId?: string;
  startStatus: number;
  startMs: number;
  /** From sending the start request to the workflow closing. */
  endToEndMs?: number;
  confirmed: boolean;
  /** GET /v1/upgrades/:id made because no webhook came in time (each asks the running workflow: a query). */
  fallbackPolls: number;
  /** Status the workflow ended with (undefined if it did not close in time). */
  closed?: 'completed' | 'failed';
  error?: string;
}

export interface DriveOptions {
  /**
   * How long to wait for the `manual_seat_reassignment_required` webhook before looking at GET /v1/upgrades/:id
   * instead (a portal's reconciliation for a delivery that never came); default 2 s (the fault suite, where a
   * SIGKILL can delay a delivery). Each look is a query of the running workflow.
   */
  fallbackPollMs?: number;
  /** Give up on one upgrade after this long (the fault suite then reports it as stuck). */
  timeoutMs?: number;
  /** Retry the start request on 5xx / network errors (the fault suite restarts the database under it). */
  startAttempts?: number;
  /** Watch every kind for a manual seat reassignment (automatic reassignment falls back to manual when it keeps failing). */
  confirmAnyKind?: boolean;
}

/**
 * One upgrade the way a portal does it: POST /v1/upgrades with an idempotency key; for the kinds that need it, wait
 * for the account's `manual_seat_reassignment_required` webhook (or, when none comes, see GET /v1/upgrades/:id say
 * so) and confirm at once; wait for the workflow to close (Temporal long poll, no extra load on the API).
 */
export async function driveUpgrade(system: TestSystem, item: UpgradeCase, options: DriveOptions = {}): Promise<UpgradeRun> {
  const fallbackPollMs = options.fallbackPollMs ?? 2_000;
  const timeoutMs = options.timeoutMs ?? 300_000;
  const began = performance.now();
  let start: { status: number; body: any; ms: number } | undefined;
  let lastError = '';
  for (let attempt = 1; attempt <= (options.startAttempts ?? 1); attempt++) {
    try {
      start = await system.http('POST', '/v1/upgrades', item.body, { 'idempotency-key': item.idempotencyKey });
      if (start.status < 500) break;
      lastError = `start answered ${start.status}: ${JSON.stringify(start.body)}`;
    } catch (error) {
      lastError = `start request failed: ${String(error)}`;
    }
    await sleep(500 * attempt);
  }
  const startMs = performance.now() - began;
  if (!start || start.status !== 202) {
    return {
      kind: item.kind,
      startStatus: start?.status ?? 0,
      startMs,
      confirmed: false,
      fallbackPolls: 0,
      error: start ? `start answered ${start.status}: ${JSON.stringify(start.body)}` : lastError,
    };
  }
  const upgradeId = String(start.body.upgradeId);
  const run: UpgradeRun = { kind: item.kind, upgradeId, startStatus: 202, startMs, confirmed: false, fallbackPolls: 0 };
  const deadline = began + timeoutMs;
  const result = system.client.workflow
    .getHandle(upgradeId)
    .result()
    .then(
      () => 'completed' as const,
      () => 'failed' as const,
    );
  let closed: 'completed' | 'failed' | undefined;
  void result.then((value) => (closed = value));

  if (options.confirmAnyKind || needsManualSeatConfirmation(item.kind)) {
    // A webhook is believed once: if confirming on it is refused, only what GET says counts from then on.
    let trustWebhook = true;
    while (!closed && performance.now() < deadline) {
      const notified = trustWebhook
        ? await Promise.race([system.webhooks.waitFor(upgradeId, 'manual_seat_reassignment_required', fallbackPollMs), result.then(() => false)])
        : await sleep(fallbackPollMs).then(() => false);
      if (closed) break;
      if (!notified) {
        run.fallbackPolls += 1;
        const view = await system.http('GET', `/v1/upgrades/${upgradeId}`).catch(() => undefined);
        if (!view || view.status !== 200) continue;
        if (FINAL_STATUSES.has(view.body.status)) break;
        if (view.body.status !== 'awaiting_manual_seat_reassignment') continue;
      }
      const confirmation = await system.http('POST', `/v1/upgrades/${upgradeId}/seat-reassignment`, {}).catch(() => undefined);
      if (confirmation?.status === 200) {
        run.confirmed = true;
        break;
      }
      trustWebhook = false;
    }
  }
  const remaining = Math.max(0, deadline - performance.now());
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([result, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), remaining)))]);
  clearTimeout(timer);
  if (outcome) {
    run.closed = outcome;
    run.endToEndMs = performance.now() - began;
  } else {
    run.error = `did not close within ${timeoutMs} ms`;
  }
  return run;
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]!;
}

export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
  mean: number;
}

export function summarize(values: readonly number[]): LatencySummary {
  const mean = values.length ? values.reduce((sum, value) => sum + value, 0) / values.length : NaN;
  const round = (value: number) => Math.round(value * 10) / 10;
  return { p50: round(percentile(values, 50)), p95: round(percentile(values, 95)), p99: round(percentile(values, 99)), mean: round(mean) };
}

/** Events, scheduled activities and workflow tasks of closed runs (fetchHistory). */
export async function historyStats(
  client: Client,
  workflowIds: readonly string[],
): Promise<{ sampled: number; eventsPerRun: number; activitiesPerRun: number; workflowTasksPerRun: number }> {
  let events = 0;
  let activities = 0;
  let workflowTasks = 0;
  await runWithConcurrency(workflowIds, 8, async (id) => {
    const history = await client.workflow.getHandle(id).fetchHistory();
    const all = history.events ?? [];
    events += all.length;
    activities += all.filter((event) => event.activityTaskScheduledEventAttributes).length;
    workflowTasks += all.filter((event) => event.workflowTaskCompletedEventAttributes).length;
  });
  const n = Math.max(1, workflowIds.length);
  const round = (value: number) => Math.round(value * 10) / 10;
  return {
    sampled: workflowIds.length,
    eventsPerRun: round(events / n),
    activitiesPerRun: round(activities / n),
    workflowTasksPerRun: round(workflowTasks / n),
  };
}

/** Evenly spread sample of at most `size` items. */
export function sample<T>(items: readonly T[], size: number): T[] {
  if (items.length <= size) return [...items];
  const step = items.length / size;
  return Array.from({ length: size }, (_, i) => items[Math.floor(i * step)]!);
}

/** A plain text table. */
export function table(headers: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  const cells = [headers, ...rows].map((row) => row.map((cell) => String(cell)));
  const widths = headers.map((_, column) => Math.max(...cells.map((row) => row[column]?.length ?? 0)));
  const line = (row: string[]) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ');
  return [line(cells[0]!), widths.map((width) => '-'.repeat(width)).join('  '), ...cells.slice(1).map(line)].join('\n');
}
