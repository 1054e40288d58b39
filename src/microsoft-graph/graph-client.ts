/**
 * Microsoft Graph client for the three licence calls a seat reassignment makes, in the customer's tenant:
 * - `GET /v1.0/subscribedSkus`: https://learn.microsoft.com/en-us/graph/api/subscribedsku-list
 * - `GET /v1.0/users?$filter=assignedLicenses/any(s:s/skuId eq {id})`, following `@odata.nextLink` as given:
 *   https://learn.microsoft.com/en-us/graph/api/user-list , https://learn.microsoft.com/en-us/graph/paging
 * - `POST /v1.0/users/{id}/assignLicense` with `addLicenses` and `removeLicenses` in one call:
 *   https://learn.microsoft.com/en-us/graph/api/user-assignlicense
 *
 * Throttling (https://learn.microsoft.com/en-us/graph/throttling): a 429 is waited out here for its `Retry-After`
 * (exponential back-off when absent), with the same `client-request-id` on every attempt of one operation; a wait
 * longer than `maxThrottleWaitMs`, or one attempt too many, throws VendorThrottledError so that the Temporal activity
 * retries later (its `retryAfterMs` becomes the next retry delay). Other failures are not retried here.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { z } from 'zod';
import {
  LicenseShortageError,
  VendorAuthError,
  VendorBusinessRejectionError,
  type VendorErrorContext,
  VendorNotFoundError,
  VendorResponseInvalidError,
  VendorThrottledError,
  VendorUnavailableError,
} from '../partner-center/errors';
import { parseRetryAfterMs, type VendorLogger } from '../partner-center/partner-center-client';
import { GraphConsentMissingError } from './graph-errors';
import {
  assignLicenseResponseSchema,
  graphErrorBodySchema,
  type LicensedUser,
  type SubscribedSku,
  subscribedSkuListSchema,
  userPageSchema,
} from './graph-schemas';
import type { GraphTokenProvider } from './graph-token-providers';

/** assignLicense body: add the target and remove the source in the same call, so a user is never without a licence. */
export interface LicenseChange {
  addLicenses: { skuId: string; disabledPlans: string[] }[];
  removeLicenses: string[];
}

/** What a call is part of, for the log line (a new `client-request-id` is made per operation). */
export interface GraphCallContext {
  upgradeId?: string;
}

export interface GraphClient {
  subscribedSkus(customerTenantId: string, context?: GraphCallContext): Promise<SubscribedSku[]>;
  /** Every user holding `skuId` (directly or through a group), page by page. */
  licenseHolders(customerTenantId: string, skuId: string, context?: GraphCallContext): AsyncGenerator<LicensedUser[]>;
  assignLicense(customerTenantId: string, userId: string, change: LicenseChange, context?: GraphCallContext): Promise<void>;
}

export interface GraphClientOptions {
  /** `https://graph.microsoft.com`, or the simulator's Graph prefix. */
  baseUrl: string;
  tokenProvider: GraphTokenProvider;
  timeoutMs: number;
  /** Users per page (Graph: default 100, at most 999). */
  pageSize?: number;
  maxThrottleWaitMs?: number;
  maxAttempts?: number;
  fetch?: typeof fetch;
  logger?: VendorLogger;
  /** Waits between throttled attempts (tests pass a fake). */
  wait?: (milliseconds: number) => Promise<void>;
}

const LICENSE_SHORTAGE_PATTERN = /does not have any available licenses/i;
const USER_FIELDS = 'id,userPrincipalName,assignedLicenses,licenseAssignmentStates';

