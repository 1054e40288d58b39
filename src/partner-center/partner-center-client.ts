/**
 * Typed HTTP client for the Partner Center calls an upgrade and the catalog need.
 *
 * The client makes exactly one HTTP call per method and never retries: Temporal activities own
 * retries, and a retried `createTransition` must reuse the caller's stable MS-RequestId so Partner
 * Center returns the same transition instead of creating a second one. Throttling errors expose
 * `retryAfterMs` so the activity can honour Retry-After.
 *
 * Headers (https://learn.microsoft.com/en-us/partner-center/developer/headers): `MS-Contract-Version: v1`; a new
 * GUID `MS-CorrelationId` for every call (logged with the upgrade it belongs to); `MS-RequestId`, Microsoft's
 * idempotency key, stable across the retries of one operation (createTransition: derived from the upgrade), a new one
 * for any other call; `X-Locale`. Licences are not Partner Center's: see src/microsoft-graph.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import {
  LicenseShortageError,
  VendorAuthError,
  VendorBusinessRejectionError,
  VendorConflictError,
  type VendorErrorContext,
  type VendorErrorDetails,
  VendorNotFoundError,
  VendorPreconditionFailedError,
  VendorResponseInvalidError,
  VendorThrottledError,
  VendorUnavailableError,
} from './errors';
import {
  type CatalogAvailability,
  catalogAvailabilityListSchema,
  type CatalogProduct,
  catalogProductListSchema,
  type CatalogSku,
  catalogSkuListSchema,
  graphErrorBodySchema,
  partnerCenterErrorBodySchema,
  type ScheduledNextTermInstructions,
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
  /** The upgrade a call belongs to: logged with the call's MS-CorrelationId (a new GUID per call). */
  upgradeId?: string;
}

export interface CreateTransitionIds extends CallIds {
  /** Stable MS-RequestId (derive it from the upgrade id): Partner Center's idempotency key. */
  requestId: string;
}

/**
 * What a PATCH of the subscription sets for its renewal: auto-renew, and the scheduled change (null removes it).
 * https://learn.microsoft.com/en-us/partner-center/developer/create-scheduled-changes
 */
export interface SubscriptionRenewalSettings {
  autoRenewEnabled: boolean;
  scheduledNextTermInstructions: ScheduledNextTermInstructions | null;
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
  /**
   * `PATCH …/subscriptions/{id}` with the whole resource as read (`subscription`) and `If-Match: <its ETag>`, changing
   * its renewal settings (https://learn.microsoft.com/en-us/partner-center/developer/create-scheduled-changes ,
   * https://learn.microsoft.com/en-us/partner-center/developer/update-a-subscription-by-id). A resource changed since
   * it was read is 412 (VendorPreconditionFailedError): read it again.
   */
  updateRenewalSettings(
    customerTenantId: string,
    subscription: VendorSubscription,
    settings: SubscriptionRenewalSettings,
    ids?: CallIds,
  ): Promise<VendorSubscription>;
  listSubscriptions(customerTenantId: string, ids?: CallIds): Promise<VendorSubscription[]>;
  /** `GET /v1/products?country=&targetView=`: https://learn.microsoft.com/en-us/partner-center/developer/get-a-list-of-products */
  listProducts(country: string, targetView: string): Promise<CatalogProduct[]>;
  /** `GET /v1/products/{id}/skus?country=`: https://learn.microsoft.com/en-us/partner-center/developer/get-a-list-of-skus-for-a-product */
  listSkus(productId: string, country: string): Promise<CatalogSku[]>;
  /** `GET …/skus/{sku}/availabilities?country=`: https://learn.microsoft.com/en-us/partner-center/developer/get-a-list-of-availabilities-for-a-sku */
  listAvailabilities(productId: string, skuId: string, country: string): Promise<CatalogAvailability[]>;
  /**
   * The NCE licence-based price sheet of a market, as CSV text:
   * `GET https://api.partner.microsoft.com/v1.0/sales/pricesheets(Market='{cc}',PricesheetView='updatedlicensebased')/$value?timeline=current`
   * (https://learn.microsoft.com/en-us/partner-center/developer/get-a-price-sheet). Microsoft accepts only an
   * app + user token there, hence its own base URL and token provider.
   */
  getPriceSheet(market: string): Promise<string>;
}

/** Structural subset of a pino logger, so tests and scripts can pass anything with these methods. */
export interface VendorLogger {
  debug(details: object, message: string): void;
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
}

