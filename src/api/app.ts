import { randomUUID } from 'node:crypto';
import express, { type Express, type RequestHandler } from 'express';
import { ipKeyGenerator, MemoryStore, rateLimit, type Options } from 'express-rate-limit';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import { getAbsoluteFSPath } from 'swagger-ui-dist';
import { hashApiKey } from './auth';
import type { AppDeps, ResolvedDeps } from './deps';
import { createMicrosoftEligibilitySource } from '../partner-center/microsoft-eligibility';
import { reusedSubscriptionReader } from '../upgrades/microsoft-scheduled-change-warning';
import { ApiError, errorHandler, notFoundHandler } from './errors';
import { createMetrics } from './metrics';
import { buildOpenApiDocument, docsInitScript, docsPage } from './openapi';
import { callerOf, defineRoute, mountRoutes, type AnyRoute } from './routing';
import { adminRoutes } from './routes/admin';
import { billingRoutes } from './routes/billing';
import { campaignRoutes } from './routes/campaigns';
import { catalogRoutes } from './routes/catalog';
import { subscriptionRoutes } from './routes/subscriptions';
import { systemRoutes } from './routes/system';
import { upgradeRoutes } from './routes/upgrades';
import { webhookRoutes } from './routes/webhooks';
import { createCatalogSource } from '../db/catalog-source';
import { loadCatalog } from '../db/mappers';
import { systemClock } from '../clock';
import { httpServerSpans } from '../observability/tracing';

export type { AppDeps } from './deps';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const DOCS_ASSETS = '/docs/assets';

/** Routes whose body is Microsoft's CSV (read by the route itself), not JSON. */
const CSV_BODY_PATHS = new Set(['/v1/catalog/price-list']);

