import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { Counter, Histogram, type Registry } from 'prom-client';
import { tracer } from './tracing';

/**
 * A `fetch` for an outside service (Partner Center, Microsoft Graph) that records each call as a client span (a
 * child of the activity's span) and in Prometheus: latency by service, operation and status, and 429s counted apart.
 * The clients take it as their `fetch` option, so the instrumentation needs no change to them.
 */
export interface OutboundCallMetrics {
  duration: Histogram<'service' | 'operation' | 'status'>;
  throttled: Counter<'service' | 'operation'>;
}

export function outboundCallMetrics(registry: Registry): OutboundCallMetrics {
  return {
    duration: new Histogram({
      name: 'nce_outbound_request_duration_seconds',
      help: 'Calls to Partner Center and Microsoft Graph, by service, operation (path with ids replaced) and HTTP status',
      labelNames: ['service', 'operation', 'status'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    throttled: new Counter({
      name: 'nce_outbound_throttled_total',
      help: 'Calls answered 429 Too Many Requests, by service and operation',
      labelNames: ['service', 'operation'],
      registers: [registry],
    }),
  };
}

/** A GUID, a number, a prefixed id (`sub_12`, `tenant-contoso`), or a long token with a digit in it. Path words never match. */
const ID_SEGMENT =
  /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9]+|[A-Za-z0-9]+[_:-][A-Za-z0-9_:-]+|(?=[A-Za-z]*[0-9])[A-Za-z0-9]{10,})$/;

/** `GET /v1/customers/2b7…/subscriptions/4f1…/transitions` → `GET /v1/customers/{id}/subscriptions/{id}/transitions`. */
export function operationOf(method: string, url: string): string {
  const path = new URL(url).pathname
    .split('/')
    .map((segment) => (ID_SEGMENT.test(decodeURIComponent(segment)) && !/^v\d+(\.\d+)?$/.test(segment) ? '{id}' : segment))
    .join('/');
  return `${method.toUpperCase()} ${path}`;
}

export function observedFetch(service: string, metrics?: OutboundCallMetrics, base: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const method = init?.method ?? (typeof input === 'object' && 'method' in input ? input.method : 'GET');
    const operation = operationOf(method, url);
    return tracer().startActiveSpan(
      `${service} ${operation}`,
      { kind: SpanKind.CLIENT, attributes: { 'peer.service': service, 'http.request.method': method } },
      async (span) => {
        const started = performance.now();
        try {
          const response = await base(input, init);
          span.setAttribute('http.response.status_code', response.status);
          if (response.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
          metrics?.duration.observe({ service, operation, status: String(response.status) }, (performance.now() - started) / 1000);
          if (response.status === 429) metrics?.throttled.inc({ service, operation });
          return response;
        } catch (error) {
          span.recordException(error as Error);
          span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
          metrics?.duration.observe({ service, operation, status: 'error' }, (performance.now() - started) / 1000);
          throw error;
        } finally {
          span.end();
        }
      },
    );
  };
}
