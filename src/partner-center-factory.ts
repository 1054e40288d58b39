import type { Config } from './config';
import { createPartnerCenterClient, type PartnerCenterClient } from './partner-center/partner-center-client';
import { clientCredentialsTokenProvider, staticTokenProvider } from './partner-center/token-providers';
import type { Logger } from 'pino';

/** The Partner Center client from configuration: OAuth client credentials in production, a static token otherwise. */
export function createVendorClient(config: Config, baseUrl: string, logger: Logger, fetchImpl?: typeof fetch): PartnerCenterClient {
  const tokenProvider =
    config.VENDOR_TENANT_ID && config.VENDOR_CLIENT_ID && config.VENDOR_CLIENT_SECRET
      ? clientCredentialsTokenProvider({ tenantId: config.VENDOR_TENANT_ID, clientId: config.VENDOR_CLIENT_ID, clientSecret: config.VENDOR_CLIENT_SECRET })
      : staticTokenProvider(config.VENDOR_TOKEN ?? 'simulator-token');
  return createPartnerCenterClient({ baseUrl, tokenProvider, timeoutMs: 15_000, logger, ...(fetchImpl ? { fetch: fetchImpl } : {}) });
}
