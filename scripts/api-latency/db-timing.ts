/**
 * Where the time goes in the database: the MongoDB driver's command monitoring (the connection is opened with
 * `monitorCommands=true`), grouped by command, collection and the filter's field names — e.g.
 * `find subscriptions {accountId}` — so a slow query is named with its shape. Durations are the driver's
 * (request sent → reply parsed), i.e. FerretDB's time plus loopback and BSON decoding.
 */
import type { Connection } from 'mongoose';

interface Started {
  key: string;
  at: number;
}

export interface CommandStats {
  command: string;
  count: number;
  totalMs: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

const shapeOf = (value: unknown): string => (value && typeof value === 'object' && !Array.isArray(value) ? `{${Object.keys(value).join(',')}}` : '');

export class DbTiming {
  private readonly started = new Map<number, Started>();
  private samples = new Map<string, number[]>();

  constructor(connection: Connection) {
    const client = connection.getClient();
    client.on('commandStarted', (event) => {
      const command = event.command as Record<string, unknown>;
      const collection = typeof command[event.commandName] === 'string' ? String(command[event.commandName]) : '';
      const filter =
        command.filter ??
        command.q ??
        (Array.isArray(command.updates) ? (command.updates[0] as { q?: unknown })?.q : undefined) ??
        (Array.isArray(command.deletes) ? (command.deletes[0] as { q?: unknown })?.q : undefined);
      this.started.set(event.requestId, { key: `${event.commandName} ${collection} ${shapeOf(filter)}`.trim(), at: performance.now() });
    });
    const finish = (event: { requestId: number; duration: number }) => {
      const started = this.started.get(event.requestId);
      if (!started) return;
      this.started.delete(event.requestId);
      const list = this.samples.get(started.key) ?? [];
      list.push(event.duration);
      this.samples.set(started.key, list);
    };
    client.on('commandSucceeded', finish);
    client.on('commandFailed', finish);
  }

  reset(): void {
    this.samples = new Map();
  }

  /** Total DB milliseconds recorded since the last reset (sum over commands; parallel commands overlap in wall time). */
  totalMs(): number {
    let total = 0;
    for (const list of this.samples.values()) for (const v of list) total += v;
    return total;
  }

  stats(): CommandStats[] {
    const round = (v: number) => Math.round(v * 100) / 100;
    return [...this.samples.entries()]
      .map(([command, list]) => {
        const sorted = [...list].sort((a, b) => a - b);
        const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
        const total = sorted.reduce((s, v) => s + v, 0);
        return {
          command,
          count: sorted.length,
          totalMs: round(total),
          meanMs: round(total / sorted.length),
          p50Ms: round(at(50)),
          p99Ms: round(at(99)),
          maxMs: round(sorted[sorted.length - 1]!),
        };
      })
      .sort((a, b) => b.totalMs - a.totalMs);
  }
}
