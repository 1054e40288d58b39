/**
 * Bearer tokens for Partner Center. Production uses Microsoft's OAuth 2.0 client-credentials flow
 * (app-only tokens are accepted by the transition APIs: https://learn.microsoft.com/en-us/partner-center/developer/transition-a-new-commerce-subscription); the simulator accepts
 * any static token.
 */
import { z } from 'zod';
import { VendorAuthError, VendorUnavailableError } from './errors';

export interface TokenProvider {
  getToken(): Promise<string>;
  /** Forget a cached token (the client calls this after a 401). */
  invalidate?(): void;
}

export function staticTokenProvider(token: string): TokenProvider {
  return { getToken: async () => token };
}

export interface ClientCredentialsOptions {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  /** Defaults to Partner Center's app-only scope. */
  scope?: string;
  /** Defaults to the Microsoft identity platform v2 token endpoint of `tenantId`. */
  tokenUrl?: string;
  fetch?: typeof fetch;
  /** Renew this long before expiry so a token never expires mid-call. */
  refreshMarginMs?: number;
  timeoutMs?: number;
  now?: () => number;
}

export const PARTNER_CENTER_SCOPE = 'https://api.partnercenter.microsoft.com/.default';

const tokenResponseSchema = z.object({
  access_token: z.string().min(1),
  expires_in: z.coerce.number().positive(),
});

/**
 * Caches the token until `refreshMarginMs` before it expires, and shares one in-flight request among
 * concurrent callers so a burst of activities asks the identity platform once.
 */
export function clientCredentialsTokenProvider(options: ClientCredentialsOptions): TokenProvider {
  const fetchImpl = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const refreshMarginMs = options.refreshMarginMs ?? 60_000;
  const tokenUrl = options.tokenUrl ?? `https://login.microsoftonline.com/${encodeURIComponent(options.tenantId)}/oauth2/v2.0/token`;

  let cached: { token: string; expiresAt: number } | undefined;
  let inFlight: Promise<string> | undefined;

  async function requestToken(): Promise<string> {
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: options.clientId,
      client_secret: options.clientSecret,
      scope: options.scope ?? PARTNER_CENTER_SCOPE,
    });
    let response: Response;
    try {
      response = await fetchImpl(tokenUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        body: form,
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
    } catch (cause) {
      throw new VendorUnavailableError('Token endpoint unreachable', { cause });
    }
    const body: unknown = await response.json().catch(() => undefined);
    if (response.status >= 500 || response.status === 429) {
      throw new VendorUnavailableError(`Token endpoint answered ${response.status}`, { status: response.status });
    }
    if (!response.ok) {
      // AAD error bodies carry `error` and `error_description`; never echo the secret.
      const reason = typeof body === 'object' && body !== null && 'error' in body ? String(body.error) : 'unknown';
      throw new VendorAuthError(`Token request refused (${response.status}, ${reason})`, { status: response.status });
    }
    const parsed = tokenResponseSchema.safeParse(body);
    if (!parsed.success) throw new VendorAuthError('Token endpoint returned no usable access_token');
    cached = { token: parsed.data.access_token, expiresAt: now() + parsed.data.expires_in * 1000 };
    return parsed.data.access_token;
  }

  return {
    async getToken() {
      if (cached !== undefined && now() < cached.expiresAt - refreshMarginMs) return cached.token;
      inFlight ??= requestToken().finally(() => {
        inFlight = undefined;
      });
      return inFlight;
    },
    invalidate() {
      cached = undefined;
    },
  };
}
