import { VendorError, type VendorErrorContext } from '../partner-center/errors';

/**
 * The partner's multi-tenant app cannot act in the customer's tenant: never consented there, or consented without the
 * licence permission. Microsoft signals it two ways (both pages on Microsoft Learn):
 * - at the token endpoint, AADSTS65001 ("has not consented to use the application") or AADSTS700016 ("Application
 *   … was not found in the directory … has not been installed by the administrator of the tenant"):
 *   https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes ,
 *   https://learn.microsoft.com/en-us/troubleshoot/entra/entra-id/app-integration/troubleshoot-consent-issues
 * - at Graph, 403 `Authorization_RequestDenied` ("Insufficient privileges to complete the operation") when the token
 *   carries no licence permission: https://learn.microsoft.com/en-us/graph/errors
 * Not retryable: a customer's administrator has to grant the consent (see the README, customer onboarding).
 */
export class GraphConsentMissingError extends VendorError {
  override readonly name = 'GraphConsentMissingError';
  readonly retryable = false;
  constructor(
    readonly customerTenantId: string,
    /** Microsoft's own code: `AADSTS65001`, `AADSTS700016`, `Authorization_RequestDenied`. */
    readonly microsoftCode: string,
    detail: string,
    context: VendorErrorContext = {},
  ) {
    super(`the partner's app has no consent in customer tenant ${customerTenantId} (${microsoftCode}): ${detail}`, context);
  }
}

/** AADSTS codes of the token endpoint that mean "not consented in this tenant". */
export const CONSENT_MISSING_AADSTS_CODES = ['AADSTS65001', 'AADSTS700016'] as const;

export function consentMissingCodeIn(text: string): string | undefined {
  return CONSENT_MISSING_AADSTS_CODES.find((code) => new RegExp(`\\b${code}\\b`).test(text));
}
