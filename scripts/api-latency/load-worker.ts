/**
 * The load generator, run in a worker thread so that its own work (building requests, parsing responses) happens on
 * another event loop than the API's, which runs in the main thread of the same process.
 *
 * Fixed concurrency (closed loop): `concurrency` loops, each sends its next request when the previous one finished,
 * over keep-alive loopback connections (one socket per loop). Or a fixed arrival rate (open loop, `ratePerSecond`):
 * each request is sent when it is due, on as many keep-alive sockets as are in flight, and timed from when it was due.
 * Bounded by the request list and by `maxDurationMs`.
 */
import { Agent, request as httpRequest } from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';
import type { LoadJob, LoadResult, PlannedRequest } from './load';

function send(agent: Agent, base: URL, planned: PlannedRequest): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const payload = planned.body === undefined ? undefined : Buffer.from(JSON.stringify(planned.body));
    const req = httpRequest(
      {
        agent,
        host: base.hostname,
        port: base.port,
        method: planned.method,
        path: planned.path,
        headers: {
          ...planned.headers,
          ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function run(job: LoadJob): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: job.ratePerSecond ? Infinity : job.concurrency });
  const base = new URL(job.baseUrl);
  const latenciesMs: number[] = new Array(job.requests.length);
  const statusByIndex: number[] = new Array(job.requests.length);
  const statuses: Record<string, number> = {};
  const unexpected: Array<{ status: number; body: string }> = [];
  let next = 0;
  let sent = 0;
  const started = performance.now();
  const deadline = started + job.maxDurationMs;

  /** Sends request `index` and records its latency from `dueAt`. */
  const exchange = async (index: number, dueAt: number) => {
    let status: number;
    let body = '';
    try {
      ({ status, body } = await send(agent, base, job.requests[index]!));
    } catch (error) {
      status = 0;
      body = (error as Error).message;
    }
    latenciesMs[index] = performance.now() - dueAt;
    statusByIndex[index] = status;
    sent++;
    statuses[status] = (statuses[status] ?? 0) + 1;
    if (!job.expectStatus.includes(status) && unexpected.length < 5) unexpected.push({ status, body: body.slice(0, 500) });
  };

  if (job.ratePerSecond) {
    const inFlight: Array<Promise<void>> = [];
    const intervalMs = 1000 / job.ratePerSecond;
    while (next < job.requests.length) {
      const dueAt = started + next * intervalMs;
      if (dueAt >= deadline) break;
      const wait = dueAt - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      inFlight.push(exchange(next++, dueAt));
    }
    await Promise.all(inFlight);
  } else {
    const loop = async () => {
      while (next < job.requests.length && performance.now() < deadline) await exchange(next++, performance.now());
    };
    await Promise.all(Array.from({ length: job.concurrency }, loop));
  }
  const durationMs = performance.now() - started;
  agent.destroy();
  return {
    latenciesMs: latenciesMs.slice(0, next).filter((v) => v !== undefined),
    statusByIndex: statusByIndex.slice(0, next),
    sent,
    durationMs,
    statuses,
    unexpected,
    timedOut: next < job.requests.length,
  };
}

run(workerData as LoadJob).then(
  (result) => parentPort!.postMessage({ ok: true, result }),
  (error: unknown) => parentPort!.postMessage({ ok: false, error: String(error) }),
);
