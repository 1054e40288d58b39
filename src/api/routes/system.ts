import type { Request } from 'express';
import { authenticate, hashApiKey } from '../auth';
import type { ResolvedDeps } from '../deps';
import type { ApiMetrics } from '../metrics';
import { defineRoute, type AnyRoute } from '../routing';
import { emptyQuerySchema } from '../schemas/common';
import { healthSchema, livenessSchema } from '../schemas/system';

const HEALTH_TIMEOUT_MS = 2_000;

async function timed(check: () => Promise<boolean>): Promise<{ ok: boolean; latencyMs: number; error?: string }> {
  const started = performance.now();
  try {
    const ok = await Promise.race([
      check(),
      new Promise<boolean>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${HEALTH_TIMEOUT_MS} ms`)), HEALTH_TIMEOUT_MS).unref()),
    ]);
    return { ok, latencyMs: Math.round(performance.now() - started), ...(ok ? {} : { error: 'ping failed' }) };
  } catch (error) {
    return { ok: false, latencyMs: Math.round(performance.now() - started), error: (error as Error).message.slice(0, 200) };
  }
}

/**
 * Liveness/readiness, health and Prometheus. The public answers reveal nothing but up/down; the checks' latencies and
 * driver errors (host names, ports) only to an operator key, and the metrics only to the operator key (or on
 * `METRICS_PORT`, served by the process).
 */
export function systemRoutes(deps: ResolvedDeps, metrics: ApiMetrics): AnyRoute[] {
  const operatorKeyHash = hashApiKey(deps.config.OPERATOR_API_KEY);
  /** Whether the request carries an operator key. A key that is presented and refused is a 401, counted per address like any other. */
  const fromOperator = async (req: Request) => {
    if (req.headers.authorization === undefined) return false;
    return (await authenticate(req, deps.models, operatorKeyHash)).role === 'operator';
  };
  const checkDependencies = async () => {
    const [temporal, database] = await Promise.all([
      timed(async () => {
        await deps.temporalClient.withDeadline(Date.now() + HEALTH_TIMEOUT_MS, () => deps.temporalClient.workflowService.getSystemInfo({}));
        return true;
      }),
      timed(async () => {
        const db = deps.models.accounts.db.db;
        if (!db) return false;
        await db.admin().ping();
        return true;
      }),
    ]);
    const ok = temporal.ok && database.ok;
    return { status: ok ? 200 : 503, summary: ok ? ('ok' as const) : ('degraded' as const), checks: { temporal, database } };
  };
  const answer = async (req: Request) => {
    const result = await checkDependencies();
    const details = (await fromOperator(req)) ? { checks: result.checks } : {};
    return { status: result.status, body: { status: result.summary, ...details } };
  };
  return [
    defineRoute({
      method: 'get',
      path: '/health',
      operationId: 'health',
      tag: 'Operations',
      summary: 'Temporal and database connectivity (503 when one is down)',
      description:
        'Public: `ok` or `degraded` only. With the operator key, also each check with its latency and error text (which can name internal hosts). A key that is presented and refused is 401.',
      access: 'public',
      query: emptyQuerySchema,
      responses: { 200: { description: 'Both up', schema: healthSchema }, 503: { description: 'One is down', schema: healthSchema } },
      errors: [401],
      handler: ({ req }) => answer(req),
    }),
    defineRoute({
      method: 'get',
      path: '/livez',
      operationId: 'liveness',
      tag: 'Operations',
      summary: 'The process answers (no dependency is checked: a database outage must not restart every API process)',
      access: 'public',
      query: emptyQuerySchema,
      responses: { 200: { description: 'Alive', schema: livenessSchema } },
      async handler() {
        return { status: 200, body: { status: 'ok' as const } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/readyz',
      operationId: 'readiness',
      tag: 'Operations',
      summary: 'Ready for traffic: Temporal and the database answer (503 when one does not)',
      description: 'For probes: `ok` or `degraded` only; the details are in `GET /health` with the operator key.',
      access: 'public',
      query: emptyQuerySchema,
      responses: { 200: { description: 'Both up', schema: healthSchema }, 503: { description: 'One is down', schema: healthSchema } },
      async handler() {
        const result = await checkDependencies();
        return { status: result.status, body: { status: result.summary } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/metrics',
      operationId: 'metrics',
      tag: 'Operations',
      summary: 'Prometheus metrics (text exposition format)',
      description:
        'Operator key only (route names, counts and timings are internal). A scraper without the key reads them on `METRICS_PORT` when the process sets it.',
      access: 'operator',
      responses: { 200: { description: 'Metrics' } },
      async handler() {
        return { status: 200, text: await metrics.registry.metrics(), contentType: metrics.registry.contentType };
      },
    }),
  ];
}
