/**
 * One wrapper for every Microsoft route the simulator serves (Partner Center and Graph): it applies the faults in the
 * order a real client meets them — latency, authentication, the 429 budget, 5xx, refused access — then settles due
 * transitions so reads see them, runs the handler and, when asked to, breaks the body.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Request, Response } from 'express';
import type { FaultSettings } from './faults';
import { graphError, ORDER_ERROR, partnerCenterError, SimulatedHttpError } from './http-errors';
import type { SimulatorContext } from './simulator-context';

export type ErrorStyle = 'partnerCenter' | 'graph';
export interface RouteResult {
  status?: number;
  body: unknown;
  /** A CSV answer (the price sheet) instead of JSON. */
  contentType?: string;
  /** Sent as is instead of `body`, as JSON (a 2xx that does not parse). */
  rawBody?: string;
  /** Held this long after the work is done, before answering. */
  answerDelayMs?: number;
}
export type RouteHandler = (request: Request, faults: FaultSettings) => RouteResult;

/** A body that breaks every response contract the clients validate. */
const MALFORMED_BODY = { items: 'not-a-list', value: 42, quantity: 'many', events: 'none' };

export function injectedError(style: ErrorStyle, status: number, code: number | string, message: string, headers: Record<string, string> = {}) {
  const error = style === 'graph' ? graphError(status, String(code), message) : partnerCenterError(status, code, message);
  return new SimulatedHttpError(error.status, error.body, headers);
}

export interface RouteStyle {
  style: ErrorStyle;
  /** The customer tenant a request is about (faults and throttling are per tenant), once its token is accepted. */
  tenantOf(request: Request, token: string): string | undefined;
  throttleKey(customerTenantId: string | undefined): string;
  /** The partner a request counts against for per-partner limits (Partner Center only). */
  partnerOf?(customerTenantId: string | undefined): string;
  /** Faults only this style has (e.g. Graph's missing consent), checked after the shared ones. */
  refuse?(faults: FaultSettings, request: Request): SimulatedHttpError | undefined;
}

export function faultedRoute(context: SimulatorContext, routeStyle: RouteStyle, handler: RouteHandler) {
  const { style } = routeStyle;
  return async (request: Request, response: Response) => {
    const token = /^Bearer\s+(\S+)$/i.exec(request.get('Authorization') ?? '')?.[1];
    const customerTenantId = token === undefined ? undefined : routeStyle.tenantOf(request, token);
    const faults = context.faults.resolve(customerTenantId);
    if (style === 'graph') context.state.counters.graphRequests += 1;
    else context.state.counters.vendorRequests += 1;
    const requestIdHeader = style === 'graph' ? 'client-request-id' : 'MS-RequestId';
    response.setHeader(requestIdHeader, request.get(requestIdHeader) ?? randomUUID());
    if (style === 'partnerCenter') response.setHeader('MS-CorrelationId', request.get('MS-CorrelationId') ?? randomUUID());
    if (faults.latencyMs > 0) await sleep(faults.latencyMs);

    if (token === undefined || (context.acceptedTokens !== undefined && !context.acceptedTokens.includes(token)) || customerTenantId === '') {
      throw injectedError(style, 401, style === 'graph' ? 'InvalidAuthenticationToken' : 'Unauthorized', 'The access token is missing or invalid.');
    }
    if (faults.throttle !== null) {
      const retryAfterSeconds = context.throttle.take(routeStyle.throttleKey(customerTenantId), faults.throttle, context.now());
      if (retryAfterSeconds !== undefined) {
        context.state.counters.throttledResponses += 1;
        throw injectedError(style, 429, 'TooManyRequests', 'Rate limit is exceeded. Try again later.', { 'Retry-After': String(retryAfterSeconds) });
      }
    }
    if (faults.partnerWriteThrottle !== null && routeStyle.partnerOf && request.method === 'POST') {
      const retryAfterSeconds = context.throttle.take(`partner-writes|${routeStyle.partnerOf(customerTenantId)}`, faults.partnerWriteThrottle, context.now());
      if (retryAfterSeconds !== undefined) {
        context.state.counters.throttledResponses += 1;
        throw injectedError(style, 429, 'TooManyRequests', 'Rate limit is exceeded. Try again later.', { 'Retry-After': String(retryAfterSeconds) });
      }
    }
    if (faults.errorRate5xx > 0 && context.random() < faults.errorRate5xx) {
      context.state.counters.injected5xxResponses += 1;
      throw injectedError(
        style,
        503,
        style === 'graph' ? 'serviceNotAvailable' : ORDER_ERROR.serviceException,
        'The service is temporarily unavailable (simulated).',
      );
    }
    const refusal = routeStyle.refuse?.(faults, request);
    if (refusal !== undefined) throw refusal;

    context.engine.settleDue();
    const result = handler(request, faults);
    if (result.answerDelayMs !== undefined && result.answerDelayMs > 0) await sleep(result.answerDelayMs);
    if (result.rawBody !== undefined) {
      response
        .status(result.status ?? 200)
        .type('application/json')
        .send(result.rawBody);
      return;
    }
    const malformed = faults.malformedResponseRate > 0 && context.random() < faults.malformedResponseRate;
    response.status(result.status ?? 200);
    if (malformed) {
      response.json(MALFORMED_BODY);
    } else if (result.contentType !== undefined) {
      response.type(result.contentType).send(result.body);
    } else {
      response.json(result.body);
    }
  };
}

/** Optional route parameter as a string. */
export function optionalParam(request: Request, name: string): string | undefined {
  const value: unknown = request.params[name];
  return typeof value === 'string' ? value : undefined;
}

export function param(request: Request, name: string): string {
  const value = optionalParam(request, name);
  if (value === undefined) throw new Error(`route parameter ${name} missing`);
  return value;
}
