/**
 * Typed HTTP client for the Partner Center calls an upgrade needs (PARTNER-CENTER.md §1, §3.4).
 *
 * The client makes exactly one HTTP call per method and never retries: Temporal activities own
 * retries, and a retried `createTransition` must reuse the caller's stable MS-RequestId so Partner
 * Center returns the same transition instead of creating a second one. Throttling errors expose
 * `retryAfterMs` so the activity can honour Retry-After.
 */
import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import {
  LicenseShortageError,
  VendorAuthError,
  VendorBusinessRejectionError,
  VendorConflictError,
  type VendorErrorContext,
  type VendorErrorDetails,
  VendorNotFoundError,
  VendorResponseInvalidError,
  VendorThrottledError,
  VendorUnavailableError,
} from './errors';
import {
  graphErrorBodySchema,
  type LicensedUser,
  licensedUserListSchema,
  licensedUserSchema,
  partnerCenterErrorBodySchema,
  type ServiceProduct,
  servicesDefinitionSchema,
  type SubscribedSku,
  subscribedSkuListSchema,
  type Transition,
  type TransitionEligibility,
  transitionEligibilityListSchema,
  transitionListSchema,
  transitionSchema,
  type TransitionType,
  type VendorSubscription,
  vendorSubscriptionListSchema,
  vendorSubscriptionSchema,
} from './partner-center-schemas';
import type { TokenProvider } from './token-providers';

export type EligibilityType = 'immediate' | 'scheduled';

export interface CreateTransitionRequest {
  toCatalogItemId: string;
  quantity: number;
  transitionType: TransitionType;
  /** Set to upgrade into an existing subscription; omit for a new one. */
  toSubscriptionId?: string;
  termDuration?: string;
  billingCycle?: string;
  promotionId?: string;
}

export interface CallIds {
  /** Tracing id shared by all calls of one upgrade; a fresh one is generated when absent. */
  correlationId?: string;
}

export interface CreateTransitionIds extends CallIds {
  /** Stable MS-RequestId (derive it from the upgrade id): Partner Center's idempotency key. */
  requestId: string;
}

/** Graph assignLicense body: add and remove in one call is the normal swap for reassignment. */
export interface LicenseChange {
  addLicenses: { skuId: string; disabledPlans: string[] }[];
  removeLicenses: string[];
}

export interface PartnerCenterClient {
  getTransitionEligibilities(
    customerTenantId: string,
    subscriptionId: string,
    eligibilityType?: EligibilityType,
    ids?: CallIds,
  ): Promise<TransitionEligibility[]>;
  createTransition(customerTenantId: string, subscriptionId: string, request: CreateTransitionRequest, ids: CreateTransitionIds): Promise<Transition>;
  /** `operationId`: only the transition of that operation (as the POST answered it). */
  listTransitions(customerTenantId: string, subscriptionId: string, ids?: CallIds & { operationId?: string }): Promise<Transition[]>;
  getSubscription(customerTenantId: string, subscriptionId: string, ids?: CallIds): Promise<VendorSubscription>;
  listSubscriptions(customerTenantId: string, ids?: CallIds): Promise<VendorSubscription[]>;
  getServicesDefinition(ids?: CallIds): Promise<ServiceProduct[]>;
  listUsers(customerTenantId: string, ids?: CallIds): Promise<LicensedUser[]>;
  subscribedSkus(customerTenantId: string, ids?: CallIds): Promise<SubscribedSku[]>;
  assignLicense(customerTenantId: string, userId: string, change: LicenseChange, ids?: CallIds): Promise<LicensedUser>;
}

/** Structural subset of a pino logger, so tests and scripts can pass anything with these methods. */
export interface VendorLogger {
  debug(details: object, message: string): void;
  warn(details: object, message: string): void;
}

export interface PartnerCenterClientOptions {
  /** e.g. `https://api.partnercenter.microsoft.com` or the simulator's URL. */
  baseUrl: string;
  tokenProvider: TokenProvider;
  /**
   * Base URL for the Graph-style licence calls (`/v1.0/{tenant}/…`); defaults to `baseUrl`, which is
   * what the simulator serves. Real Graph needs a token for the customer's tenant (GDAP).
   */
  licensingBaseUrl?: string;
  licensingTokenProvider?: TokenProvider;
  fetch?: typeof fetch;
  logger?: VendorLogger;
  timeoutMs: number;
  locale?: string;
}

interface CallSpec<Output> {
  method: 'GET' | 'POST';
  baseUrl: string;
  path: string;
  tokenProvider: TokenProvider;
  responseSchema: z.ZodType<Output>;
  body?: unknown;
  requestId?: string;
  correlationId?: string;
  /** Names the call in errors and logs. */
  operation: string;
}

