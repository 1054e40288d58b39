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

/** Liveness/readiness and Prometheus. Public: they reveal nothing but up/down. */
export function systemRoutes(deps: ResolvedDeps, metrics: ApiMetrics): AnyRoute[] {
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
    return { status: ok ? 200 : 503, body: { status: ok ? ('ok' as const) : ('degraded' as const), checks: { temporal, database } } };
  };
  return [
    defineRoute({
      method: 'get',
      path: '/health',
      operationId: 'health',
      tag: 'Operations',
      summary: 'Temporal and database connectivity (503 when one is down)',
      access: 'public',
      query: emptyQuerySchema,
      responses: { 200: { description: 'Both up', schema: healthSchema }, 503: { description: 'One is down', schema: healthSchema } },
      handler: checkDependencies,
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
      access: 'public',
      query: emptyQuerySchema,
      responses: { 200: { description: 'Both up', schema: healthSchema }, 503: { description: 'One is down', schema: healthSchema } },
      handler: checkDependencies,
    }),
    defineRoute({
      method: 'get',
      path: '/metrics',
      operationId: 'metrics',
      tag: 'Operations',
      summary: 'Prometheus metrics (text exposition format)',
      access: 'public',
      responses: { 200: { description: 'Metrics' } },
      async handler() {
        return { status: 200, text: await metrics.registry.metrics(), contentType: metrics.registry.contentType };
      },
    }),
  ];
}