export interface PartnerCenterClientOptions {
  /** e.g. `https://api.partnercenter.microsoft.com` or the simulator's URL. */
  baseUrl: string;
  tokenProvider: TokenProvider;
  /** The pricing API's host (`https://api.partner.microsoft.com`); defaults to `baseUrl`, which the simulator serves. */
  priceSheetBaseUrl?: string;
  /** An app + user token provider for the price sheet; defaults to `tokenProvider`. */
  priceSheetTokenProvider?: TokenProvider;
  fetch?: typeof fetch;
  logger?: VendorLogger;
  timeoutMs: number;
  locale?: string;
  /**
   * Waits before asking again, under the same MS-RequestId, after a 5xx answer (default 500 ms then 1.5 s, each with
   * up to half again as jitter); `[]` never asks again. See docs/partner-center.md, "Errors".
   */
  serverErrorRetryDelaysMs?: readonly number[];
}

/** A 5xx answer: Partner Center said it could not serve the call now (not a lost answer, not a business verdict). */
const SERVER_ERROR_STATUSES = new Set([500, 502, 503, 504]);
const DEFAULT_SERVER_ERROR_RETRY_DELAYS_MS = [500, 1_500] as const;

interface CallSpec<Output> {
  method: 'GET' | 'POST' | 'PATCH';
  /** Sent as `If-Match` (the resource's ETag). */
  ifMatch?: string;
  baseUrl: string;
  path: string;
  tokenProvider: TokenProvider;
  responseSchema: z.ZodType<Output>;
  body?: unknown;
  requestId?: string;
  upgradeId?: string;
  /** Names the call in errors and logs. */
  operation: string;
  /** The body is CSV text, returned as is (the price sheet). */
  text?: boolean;
}

const LICENSE_SHORTAGE_PATTERN = /does not have any available licenses/i;
/** LicenseQuotaExceededException (https://learn.microsoft.com/en-us/partner-center/developer/error-codes); compared as text, the code may be a string. */
const PARTNER_CENTER_LICENSE_QUOTA_CODE = '60012';

