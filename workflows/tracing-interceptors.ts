import {
  OpenTelemetryInboundInterceptor,
  OpenTelemetryInternalsInterceptor,
  OpenTelemetryOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/workflow';
import type { WorkflowInterceptors } from '@temporalio/workflow';

/**
 * Workflow-side OpenTelemetry: continues the trace the API's client started, wraps the run in a span, and passes the
 * context on to every activity it schedules. Spans leave the sandbox through the `exporter` sink the worker registers
 * (src/worker-factory.ts). No commands are added: recorded histories replay with or without these interceptors.
 */
export const interceptors = (): WorkflowInterceptors => ({
  inbound: [new OpenTelemetryInboundInterceptor()],
  outbound: [new OpenTelemetryOutboundInterceptor()],
  internals: [new OpenTelemetryInternalsInterceptor()],
});
