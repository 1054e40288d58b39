import type { RequestHandler } from 'express';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Prometheus metrics, one registry per app (no global default registry, so tests can build several apps).
 * Routes are labelled by their pattern (`/v1/upgrades/:id`), never by the raw URL, to keep cardinality bounded.
 */
export interface ApiMetrics {
  registry: Registry;
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  upgradesStarted: Counter<'kind' | 'destination_type'>;
  middleware: RequestHandler;
}

export function createMetrics(): ApiMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'nce_api_' });
  const httpRequests = new Counter({
    name: 'nce_api_http_requests_total',
    help: 'HTTP requests by route pattern, method and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'nce_api_http_request_duration_seconds',
    help: 'HTTP request duration by route pattern, method and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const upgradesStarted = new Counter({
    name: 'nce_api_upgrades_started_total',
    help: 'Upgrade workflows started (including operator re-runs), by kind and destination type',
    labelNames: ['kind', 'destination_type'] as const,
    registers: [registry],
  });
  const middleware: RequestHandler = (req, res, next) => {
    const end = httpDuration.startTimer();
    res.on('finish', () => {
      const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
      const labels = { method: req.method, route, status: String(res.statusCode) };
      httpRequests.inc(labels);
      end(labels);
    });
    next();
  };
  return { registry, httpRequests, httpDuration, upgradesStarted, middleware };
}
