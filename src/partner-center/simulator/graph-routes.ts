/**
 * Microsoft Graph, as the simulator serves it, under the `/graph` prefix (point GRAPH_BASE_URL at `<simulator>/graph`).
 * The customer's tenant comes from the token's `tid` claim, as at Graph. Every path is one Microsoft documents:
 *
 *   GET  /graph/v1.0/subscribedSkus                 https://learn.microsoft.com/en-us/graph/api/subscribedsku-list
 *   GET  /graph/v1.0/users?$filter=assignedLicenses/any(x:x/skuId eq {guid})&$select=&$top=   (paged, @odata.nextLink)
 *                                                   https://learn.microsoft.com/en-us/graph/api/user-list ,
 *                                                   https://learn.microsoft.com/en-us/graph/paging
 *   POST /graph/v1.0/users/{id}/assignLicense       https://learn.microsoft.com/en-us/graph/api/user-assignlicense
 *
 * Faults: the shared ones (latency, 429 budget per tenant, 5xx, malformed bodies, licence shortage) and
 * `graphConsentMissing` (403 Authorization_RequestDenied, https://learn.microsoft.com/en-us/graph/errors).
 */
import { type Request, Router } from 'express';
import { faultedRoute, param, type RouteStyle } from './faulted-route';
import { graphError } from './http-errors';
import { assignLicense, parseSkuFilter, subscribedSkus, userToGraph } from './licensing';
import type { SimulatorContext } from './simulator-context';

export const GRAPH_PREFIX = '/graph';

/** The `tid` claim of a bearer JWT, signature unchecked: the simulator trusts whoever calls it. */
function tenantOfToken(token: string): string | undefined {
  try {
    const claims: unknown = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
    return typeof claims === 'object' && claims !== null && 'tid' in claims && typeof claims.tid === 'string' ? claims.tid : undefined;
  } catch {
    return undefined;
  }
}
const DEFAULT_PAGE_SIZE = 100;
const MAX_PAGE_SIZE = 999;

export function graphRoutes(context: SimulatorContext): Router {
  const router = Router();
  const graph: RouteStyle = {
    style: 'graph',
    tenantOf: (_request, token) => tenantOfToken(token) ?? '',
    throttleKey: (customerTenantId) => `graph|${customerTenantId ?? '*'}`,
    refuse: (faults) =>
      faults.graphConsentMissing ? graphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.') : undefined,
  };
  const tenantOf = (request: Request) => {
    const token = /^Bearer\s+(\S+)$/i.exec(request.get('Authorization') ?? '')?.[1] ?? '';
    const customerTenantId = tenantOfToken(token) ?? '';
    if (context.state.tenant(customerTenantId) === undefined) throw graphError(401, 'InvalidAuthenticationToken', `Tenant ${customerTenantId} is unknown.`);
    return customerTenantId;
  };
  const queryString = (request: Request, name: string) => {
    const value: unknown = request.query[name];
    return typeof value === 'string' ? value : undefined;
  };

  router.get(
    `${GRAPH_PREFIX}/v1.0/subscribedSkus`,
    faultedRoute(context, graph, (request) => ({
      body: { '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#subscribedSkus', value: subscribedSkus(context.state, tenantOf(request)) },
    })),
  );

  router.get(
    `${GRAPH_PREFIX}/v1.0/users`,
    faultedRoute(context, graph, (request) => {
      const customerTenantId = tenantOf(request);
      const filter = queryString(request, '$filter');
      const skuId = filter === undefined ? undefined : parseSkuFilter(filter);
      if (filter !== undefined && skuId === undefined)
        throw graphError(400, 'Request_UnsupportedQuery', `Unsupported or invalid query filter clause: ${filter}`);
      const top = Number(queryString(request, '$top') ?? DEFAULT_PAGE_SIZE);
      if (!Number.isInteger(top) || top < 1 || top > MAX_PAGE_SIZE) throw graphError(400, 'Request_BadRequest', `Invalid page size ${String(top)}.`);
      // A key cursor (the last id served), like Graph's opaque skip token: users changed between pages shift nothing.
      const after = queryString(request, '$skiptoken');
      const holders = context.state
        .usersOf(customerTenantId)
        .filter((user) => skuId === undefined || user.assignedLicenses.some((license) => license.skuId.toLowerCase() === skuId.toLowerCase()))
        .sort((left, right) => left.id.localeCompare(right.id))
        .filter((user) => after === undefined || user.id.localeCompare(after) > 0);
      const page = holders.slice(0, top);
      let nextLink: string | undefined;
      const last = page.at(-1);
      if (holders.length > top && last !== undefined) {
        const next = new URL(request.originalUrl, `${request.protocol}://${request.get('host') ?? 'localhost'}`);
        next.searchParams.set('$skiptoken', last.id);
        nextLink = next.toString();
      }
      return {
        body: {
          '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#users',
          value: page.map(userToGraph),
          ...(nextLink === undefined ? {} : { '@odata.nextLink': nextLink }),
        },
      };
    }),
  );

  router.post(
    `${GRAPH_PREFIX}/v1.0/users/:userId/assignLicense`,
    faultedRoute(context, graph, (request, faults) => ({
      body: userToGraph(assignLicense(context.state, faults, tenantOf(request), param(request, 'userId'), request.body)),
    })),
  );

  return router;
}