const LICENSE_SHORTAGE_PATTERN = /does not have any available licenses/i;
/** LicenseQuotaExceededException (PARTNER-CENTER.md §3.1); compared as text, the code may be a string. */
const PARTNER_CENTER_LICENSE_QUOTA_CODE = '60012';

export function createPartnerCenterClient(options: PartnerCenterClientOptions): PartnerCenterClient {
  const fetchImpl = options.fetch ?? fetch;
  const locale = options.locale ?? 'en-US';
  const partnerCenterBaseUrl = options.baseUrl.replace(/\/+$/, '');
  const licensingBaseUrl = (options.licensingBaseUrl ?? options.baseUrl).replace(/\/+$/, '');
  const licensingTokenProvider = options.licensingTokenProvider ?? options.tokenProvider;

  async function call<Output>(spec: CallSpec<Output>): Promise<Output> {
    const requestId = spec.requestId ?? randomUUID();
    const correlationId = spec.correlationId ?? randomUUID();
    const context: VendorErrorContext = { requestId, correlationId };
    const token = await spec.tokenProvider.getToken();
    const headers: Record<string, string> = {
      Authorization: `Bearer ${token}`,
      Accept: 'application/json',
      'MS-RequestId': requestId,
      'MS-CorrelationId': correlationId,
      'X-Locale': locale,
    };
    if (spec.body !== undefined) headers['Content-Type'] = 'application/json';

    const startedAt = Date.now();
    let response: Response;
    let text: string;
    try {
      response = await fetchImpl(`${spec.baseUrl}${spec.path}`, {
        method: spec.method,
        headers,
        body: spec.body === undefined ? undefined : JSON.stringify(spec.body),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      text = await response.text();
    } catch (cause) {
      // Duck-typed: the DOMException from AbortSignal.timeout may come from another realm.
      const timedOut = typeof cause === 'object' && cause !== null && 'name' in cause && cause.name === 'TimeoutError';
      options.logger?.warn({ operation: spec.operation, requestId, correlationId, err: cause }, 'vendor call failed');
      throw new VendorUnavailableError(`${spec.operation}: ${timedOut ? `no answer within ${options.timeoutMs} ms` : 'network error'}`, { ...context, cause });
    }
    options.logger?.debug(
      {
        operation: spec.operation,
        status: response.status,
        durationMs: Date.now() - startedAt,
        requestId,
        correlationId,
      },
      'vendor call',
    );

    if (!response.ok) {
      if (response.status === 401) spec.tokenProvider.invalidate?.();
      throw errorFromResponse(spec.operation, response, text, { ...context, status: response.status });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new VendorResponseInvalidError(`${spec.operation}: response is not JSON`, text.slice(0, 200), {
        ...context,
        status: response.status,
      });
    }
    const parsed = spec.responseSchema.safeParse(json);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
      throw new VendorResponseInvalidError(`${spec.operation}: unexpected response`, issues.join('; '), {
        ...context,
        status: response.status,
      });
    }
    return parsed.data;
  }

  const customerPath = (customerTenantId: string) => `/v1/customers/${encodeURIComponent(customerTenantId)}`;
  const subscriptionPath = (customerTenantId: string, subscriptionId: string) =>
    `${customerPath(customerTenantId)}/subscriptions/${encodeURIComponent(subscriptionId)}`;
  const partnerCenterCall = <Output>(spec: Omit<CallSpec<Output>, 'baseUrl' | 'tokenProvider'>) =>
    call({ ...spec, baseUrl: partnerCenterBaseUrl, tokenProvider: options.tokenProvider });
  const licensingCall = <Output>(customerTenantId: string, spec: Omit<CallSpec<Output>, 'baseUrl' | 'tokenProvider'>) =>
    call({
      ...spec,
      baseUrl: licensingBaseUrl,
      tokenProvider: licensingTokenProvider,
      path: `/v1.0/${encodeURIComponent(customerTenantId)}${spec.path}`,
    });

  return {
    getTransitionEligibilities(customerTenantId, subscriptionId, eligibilityType = 'immediate', ids = {}) {
      return partnerCenterCall({
        operation: 'getTransitionEligibilities',
        method: 'GET',
        path: `${subscriptionPath(customerTenantId, subscriptionId)}/transitionEligibilities?eligibilityType=${eligibilityType}`,
        responseSchema: transitionEligibilityListSchema,
        correlationId: ids.correlationId,
      });
    },
    async createTransition(customerTenantId, subscriptionId, request, ids) {
      if (ids.requestId.trim() === '') throw new TypeError('createTransition needs a stable requestId');
      return partnerCenterCall({
        operation: 'createTransition',
        method: 'POST',
        path: `${subscriptionPath(customerTenantId, subscriptionId)}/transitions`,
        responseSchema: transitionSchema,
        body: { ...request, fromSubscriptionId: subscriptionId },
        requestId: ids.requestId,
        correlationId: ids.correlationId,
      });
    },
    listTransitions(customerTenantId, subscriptionId, ids = {}) {
      return partnerCenterCall({
        operation: 'listTransitions',
        method: 'GET',
        path: `${subscriptionPath(customerTenantId, subscriptionId)}/transitions${ids.operationId ? `?operationId=${encodeURIComponent(ids.operationId)}` : ''}`,
        responseSchema: transitionListSchema,
        correlationId: ids.correlationId,
      });
    },
    getSubscription(customerTenantId, subscriptionId, ids = {}) {
      return partnerCenterCall({
        operation: 'getSubscription',
        method: 'GET',
        path: subscriptionPath(customerTenantId, subscriptionId),
        responseSchema: vendorSubscriptionSchema,
        correlationId: ids.correlationId,
      });
    },
    listSubscriptions(customerTenantId, ids = {}) {
      return partnerCenterCall({
        operation: 'listSubscriptions',
        method: 'GET',
        path: `${customerPath(customerTenantId)}/subscriptions`,
        responseSchema: vendorSubscriptionListSchema,
        correlationId: ids.correlationId,
      });
    },
    getServicesDefinition(ids = {}) {
      return partnerCenterCall({
        operation: 'getServicesDefinition',
        method: 'GET',
        path: '/v1/servicesDefinition',
        responseSchema: servicesDefinitionSchema,
        correlationId: ids.correlationId,
      });
    },
    listUsers(customerTenantId, ids = {}) {
      return licensingCall(customerTenantId, {
        operation: 'listUsers',
        method: 'GET',
        path: '/users',
        responseSchema: licensedUserListSchema,
        correlationId: ids.correlationId,
      });
    },
    subscribedSkus(customerTenantId, ids = {}) {
      return licensingCall(customerTenantId, {
        operation: 'subscribedSkus',
        method: 'GET',
        path: '/subscribedSkus',
        responseSchema: subscribedSkuListSchema,
        correlationId: ids.correlationId,
      });
    },
    assignLicense(customerTenantId, userId, change, ids = {}) {
      return licensingCall(customerTenantId, {
        operation: 'assignLicense',
        method: 'POST',
        path: `/users/${encodeURIComponent(userId)}/assignLicense`,
        responseSchema: licensedUserSchema,
        body: change,
        correlationId: ids.correlationId,
      });
    },
  };
}

/** Reads `{ code, description, data }` (Partner Center) or `{ error: { code, message } }` (Graph). */
function parseErrorDetails(text: string): VendorErrorDetails {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { code: undefined, description: text.slice(0, 1024) };
  }
  const graph = graphErrorBodySchema.safeParse(json);
  if (graph.success) return { code: graph.data.error.code, description: graph.data.error.message ?? '' };
  const partnerCenter = partnerCenterErrorBodySchema.safeParse(json);
  if (partnerCenter.success) {
    return {
      code: partnerCenter.data.code,
      description: partnerCenter.data.description ?? '',
      data: partnerCenter.data.data ?? undefined,
    };
  }
  return { code: undefined, description: text.slice(0, 1024) };
}

