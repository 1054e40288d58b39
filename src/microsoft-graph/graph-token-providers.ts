/**
 * Tokens for Microsoft Graph in the CUSTOMER's tenant. Production: the partner's multi-tenant app, consented in the
 * customer's tenant, asks for an app-only token with the client-credentials flow against that tenant's authority
 * (`https://login.microsoftonline.com/{customerTenantId}`, scope `https://graph.microsoft.com/.default`), through
 * MSAL, Microsoft's own library (it caches each tenant's token until shortly before it expires):
 * https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow ,
 * https://learn.microsoft.com/en-us/entra/msal/javascript/node/ .
 * Simulator: an unsigned token naming the tenant in its `tid` claim, which is where Graph itself reads the tenant of a
 * call from (the simulator checks no signature).
 */
import { ConfidentialClientApplication } from '@azure/msal-node';
import { VendorAuthError, VendorUnavailableError } from '../partner-center/errors';
import { consentMissingCodeIn, GraphConsentMissingError } from './graph-errors';

export interface GraphTokenProvider {
  getToken(customerTenantId: string): Promise<string>;
  /** Forget a tenant's cached token (the client calls this after a 401). */
  invalidate?(customerTenantId: string): void;
}

export const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';

export interface MsalGraphTokenOptions {
  clientId: string;
  clientSecret: string;
  /** Defaults to Microsoft's global cloud. */
  authorityHost?: string;
}

/** What MSAL's AuthError carries (`errorCode`, `errorMessage`); read structurally so any MSAL error shape works. */
function describeMsalError(error: unknown): { errorCode: string; errorMessage: string } {
  if (typeof error !== 'object' || error === null) return { errorCode: 'unknown', errorMessage: String(error) };
  const errorCode = 'errorCode' in error && typeof error.errorCode === 'string' ? error.errorCode : 'unknown';
  const errorMessage =
    'errorMessage' in error && typeof error.errorMessage === 'string' ? error.errorMessage : error instanceof Error ? error.message : String(error);
  return { errorCode, errorMessage };
}

/** Maps a failed token request: missing consent, a refused credential, or an identity platform that did not answer. */
export function tokenErrorFor(customerTenantId: string, error: unknown): Error {
  const { errorCode, errorMessage } = describeMsalError(error);
  const consentCode = consentMissingCodeIn(errorMessage);
  if (consentCode !== undefined)
    return new GraphConsentMissingError(customerTenantId, consentCode, errorMessage.split('\n')[0] ?? errorMessage, { cause: error });
  if (/network|timeout|endpoints_resolution/i.test(errorCode)) {
    return new VendorUnavailableError(`Graph token for tenant ${customerTenantId}: identity platform unreachable (${errorCode})`, { cause: error });
  }
  return new VendorAuthError(`Graph token for tenant ${customerTenantId} refused (${errorCode})`, { cause: error });
}

export function msalGraphTokenProvider(options: MsalGraphTokenOptions): GraphTokenProvider {
  const authorityHost = (options.authorityHost ?? 'https://login.microsoftonline.com').replace(/\/+$/, '');
  const applications = new Map<string, ConfidentialClientApplication>();
  const applicationFor = (customerTenantId: string) => {
    const key = customerTenantId.toLowerCase();
    let application = applications.get(key);
    if (application === undefined) {
      application = new ConfidentialClientApplication({
        auth: { clientId: options.clientId, clientSecret: options.clientSecret, authority: `${authorityHost}/${encodeURIComponent(customerTenantId)}` },
      });
      applications.set(key, application);
    }
    return application;
  };
  return {
    async getToken(customerTenantId) {
      let result;
      try {
        result = await applicationFor(customerTenantId).acquireTokenByClientCredential({ scopes: [GRAPH_SCOPE] });
      } catch (error) {
        throw tokenErrorFor(customerTenantId, error);
      }
      if (!result?.accessToken) throw new VendorAuthError(`Graph token for tenant ${customerTenantId}: no access token returned`);
      return result.accessToken;
    },
    invalidate(customerTenantId) {
      // A new application instance starts with an empty token cache.
      applications.delete(customerTenantId.toLowerCase());
    },
  };
}

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** For the simulator: an unsigned JWT (`alg: none`) whose `tid` names the customer's tenant. */
export function simulatorGraphTokenProvider(appId = 'nce-upgrade-orchestrator'): GraphTokenProvider {
  return {
    async getToken(customerTenantId) {
      return `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ tid: customerTenantId, appid: appId, roles: ['LicenseAssignment.ReadWrite.All', 'User.Read.All'] })}.`;
    },
  };
}

/** Reads the `tid` claim of a JWT without checking its signature (the simulator's side of the above). */
export function tenantOfToken(token: string): string | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    return typeof claims === 'object' && claims !== null && 'tid' in claims && typeof claims.tid === 'string' ? claims.tid : undefined;
  } catch {
    return undefined;
  }
}
