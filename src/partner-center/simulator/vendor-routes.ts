/**
 * The Partner Center routes the client talks to, each one Microsoft documents (matched case-insensitively, so
 * `/transitioneligibilities` works too). Every route goes through `faultedRoute` (faults in the order a real client
 * meets them).
 *
 *   GET  /v1/customers/{customer}/subscriptions[/{subscription}]
 *        https://learn.microsoft.com/en-us/partner-center/developer/get-all-of-a-customer-s-subscriptions ,
 *        https://learn.microsoft.com/en-us/partner-center/developer/get-a-subscription-by-id
 *   PATCH /v1/customers/{customer}/subscriptions/{subscription}   (If-Match: the ETag; auto-renew, scheduled changes)
 *        https://learn.microsoft.com/en-us/partner-center/developer/create-scheduled-changes ,
 *        https://learn.microsoft.com/en-us/partner-center/developer/update-a-subscription-by-id
 *   GET  …/subscriptions/{subscription}/transitionEligibilities?eligibilityType=immediate|scheduled
 *   POST …/subscriptions/{subscription}/transitions     GET …/transitions
 *        https://learn.microsoft.com/en-us/partner-center/developer/transition-a-new-commerce-subscription ,
 *        https://learn.microsoft.com/en-us/partner-center/developer/get-transitions
 *   GET  /v1/products?country=&targetView=              https://learn.microsoft.com/en-us/partner-center/developer/get-a-list-of-products
 *   GET  /v1/products/{product}/skus?country=           https://learn.microsoft.com/en-us/partner-center/developer/get-a-list-of-skus-for-a-product
 *   GET  /v1/products/{product}/skus/{sku}/availabilities?country=
 *        https://learn.microsoft.com/en-us/partner-center/developer/get-a-list-of-availabilities-for-a-sku
 *        (resource shapes: https://learn.microsoft.com/en-us/partner-center/developer/product-resources)
 *   GET  /v1.0/sales/pricesheets(Market='{cc}',PricesheetView='updatedlicensebased')/$value?timeline=current
 *        https://learn.microsoft.com/en-us/partner-center/developer/get-a-price-sheet (a CSV; api.partner.microsoft.com)
 *
 * Graph's licence routes are in graph-routes.ts, under their own prefix.
 */
import { randomUUID } from 'node:crypto';
import { type Request, Router } from 'express';
import { transitionEligibilities } from './eligibility';
import { faultedRoute, optionalParam, param, type RouteStyle } from './faulted-route';
import { ORDER_ERROR, partnerCenterError } from './http-errors';
import { availabilitiesOf, nceProducts, priceSheetCsv, skusOf } from './catalog';
import type { FaultSettings } from './faults';
import type { SimulatorContext } from './simulator-context';
import { patchSubscription } from './renewals';
import { idKey } from './state';
import { collection, subscriptionToWire, transitionListToWire, transitionToWire } from './wire';

export function vendorRoutes(context: SimulatorContext): Router {
  const router = Router();
  const partnerOf = (customerTenantId: string | undefined) =>
    customerTenantId === undefined ? 'unknown-partner' : (context.state.tenant(customerTenantId)?.partnerId ?? 'unknown-partner');
  const partnerCenter: RouteStyle = {
    style: 'partnerCenter',
    tenantOf: (request) => optionalParam(request, 'customerTenantId'),
    partnerOf,
    // Partner Center throttles per (partner, customer) for these APIs.
    throttleKey: (customerTenantId) => `${partnerOf(customerTenantId)}|${customerTenantId ?? '*'}`,
    refuse: (faults) => (faults.forbidden ? partnerCenterError(403, 'Forbidden', 'The caller lacks the required role (simulated).') : undefined),
  };
  const route = (handler: Parameters<typeof faultedRoute>[2]) => faultedRoute(context, partnerCenter, handler);

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
  const requireQuery = (request: Request, name: string) => {
    const value: unknown = request.query[name];
    if (typeof value !== 'string' || value.trim() === '') throw partnerCenterError(400, ORDER_ERROR.invalidInput, `The query parameter ${name} is required.`);
    return value.trim();
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
    route((request) => ({
      body: collection(context.state.subscriptionsOf(requireCustomer(request)).map((subscription) => subscriptionToWire(subscription, context.state))),
    })),
  );

  router.get(
    subscriptionPath,
    route((request) => ({ body: subscriptionToWire(requireSubscription(request), context.state) })),
  );

  router.patch(
    subscriptionPath,
    route((request) => {
      const subscription = requireSubscription(request);
      patchSubscription(context.state, subscription, request.get('If-Match'), request.body);
      return { body: subscriptionToWire(subscription, context.state) };
    }),
  );

  router.get(
    `${subscriptionPath}/transitionEligibilities`,
    route((request, faults) => {
      const source = requireSubscription(request);
      const requested = String(request.query.eligibilityType ?? 'immediate').toLowerCase(); // optional, default Immediate
      if (requested !== 'immediate' && requested !== 'scheduled') {
        throw partnerCenterError(400, ORDER_ERROR.invalidInput, `Unknown eligibilityType ${requested}.`);
      }
      return { body: transitionEligibilities(context.state, faults, source, requested, context.now()) };
    }),
  );

  router.post(
    `${subscriptionPath}/transitions`,
    route((request, faults) => {
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
    route((request, faults) => {
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
    '/v1/products',
    route((request) => {
      const country = requireQuery(request, 'country');
      const targetView = requireQuery(request, 'targetView');
      // NCE licence-based products are listed in the OnlineServices view with product type OnlineServicesNCE.
      return { body: collection(targetView.toLowerCase() === 'onlineservices' ? nceProducts(context.state, country) : []) };
    }),
  );

  router.get(
    '/v1/products/:productId/skus',
    route((request) => {
      const skus = skusOf(context.state, param(request, 'productId'), requireQuery(request, 'country'));
      if (skus.length === 0) throw partnerCenterError(404, 'NotFound', `Product ${param(request, 'productId')} was not found.`);
      return { body: collection(skus) };
    }),
  );

  router.get(
    '/v1/products/:productId/skus/:skuId/availabilities',
    route((request) => {
      const availabilities = availabilitiesOf(context.state, param(request, 'productId'), param(request, 'skuId'), requireQuery(request, 'country'));
      if (availabilities.length === 0) throw partnerCenterError(404, 'NotFound', `SKU ${param(request, 'skuId')} was not found.`);
      return { body: collection(availabilities) };
    }),
  );

  // The price sheet's OData-style path: matched as a pattern, its key values read from the path itself.
  router.get(
    /^\/v1\.0\/sales\/pricesheets\(Market=(?:'|%27)[A-Za-z]{2}(?:'|%27),PricesheetView=(?:'|%27)\w+(?:'|%27)\)\/\$value$/i,
    route((request) => {
      const match = /Market='([A-Za-z]{2})',PricesheetView='(\w+)'/i.exec(decodeURIComponent(request.path));
      const [, market = '', view = ''] = match ?? [];
      if (view.toLowerCase() !== 'updatedlicensebased')
        throw partnerCenterError(400, ORDER_ERROR.invalidInput, `The simulator serves only the updatedlicensebased view, not ${view}.`);
      const timeline = String(request.query.timeline ?? 'current').toLowerCase();
      if (timeline !== 'current') throw partnerCenterError(400, ORDER_ERROR.invalidInput, `The simulator serves only timeline=current, not ${timeline}.`);
      return { body: priceSheetCsv(context.state, market, context.now()), contentType: 'text/csv' };
    }),
  );

  return router;
}