export function createPartnerCenterClient(options: PartnerCenterClientOptions): PartnerCenterClient {
  const fetchImpl = options.fetch ?? fetch;
  const locale = options.locale ?? 'en-US';
  const partnerCenterBaseUrl = options.baseUrl.replace(/\/+$/, '');
  const priceSheetBaseUrl = (options.priceSheetBaseUrl ?? options.baseUrl).replace(/\/+$/, '');
  const priceSheetTokenProvider = options.priceSheetTokenProvider ?? options.tokenProvider;

  const serverErrorRetryDelaysMs = options.serverErrorRetryDelaysMs ?? DEFAULT_SERVER_ERROR_RETRY_DELAYS_MS;

  /**
   * One call, asked again after a 5xx a few times before the error reaches the caller, as Microsoft's own Partner
   * Center SDK does: a passing 503 then costs a second, not an activity attempt and its growing backoff. The repeat
   * keeps the MS-RequestId (Microsoft's idempotency key, so a POST is never doubled) and gets a new MS-CorrelationId.
   */
  async function call<Output>(spec: CallSpec<Output>): Promise<Output> {
    const requestId = spec.requestId ?? randomUUID();
    for (let retry = 0; ; retry += 1) {
      try {
        return await callOnce({ ...spec, requestId });
      } catch (error) {
        const delayMs = serverErrorRetryDelaysMs[retry];
        if (delayMs === undefined || !(error instanceof VendorUnavailableError) || !SERVER_ERROR_STATUSES.has(error.status ?? 0)) throw error;
        await sleep(delayMs + Math.floor(Math.random() * (delayMs / 2)));
      }
    }
  }

  async function callOnce<Output>(spec: CallSpec<Output> & { requestId: string }): Promise<Output> {
    const requestId = spec.requestId;
    const correlationId = randomUUID();
    const context: VendorErrorContext = { requestId, correlationId };
    const token = await spec.tokenProvider.getToken();
    const headers: Record<string, string> = {
      Authorization: `Bearer ${token}`,
      Accept: spec.text ? 'text/csv' : 'application/json',
      'MS-Contract-Version': 'v1',
      'MS-RequestId': requestId,
      'MS-CorrelationId': correlationId,
      'X-Locale': locale,
    };
    if (spec.body !== undefined) headers['Content-Type'] = 'application/json';
    if (spec.ifMatch !== undefined) headers['If-Match'] = spec.ifMatch;

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
      options.logger?.warn({ operation: spec.operation, upgradeId: spec.upgradeId, requestId, correlationId, err: cause }, 'vendor call failed');
      throw new VendorUnavailableError(`${spec.operation}: ${timedOut ? `no answer within ${options.timeoutMs} ms` : 'network error'}`, { ...context, cause });
    }
    // Logged at info when the call belongs to an upgrade: Microsoft support asks for the MS-CorrelationId.
    (spec.upgradeId === undefined ? options.logger?.debug : options.logger?.info)?.call(
      options.logger,
      {
        operation: spec.operation,
        upgradeId: spec.upgradeId,
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
    if (spec.text) return spec.responseSchema.parse(text);
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
  const catalogCall = <Output>(operation: string, path: string, responseSchema: z.ZodType<Output>) =>
    partnerCenterCall({ operation, method: 'GET', path, responseSchema });

  return {
    getTransitionEligibilities(customerTenantId, subscriptionId, eligibilityType = 'immediate', ids = {}) {
      return partnerCenterCall({
        operation: 'getTransitionEligibilities',
        method: 'GET',
        path: `${subscriptionPath(customerTenantId, subscriptionId)}/transitionEligibilities?eligibilityType=${eligibilityType}`,
        responseSchema: transitionEligibilityListSchema,
        upgradeId: ids.upgradeId,
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
        upgradeId: ids.upgradeId,
      });
    },
    listTransitions(customerTenantId, subscriptionId, ids = {}) {
      return partnerCenterCall({
        operation: 'listTransitions',
        method: 'GET',
        path: `${subscriptionPath(customerTenantId, subscriptionId)}/transitions${ids.operationId ? `?operationId=${encodeURIComponent(ids.operationId)}` : ''}`,
        responseSchema: transitionListSchema,
        upgradeId: ids.upgradeId,
      });
    },
    getSubscription(customerTenantId, subscriptionId, ids = {}) {
      return partnerCenterCall({
        operation: 'getSubscription',
        method: 'GET',
        path: subscriptionPath(customerTenantId, subscriptionId),
        responseSchema: vendorSubscriptionSchema,
        upgradeId: ids.upgradeId,
      });
    },
    updateRenewalSettings(customerTenantId, subscription, settings, ids = {}) {
      const etag = subscription.attributes?.etag;
      if (!etag) throw new TypeError(`subscription ${subscription.id} was read without an ETag: read it again before changing it`);
      const { attributes, ...resource } = subscription;
      return partnerCenterCall({
        operation: 'updateRenewalSettings',
        method: 'PATCH',
        path: subscriptionPath(customerTenantId, subscription.id),
        responseSchema: vendorSubscriptionSchema,
        body: { ...resource, ...settings, attributes: { ...attributes, objectType: 'Subscription' } },
        ifMatch: etag,
        upgradeId: ids.upgradeId,
      });
    },
    listSubscriptions(customerTenantId, ids = {}) {
      return partnerCenterCall({
        operation: 'listSubscriptions',
        method: 'GET',
        path: `${customerPath(customerTenantId)}/subscriptions`,
        responseSchema: vendorSubscriptionListSchema,
        upgradeId: ids.upgradeId,
      });
    },
    listProducts(country, targetView) {
      const query = new URLSearchParams({ country, targetView });
      return catalogCall('listProducts', `/v1/products?${query.toString()}`, catalogProductListSchema);
    },
    listSkus(productId, country) {
      return catalogCall('listSkus', `/v1/products/${encodeURIComponent(productId)}/skus?country=${encodeURIComponent(country)}`, catalogSkuListSchema);
    },
    listAvailabilities(productId, skuId, country) {
      return catalogCall(
        'listAvailabilities',
        `/v1/products/${encodeURIComponent(productId)}/skus/${encodeURIComponent(skuId)}/availabilities?country=${encodeURIComponent(country)}`,
        catalogAvailabilityListSchema,
      );
    },
    getPriceSheet(market) {
      if (!/^[A-Za-z]{2}$/.test(market)) throw new TypeError(`market must be a two-letter country code, got "${market}"`);
      return call({
        operation: 'getPriceSheet',
        method: 'GET',
        baseUrl: priceSheetBaseUrl,
        tokenProvider: priceSheetTokenProvider,
        path: `/v1.0/sales/pricesheets(Market='${market.toUpperCase()}',PricesheetView='updatedlicensebased')/$value?timeline=current`,
        responseSchema: z.string(),
        text: true,
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
  if (status === 412) return new VendorPreconditionFailedError(summary, context);
  if (status === 409) return new VendorConflictError(details, context);
  if (status === 408 || status >= 500) return new VendorUnavailableError(summary, context);
  if (mentionsLicenseShortage) {
    const skuId = /SKU ([0-9a-f-]{36})/i.exec(details.description)?.[1];
    return new LicenseShortageError(summary, skuId, context);
  }
  return new VendorBusinessRejectionError(details, context);
}
