import type { Request, RequestHandler, Response, Router } from 'express';
import type { z } from 'zod';
import { authenticate, requireOperator, requireOperatorOrReseller, type Caller } from './auth';
import { validationError, type FieldError } from './errors';

/**
 * A route is declared once — method, path, who may call it, its zod schemas and documented responses — and both the
 * express handler and the OpenAPI operation are derived from that declaration.
 *
 * Order of checks on every request: per-address limits (429, in app.ts) → authenticate (401) → role (403) → rate limit (429) → validate every input part
 * together (400 naming each field) → handler.
 */
/** `partner`: operator and reseller keys (webhook deliveries and secrets are the partner's business), 403 for customer keys. */
export type Access = 'public' | 'authenticated' | 'partner' | 'operator';
type Method = 'get' | 'post' | 'put' | 'delete';

export interface RouteContext<P, Q, B, H> {
  req: Request;
  res: Response;
  params: P;
  query: Q;
  body: B;
  headers: H;
  caller: Caller;
}

export interface RouteResult {
  status: number;
  body?: unknown;
  /** A non-JSON body (metrics, HTML), sent with `contentType`. */
  text?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

export interface ResponseDoc {
  description: string;
  schema?: z.ZodType;
}

export interface RouteDefinition<P = unknown, Q = unknown, B = unknown, H = unknown> {
  method: Method;
  /** Express path, e.g. `/v1/subscriptions/:id`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  access: Access;
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  headers?: z.ZodType<H>;
  body?: z.ZodType<B>;
  /** The body may be absent (treated as `{}`). */
  bodyOptional?: boolean;
  /** Documented only: the handler validates the raw body itself (a domain function that names the fields). */
  documentedBody?: z.ZodType;
  responses: Record<number, ResponseDoc>;
  /** Error statuses this route can answer with, besides 400/401/403/429 which are added from `access`. */
  errors?: number[];
  handler(ctx: RouteContext<P, Q, B, H>): Promise<RouteResult> | RouteResult;
}

// Each route keeps its own generic parameters; the registry only needs the erased form.
export type AnyRoute = RouteDefinition<any, any, any, any>;

export function defineRoute<P = Record<string, never>, Q = Record<string, never>, B = undefined, H = Record<string, never>>(
  route: RouteDefinition<P, Q, B, H>,
): AnyRoute {
  return route as AnyRoute;
}

const MAX_DEPTH = 32;

/** Keys starting with `$` (MongoDB operators) anywhere in the body, and bodies nested absurdly deep. Iterative. */
export function forbiddenKeys(body: unknown): FieldError[] {
  const problems: FieldError[] = [];
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value: body, path: '', depth: 0 }];
  while (stack.length > 0 && problems.length < 50) {
    const { value, path, depth } = stack.pop()!;
    if (value === null || typeof value !== 'object') continue;
    if (depth > MAX_DEPTH) {
      problems.push({ path: path || '(body)', message: `nested deeper than ${MAX_DEPTH} levels` });
      continue;
    }
    if (Array.isArray(value)) {
      value.forEach((item, index) => stack.push({ value: item, path: path ? `${path}.${index}` : String(index), depth: depth + 1 }));
      continue;
    }
    for (const [key, child] of Object.entries(value)) {
      const childPath = path ? `${path}.${key}` : key;
      if (key.startsWith('$')) problems.push({ path: childPath, message: 'field names starting with "$" are not allowed' });
      else stack.push({ value: child, path: childPath, depth: depth + 1 });
    }
  }
  return problems;
}

function fieldErrors(error: z.ZodError, prefix: string): FieldError[] {
  const join = (parts: readonly PropertyKey[]) => [prefix, ...parts.map(String)].filter((p) => p !== '').join('.');
  return error.issues.flatMap((issue): FieldError[] => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: join([...issue.path, key]), message: 'unknown field' }));
    }
    if (issue.code === 'invalid_union' && 'discriminator' in issue && typeof issue.discriminator === 'string') {
      // zod 4 puts the discriminator at the end of the path already; older versions stopped at the union.
      const named = issue.path.at(-1) === issue.discriminator ? issue.path : [...issue.path, issue.discriminator];
      return [{ path: join(named), message: issue.message }];
    }
    const path = join(issue.path);
    return [{ path: path || prefix || '(body)', message: issue.message }];
  });
}

