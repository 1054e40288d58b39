/**
 * The Partner Center and Graph-style routes the client talks to. Every route goes through
 * `vendorRoute`, which applies the faults (latency, auth, 429 budget, 5xx, 403, malformed bodies)
 * in the order a real client would meet them, then settles due transitions so reads see them.
 *
 * Paths (matched case-insensitively, so `/transitioneligibilities` works too):
 *   GET  /v1/customers/:customer/subscriptions[/:subscription]
 *   GET  /v1/customers/:customer/subscriptions/:subscription/transitionEligibilities?eligibilityType=
 *   POST|GET /v1/customers/:customer/subscriptions/:subscription/transitions
 *   GET  /v1/servicesDefinition                      (catalog with upgrade targets; our choice of path)
 *   GET  /v1.0/:customer/users, /v1.0/:customer/subscribedSkus
 *   POST /v1.0/:customer/users/:user/assignLicense   (Graph puts the tenant in the token; the
 *                                                     simulator namespaces it in the path instead)
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Request, type Response, Router } from 'express';
import { transitionEligibilities } from './eligibility';
import type { FaultSettings } from './faults';
import { graphError, ORDER_ERROR, partnerCenterError, SimulatedHttpError } from './http-errors';
import { assignLicense, subscribedSkus } from './licensing';
import type { SimulatorContext } from './simulator-context';
import { idKey } from './state';
import { collection, productToWire, subscriptionToWire, transitionListToWire, transitionToWire, userToWire } from './wire';

type ErrorStyle = 'partnerCenter' | 'graph';
interface RouteResult {
  status?: number;
  body: unknown;
  /** Sent as is instead of `body` (a 2xx that is not JSON). */
  rawBody?: string;
  /** Held this long after the work is done, before answering. */
  answerDelayMs?: number;
}
type RouteHandler = (request: Request, faults: FaultSettings) => RouteResult;

/** A body that breaks every response contract the client validates. */
const MALFORMED_BODY = { items: 'not-a-list', value: 42, quantity: 'many', events: 'none' };

function injectedError(style: ErrorStyle, status: number, code: number | string, message: string, headers: Record<string, string> = {}) {
  const error = style === 'graph' ? graphError(status, String(code), message) : partnerCenterError(status, code, message);
  return new SimulatedHttpError(error.status, error.body, headers);
}

function optionalParam(request: Request, name: string): string | undefined {
  const value: unknown = request.params[name];
  return typeof value === 'string' ? value : undefined;
}

function param(request: Request, name: string): string {
  const value = optionalParam(request, name);
  if (value === undefined) throw new Error(`route parameter ${name} missing`);
  return value;
}