/** Only JSON bodies (and CSV where a route reads it): anything else with a body is 415 before a parser looks at it. */
const requireJsonBodies: RequestHandler = (req, _res, next) => {
  const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  if (hasBody && CSV_BODY_PATHS.has(req.path) && req.is('text/csv')) {
    next();
    return;
  }
  if (hasBody && !req.is(['application/json', 'application/*+json'])) {
    next(new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Request bodies must be JSON (Content-Type: application/json)'));
    return;
  }
  next();
};

/**
 * Per client IP, before authentication: every request, and separately the requests that presented a refused API key
 * (a 401 with an Authorization header). Over the second limit an address gets 429 without its key being looked up, so
 * guessing keys costs neither database lookups nor answers. Only refusals are counted, when they happen: a burst of
 * concurrent requests with a good key never trips it, and a missing header is a cheap 401 that counts only once.
 */
function clientIpLimiters(limits: { requestsPerMinute: number; authFailuresPer15Minutes: number }): RequestHandler[] {
  const requests = rateLimit({
    identifier: 'per-ip',
    windowMs: 60_000,
    limit: limits.requestsPerMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    validate: { xForwardedForHeader: false, trustProxy: false },
    handler: (_req, _res, next) => next(new ApiError(429, 'RATE_LIMITED', 'Too many requests from this address; slow down')),
  });
  const windowMs = 15 * 60_000;
  const refusals = new MemoryStore();
  refusals.init({ windowMs } as Options);
  const authFailures: RequestHandler = (req, res, next) => {
    const address = ipKeyGenerator(req.ip ?? 'unknown');
    void refusals.get(address).then((seen) => {
      if (seen && seen.totalHits >= limits.authFailuresPer15Minutes) {
        const retryAfterSeconds = Math.max(1, Math.ceil(((seen.resetTime?.getTime() ?? Date.now() + windowMs) - Date.now()) / 1000));
        res.setHeader('Retry-After', String(retryAfterSeconds));
        next(new ApiError(429, 'RATE_LIMITED', 'Too many requests with a bad API key from this address; wait before retrying'));
        return;
      }
      res.on('finish', () => {
        if (res.statusCode === 401 && req.headers.authorization !== undefined) void refusals.increment(address);
      });
      next();
    }, next);
  };
  return [requests, authFailures];
}

/**
 * The portal-facing HTTP API. Everything it uses comes in through `deps`, so a test can build it against its own
 * database and Temporal namespace and listen on an ephemeral port.
 */
export function createApp(input: AppDeps): Express {
  const deps: ResolvedDeps = {
    ...input,
    clock: input.clock ?? systemClock,
    queryTimeoutMs: input.queryTimeoutMs ?? 1_000,
    updateTimeoutMs: input.updateTimeoutMs ?? 10_000,
    catalog: createCatalogSource(() => loadCatalog(input.models), input.catalogMaxAgeMs ?? 0),
    ...(input.vendor
      ? {
          microsoftEligibility: createMicrosoftEligibilitySource(input.vendor, input.microsoftEligibilityMaxAgeMs ?? 60_000),
          vendorSubscriptionsForOptions: reusedSubscriptionReader(input.vendor, input.microsoftEligibilityMaxAgeMs ?? 60_000),
        }
      : {}),
  };
  const metrics = input.metrics ?? createMetrics();
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // Behind a load balancer the socket's address is the balancer's: trust exactly the configured hops, no more.
  app.set('trust proxy', deps.trustProxyHops ?? 0);

  app.use(
    pinoHttp({
      logger: deps.logger,
      genReqId: (req, res) => {
        const given = req.headers['x-request-id'];
        const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      customProps: (_req, res) => ({ apiKeyId: callerOf(res as express.Response)?.keyId }),
      // Never log credentials.
      redact: ['req.headers.authorization', 'req.headers.cookie'],
    }),
  );
  app.use(helmet());
  app.use(metrics.middleware);
  // Before anything reads a body or a key: a flood from one address is refused here, public routes included.
  app.use(...clientIpLimiters(deps.ipRateLimit ?? { requestsPerMinute: 1_200, authFailuresPer15Minutes: 20 }));
  app.use(requireJsonBodies);
  app.use(express.json({ limit: deps.bodyLimit ?? '100kb', type: ['application/json', 'application/*+json'], strict: true }));
  // After the body is read: a stream's callbacks run outside the request's async context, so a span started earlier
  // would not be the active parent of what the handler does. From here on, everything the request does is its child.
  app.use(httpServerSpans());

  const limits = deps.rateLimit ?? { windowMs: 60_000, limit: 6_000 };
  const rateLimiter = rateLimit({
    windowMs: limits.windowMs,
    limit: limits.limit,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    keyGenerator: (_req, res) => callerOf(res)?.keyId ?? 'anonymous',
    handler: (_req, _res, next) => next(new ApiError(429, 'RATE_LIMITED', 'Too many requests for this API key; slow down')),
    validate: { xForwardedForHeader: false, trustProxy: false },
  });

  let openApiDocument: Record<string, unknown> | undefined;
  const routes: AnyRoute[] = [
    ...catalogRoutes(deps),
    ...adminRoutes(deps),
    ...subscriptionRoutes(deps),
    ...upgradeRoutes(deps, metrics),
    ...campaignRoutes(deps, input.campaignWorkflowOptions),
    ...billingRoutes(deps),
    ...webhookRoutes(deps),
    ...systemRoutes(deps, metrics),
    defineRoute({
      method: 'get',
      path: '/openapi.json',
      operationId: 'openApiDocument',
      tag: 'Operations',
      summary: 'This OpenAPI 3.1 document (browsable at /docs)',
      access: 'public',
      responses: { 200: { description: 'OpenAPI document' } },
      handler: () => ({ status: 200, body: (openApiDocument ??= buildOpenApiDocument(routes, { version: process.env.npm_package_version ?? '0.1.0' })) }),
    }),
  ];
  const router = express.Router();
  mountRoutes(router, routes, { models: deps.models, operatorKeyHash: hashApiKey(deps.config.OPERATOR_API_KEY), rateLimiter });
  app.use(router);

  app.get('/docs', (_req, res) => {
    res.type('html').send(docsPage(DOCS_ASSETS));
  });
  app.get(`${DOCS_ASSETS}/docs-init.js`, (_req, res) => {
    res.type('application/javascript').send(docsInitScript('/openapi.json'));
  });
  app.use(DOCS_ASSETS, express.static(getAbsoluteFSPath(), { index: false, fallthrough: true }));

  app.use(notFoundHandler);
  app.use(errorHandler(deps.logger));
  return app;
}