function parsePart<T>(schema: z.ZodType<T> | undefined, value: unknown, prefix: string, errors: FieldError[]): T {
  if (!schema) return {} as T;
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  errors.push(...fieldErrors(result.error, prefix));
  return undefined as T;
}

export interface MountOptions {
  models: Parameters<typeof authenticate>[1];
  operatorKeyHash: string;
  /** Rate limiter run after authentication, so it can count per API key. */
  rateLimiter: RequestHandler;
}

const callerKey = Symbol('caller');
export const callerOf = (res: Response): Caller | undefined => (res.locals as Record<symbol, Caller | undefined>)[callerKey];

export function mountRoutes(router: Router, routes: readonly AnyRoute[], options: MountOptions): void {
  for (const route of routes) {
    const chain: RequestHandler[] = [];
    if (route.access !== 'public') {
      chain.push(async (req, res) => {
        const caller = await authenticate(req, options.models, options.operatorKeyHash);
        if (route.access === 'operator') requireOperator(caller);
        if (route.access === 'partner') requireOperatorOrReseller(caller);
        (res.locals as Record<symbol, Caller>)[callerKey] = caller;
        return 'next';
      });
      chain.push(options.rateLimiter);
    }
    chain.push(async (req, res) => {
      const errors: FieldError[] = [];
      const params = parsePart(route.params, req.params, 'path', errors);
      const query = parsePart(route.query, { ...(req.query as Record<string, unknown>) }, 'query', errors);
      const headers = parsePart(route.headers, req.headers, 'headers', errors);
      let body: unknown = undefined;
      if (route.body) {
        const raw = req.body === undefined && route.bodyOptional ? {} : req.body;
        const forbidden = forbiddenKeys(raw);
        errors.push(...forbidden);
        // Name every problem at once: $-keys and the schema's own (an unknown field holding a $-key is both). Only a
        // body nested too deep is not handed to the schema parser.
        const tooDeep = forbidden.some((problem) => problem.message.startsWith('nested deeper'));
        if (raw === undefined) errors.push({ path: '(body)', message: 'a JSON object body is required' });
        else if (!tooDeep) {
          const schemaErrors: FieldError[] = [];
          body = parsePart(route.body, raw, '', schemaErrors);
          const reported = new Set(forbidden.map((problem) => problem.path));
          errors.push(...schemaErrors.filter((problem) => !reported.has(problem.path)));
        }
      }
      if (errors.length > 0) throw validationError(errors);
      const result = await route.handler({
        req,
        res,
        params,
        query,
        body,
        headers,
        caller: callerOf(res) ?? { keyId: 'anonymous', role: 'customer', accountIds: new Set(), mayActOnAccount: () => false },
      });
      for (const [name, value] of Object.entries(result.headers ?? {})) res.setHeader(name, value);
      if (result.text !== undefined)
        res
          .status(result.status)
          .type(result.contentType ?? 'text/plain')
          .send(result.text);
      else if (result.body === undefined) res.status(result.status).end();
      else res.status(result.status).json(result.body);
    });
    // Express 5 handlers: a returned 'next' string would be ignored, so wrap to call next() explicitly.
    const handlers: RequestHandler[] = chain.map((handler) => async (req, res, next) => {
      try {
        const outcome = await (handler as (req: Request, res: Response, next: (err?: unknown) => void) => unknown)(req, res, next);
        if (outcome === 'next') next();
      } catch (error) {
        next(error);
      }
    });
    // The rate limiter is real middleware (calls next itself): don't wrap it.
    if (route.access !== 'public') handlers[1] = options.rateLimiter;
    router[route.method](route.path, ...handlers);
  }
}