export function vendorRoutes(context: SimulatorContext): Router {
  const router = Router();

  const vendorRoute = (style: ErrorStyle, handler: RouteHandler) => async (request: Request, response: Response) => {
    const customerTenantId = optionalParam(request, 'customerTenantId');
    const faults = context.faults.resolve(customerTenantId);
    context.state.counters.vendorRequests += 1;
    response.setHeader('MS-RequestId', request.get('MS-RequestId') ?? randomUUID());
    response.setHeader('MS-CorrelationId', request.get('MS-CorrelationId') ?? randomUUID());
    if (faults.latencyMs > 0) await sleep(faults.latencyMs);

    const token = /^Bearer\s+(\S+)$/i.exec(request.get('Authorization') ?? '')?.[1];
    if (token === undefined || (context.acceptedTokens !== undefined && !context.acceptedTokens.includes(token))) {
      throw injectedError(style, 401, 'Unauthorized', 'The access token is missing or invalid.');
    }
    if (faults.throttle !== null) {
      const partnerId = customerTenantId === undefined ? 'unknown-partner' : (context.state.tenant(customerTenantId)?.partnerId ?? 'unknown-partner');
      const retryAfterSeconds = context.throttle.take(`${partnerId}|${customerTenantId ?? '*'}`, faults.throttle, context.now());
      if (retryAfterSeconds !== undefined) {
        context.state.counters.throttledResponses += 1;
        throw injectedError(style, 429, 'TooManyRequests', 'Rate limit is exceeded. Try again later.', {
          'Retry-After': String(retryAfterSeconds),
        });
      }
    }
    if (faults.errorRate5xx > 0 && context.random() < faults.errorRate5xx) {
      context.state.counters.injected5xxResponses += 1;
      throw injectedError(style, 503, ORDER_ERROR.serviceException, 'The service is temporarily unavailable (simulated).');
    }
    if (faults.forbidden) throw injectedError(style, 403, 'Forbidden', 'The caller lacks the required role (simulated).');

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
    response.status(result.status ?? 200).json(malformed ? MALFORMED_BODY : result.body);
  };

  const requireCustomer = (request: Request) => {
    const customerTenantId = param(request, 'customerTenantId');
    if (context.state.tenant(customerTenantId) === undefined) throw partnerCenterError(404, 'NotFound', `Customer ${customerTenantId} was not found.`);
    return customerTenantId;
  };
  const requireSubscription = (request: Request) => {
    const customerTenantId = requireCustomer(request);
    const subscriptionId = param(request, 'subscriptionId');
    const subscription = context.state.subscriptionOf(customerTenantId, subscriptionId);
    if (subscription === undefined) throw partnerCenterError(404, 'NotFound', `Subscription ${subscriptionId} was not found for this customer.`);
    return subscription;
  };
  const requireGraphTenant = (request: Request) => {
    const customerTenantId = param(request, 'customerTenantId');
    if (context.state.tenant(customerTenantId) === undefined) {
      throw graphError(404, 'Request_ResourceNotFound', `Tenant ${customerTenantId} was not found.`);
    }
    return customerTenantId;
  };

  const subscriptionPath = '/v1/customers/:customerTenantId/subscriptions/:subscriptionId';

  /** The fault `transitionReadErrors`: the next reads of a tenant's transitions fail with the configured status. */
  const failTransitionReadIfInjected = (customerTenantId: string, faults: FaultSettings) => {
    const injected = faults.transitionReadErrors;
    const served = context.state.counters.transitionReadErrorsServed;
    const key = idKey(customerTenantId);
    if (injected === null || (served[key] ?? 0) >= injected.times) return;
    served[key] = (served[key] ?? 0) + 1;
    const code = injected.status === 404 ? 'NotFound' : injected.status === 401 ? 'Unauthorized' : 'Forbidden';
    throw partnerCenterError(injected.status, code, `Reading transitions failed (simulated ${injected.status}).`);
  };

  router.get(
    '/v1/customers/:customerTenantId/subscriptions',
    vendorRoute('partnerCenter', (request) => ({
      body: collection(context.state.subscriptionsOf(requireCustomer(request)).map((subscription) => subscriptionToWire(subscription, context.state))),
    })),
  );

  router.get(
    subscriptionPath,
    vendorRoute('partnerCenter', (request) => ({
      body: subscriptionToWire(requireSubscription(request), context.state),
    })),
  );

  router.get(
    `${subscriptionPath}/transitionEligibilities`,
    vendorRoute('partnerCenter', (request, faults) => {
      const source = requireSubscription(request);
      const requested = String(request.query.eligibilityType ?? 'immediate').toLowerCase(); // optional, default Immediate (§1.1)
      if (requested !== 'immediate' && requested !== 'scheduled') {
        throw partnerCenterError(400, ORDER_ERROR.invalidInput, `Unknown eligibilityType ${requested}.`);
      }
      return { body: transitionEligibilities(context.state, faults, source, requested, context.now()) };
    }),
  );

  router.post(
    `${subscriptionPath}/transitions`,
    vendorRoute('partnerCenter', (request, faults) => {
      const customerTenantId = requireCustomer(request);
      // Partner Center generates a request id when the caller sends none (so no idempotency then).
      const requestId = request.get('MS-RequestId') ?? randomUUID();
      const transition = context.engine.create(customerTenantId, param(request, 'subscriptionId'), requestId, request.body);
      const body = transitionToWire(transition, faults.responseDialect);
      // The transition is started either way; only its answer is lost (cut short, or later than the caller waits).
      return {
        body,
        ...(faults.brokenTransitionAnswer ? { rawBody: JSON.stringify(body).slice(0, 40) } : {}),
        answerDelayMs: faults.transitionAnswerDelayMs,
      };
    }),
  );

  router.get(
    `${subscriptionPath}/transitions`,
    vendorRoute('partnerCenter', (request, faults) => {
      const subscription = requireSubscription(request);
      failTransitionReadIfInjected(subscription.customerTenantId, faults);
      const operationId = typeof request.query.operationId === 'string' ? request.query.operationId : undefined;
      const transitions = context.engine
        .transitionsOf(subscription.customerTenantId, subscription.id)
        .filter((transition) => operationId === undefined || idKey(transition.operationId) === idKey(operationId));
      return { body: transitionListToWire(transitions, faults.responseDialect) };
    }),
  );

  router.get(
    '/v1/servicesDefinition',
    vendorRoute('partnerCenter', () => ({
      body: collection([...context.state.products.values()].map((product) => productToWire(product, context.state))),
    })),
  );

  router.get(
    '/v1.0/:customerTenantId/users',
    vendorRoute('graph', (request) => ({
      body: { value: context.state.usersOf(requireGraphTenant(request)).map(userToWire) },
    })),
  );

  router.get(
    '/v1.0/:customerTenantId/subscribedSkus',
    vendorRoute('graph', (request) => ({
      body: { value: subscribedSkus(context.state, requireGraphTenant(request)) },
    })),
  );

  router.post(
    '/v1.0/:customerTenantId/users/:userId/assignLicense',
    vendorRoute('graph', (request, faults) => {
      const customerTenantId = requireGraphTenant(request);
      return {
        body: userToWire(assignLicense(context.state, faults, customerTenantId, param(request, 'userId'), request.body)),
      };
    }),
  );

  return router;
}