export function createGraphClient(options: GraphClientOptions): GraphClient {
  const fetchImpl = options.fetch ?? fetch;
  const wait = options.wait ?? ((milliseconds: number) => sleep(milliseconds));
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const origin = new URL(baseUrl).origin;
  const maxAttempts = options.maxAttempts ?? 5;
  const maxThrottleWaitMs = options.maxThrottleWaitMs ?? 30_000;
  const pageSize = Math.min(999, Math.max(1, options.pageSize ?? 100));

  async function send<Output>(
    customerTenantId: string,
    operation: string,
    url: string,
    schema: z.ZodType<Output>,
    context: GraphCallContext,
    body?: unknown,
  ): Promise<Output> {
    const clientRequestId = randomUUID();
    for (let attempt = 1; ; attempt += 1) {
      const errorContext: VendorErrorContext = { requestId: clientRequestId };
      const token = await options.tokenProvider.getToken(customerTenantId);
      let response: Response;
      let text: string;
      try {
        response = await fetchImpl(url, {
          method: body === undefined ? 'GET' : 'POST',
          headers: {
            Authorization: `Bearer ${token}`,
            Accept: 'application/json',
            'client-request-id': clientRequestId,
            'return-client-request-id': 'true',
            ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(options.timeoutMs),
        });
        text = await response.text();
      } catch (cause) {
        throw new VendorUnavailableError(`Graph ${operation}: no answer (${cause instanceof Error ? cause.name : 'network error'})`, {
          ...errorContext,
          cause,
        });
      }
      options.logger?.debug({ operation, customerTenantId, upgradeId: context.upgradeId, clientRequestId, status: response.status, attempt }, 'graph call');
      if (response.status === 429) {
        const retryAfterMs = parseRetryAfterMs(response.headers.get('Retry-After')) ?? 1_000 * 2 ** (attempt - 1);
        if (attempt >= maxAttempts || retryAfterMs > maxThrottleWaitMs) {
          throw new VendorThrottledError(`Graph ${operation}: throttled (429)`, retryAfterMs, { ...errorContext, status: 429 });
        }
        options.logger?.warn({ operation, customerTenantId, upgradeId: context.upgradeId, clientRequestId, retryAfterMs }, 'graph throttled; waiting');
        await wait(retryAfterMs);
        continue;
      }
      if (!response.ok) {
        if (response.status === 401) options.tokenProvider.invalidate?.(customerTenantId);
        throw graphError(customerTenantId, operation, response.status, text, { ...errorContext, status: response.status });
      }
      const parsed = schema.safeParse(text === '' ? {} : safeJson(text));
      if (!parsed.success) {
        const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
        throw new VendorResponseInvalidError(`Graph ${operation}: unexpected response`, issues, { ...errorContext, status: response.status });
      }
      return parsed.data;
    }
  }

  return {
    subscribedSkus(customerTenantId, context = {}) {
      return send(customerTenantId, 'subscribedSkus', `${baseUrl}/v1.0/subscribedSkus`, subscribedSkuListSchema, context);
    },
    async *licenseHolders(customerTenantId, skuId, context = {}) {
      const query = new URLSearchParams({ $filter: `assignedLicenses/any(s:s/skuId eq ${skuId})`, $select: USER_FIELDS, $top: String(pageSize) });
      let url: string | undefined = `${baseUrl}/v1.0/users?${query.toString()}`;
      while (url !== undefined) {
        const page: z.infer<typeof userPageSchema> = await send(customerTenantId, 'listUsers', url, userPageSchema, context);
        yield page.value;
        const next: string | null | undefined = page['@odata.nextLink'];
        // The link is followed as given (its skip token is opaque), but never off to another host with our token.
        if (next != null && new URL(next).origin !== origin) {
          throw new VendorResponseInvalidError('Graph listUsers: @odata.nextLink points to another host', next);
        }
        url = next ?? undefined;
      }
    },
    async assignLicense(customerTenantId, userId, change, context = {}) {
      await send(
        customerTenantId,
        'assignLicense',
        `${baseUrl}/v1.0/users/${encodeURIComponent(userId)}/assignLicense`,
        assignLicenseResponseSchema,
        context,
        change,
      );
    },
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function graphError(customerTenantId: string, operation: string, status: number, text: string, context: VendorErrorContext) {
  const parsed = graphErrorBodySchema.safeParse(safeJson(text));
  const code = parsed.success ? (parsed.data.error.code ?? '') : '';
  const message = parsed.success ? (parsed.data.error.message ?? '') : text.slice(0, 300);
  const summary = `Graph ${operation}: HTTP ${status} ${code} ${message}`.trim();
  if (status === 403 && code === 'Authorization_RequestDenied') return new GraphConsentMissingError(customerTenantId, code, message, context);
  if (status === 401 || status === 403) return new VendorAuthError(summary, context);
  if (status === 404) return new VendorNotFoundError(summary, context);
  if (status === 408 || status >= 500) return new VendorUnavailableError(summary, context);
  if (LICENSE_SHORTAGE_PATTERN.test(message)) return new LicenseShortageError(summary, /SKU ([0-9a-f-]{36})/i.exec(message)?.[1], context);
  return new VendorBusinessRejectionError({ code, description: message }, context);
}
