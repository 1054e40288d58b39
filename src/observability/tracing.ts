import { context, propagation, trace, SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, NoopSpanProcessor, SimpleSpanProcessor, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { RequestHandler } from 'express';

/**
 * OpenTelemetry traces from the HTTP request through the workflow and its activities to the Partner Center call
 * (README "Production", Traces). Configured by the standard OTEL_* variables (OTEL_EXPORTER_OTLP_ENDPOINT or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, …); off when no endpoint is set
 * and no exporter is given. Tests pass an in-memory exporter.
 */
export interface Tracing {
  readonly enabled: boolean;
  /** The workflow sandbox exports its spans through a sink to this processor (src/worker-factory.ts). */
  readonly spanProcessor: SpanProcessor;
  readonly resource: Resource;
  shutdown(): Promise<void>;
}

export const TRACER_NAME = 'nce-upgrade-orchestrator';

export function tracingWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  return (
    Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) &&
    env.OTEL_TRACES_EXPORTER !== 'none' &&
    env.OTEL_SDK_DISABLED !== 'true'
  );
}

const disabled = (resource: Resource): Tracing => ({ enabled: false, spanProcessor: new NoopSpanProcessor(), resource, async shutdown() {} });

/**
 * Registers the process-wide tracer provider (W3C trace context, async-hooks context manager) when tracing is wanted.
 * `exporter` given: spans go there as they end (tests); otherwise the OTLP/HTTP exporter, batched.
 */
export function startTracing(options: { serviceName: string; exporter?: SpanExporter; env?: NodeJS.ProcessEnv }): Tracing {
  const env = options.env ?? process.env;
  const resource = Resource.default().merge(new Resource({ 'service.name': env.OTEL_SERVICE_NAME ?? options.serviceName }));
  if (!options.exporter && !tracingWanted(env)) return disabled(resource);
  const spanProcessor = options.exporter ? new SimpleSpanProcessor(options.exporter) : new BatchSpanProcessor(new OTLPTraceExporter());
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  provider.register({ propagator: new W3CTraceContextPropagator() });
  return {
    enabled: true,
    spanProcessor,
    resource,
    async shutdown() {
      await provider.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
}

export function tracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}

/**
 * One server span per HTTP request, parent of everything the request does (starting a workflow carries it into
 * Temporal through the client interceptor). Named by route pattern once the router matched, so ids stay out of names.
 */
export function httpServerSpans(): RequestHandler {
  return (request, response, next) => {
    const parent = propagation.extract(context.active(), request.headers);
    const span = tracer().startSpan(
      `HTTP ${request.method}`,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': request.method, 'url.path': request.path } },
      parent,
    );
    response.once('finish', () => {
      const route = (request.route as { path?: string } | undefined)?.path;
      if (route) span.updateName(`HTTP ${request.method} ${request.baseUrl}${route}`);
      span.setAttribute('http.response.status_code', response.statusCode);
      if (route) span.setAttribute('http.route', `${request.baseUrl}${route}`);
      if (response.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    context.with(trace.setSpan(parent, span), next);
  };
}