/** Retry-After is seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfterMs(header: string | null, now: number = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, Math.round(seconds * 1000));
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function errorFromResponse(operation: string, response: Response, text: string, context: VendorErrorContext) {
  const details = parseErrorDetails(text);
  const status = response.status;
  const summary = `${operation}: HTTP ${status}${details.description === '' ? '' : ` – ${details.description}`}`;
  const mentionsLicenseShortage =
    String(details.code) === PARTNER_CENTER_LICENSE_QUOTA_CODE ||
    LICENSE_SHORTAGE_PATTERN.test(details.description) ||
    (details.data ?? []).some((entry) => typeof entry === 'string' && LICENSE_SHORTAGE_PATTERN.test(entry));

  if (status === 429) {
    return new VendorThrottledError(summary, parseRetryAfterMs(response.headers.get('Retry-After')), context);
  }
  if (status === 401 || status === 403) return new VendorAuthError(summary, context);
  if (status === 404) return new VendorNotFoundError(summary, context);
  if (status === 409) return new VendorConflictError(details, context);
  if (status === 408 || status >= 500) return new VendorUnavailableError(summary, context);
  if (mentionsLicenseShortage) {
    const skuId = /SKU ([0-9a-f-]{36})/i.exec(details.description)?.[1];
    return new LicenseShortageError(summary, skuId, context);
  }
  return new VendorBusinessRejectionError(details, context);
}
