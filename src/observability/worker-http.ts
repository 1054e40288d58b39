import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/**
 * The worker's HTTP port (WORKER_HTTP_PORT): `/livez` (the process answers), `/readyz` (polling and its database
 * answer: 503 otherwise) and `/metrics` — the Temporal SDK's own series (its Prometheus exporter listens on a
 * loopback port of its own, `sdkMetricsUrl`) followed by ours, so Prometheus scrapes one target per worker.
 */
export interface WorkerHttpServer {
  url: string;
  close(): Promise<void>;
}

export interface WorkerHttpOptions {
  port: number;
  host?: string;
  registry: Registry;
  sdkMetricsUrl?: string;
  readiness: () => Promise<{ ready: boolean; checks: Record<string, boolean> }>;
}

export async function startWorkerHttpServer(options: WorkerHttpOptions): Promise<WorkerHttpServer> {
  const server: Server = createServer((request, response) => {
    const reply = (status: number, body: string, contentType = 'application/json') => {
      response.writeHead(status, { 'content-type': contentType });
      response.end(body);
    };
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET') return reply(405, JSON.stringify({ error: 'GET only' }));
    if (path === '/livez') return reply(200, JSON.stringify({ status: 'ok' }));
    if (path === '/readyz') {
      options.readiness().then(
        ({ ready, checks }) => reply(ready ? 200 : 503, JSON.stringify({ status: ready ? 'ok' : 'degraded', checks })),
        () => reply(503, JSON.stringify({ status: 'degraded' })),
      );
      return;
    }
    if (path === '/metrics') {
      Promise.all([sdkMetrics(options.sdkMetricsUrl), options.registry.metrics()]).then(
        ([sdk, ours]) => reply(200, `${sdk}${ours}`, options.registry.contentType),
        (error: unknown) => reply(500, `# metrics unavailable: ${String(error)}\n`, 'text/plain'),
      );
      return;
    }
    reply(404, JSON.stringify({ error: 'not found' }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function sdkMetrics(url: string | undefined): Promise<string> {
  if (!url) return '';
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    const text = await response.text();
    return text.endsWith('\n') || text === '' ? text : `${text}\n`;
  } catch (error) {
    // Our series still get out when the SDK's exporter does not answer; say so in the exposition.
    return `# temporal sdk metrics unavailable: ${(error as Error).message}\n`;
  }
}
