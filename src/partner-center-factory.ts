import type { Logger } from 'pino';
import type { Config } from './config';
import { createGraphClient, type GraphClient } from './microsoft-graph/graph-client';
import { msalGraphTokenProvider, simulatorGraphTokenProvider } from './microsoft-graph/graph-token-providers';
import { createPartnerCenterClient, type PartnerCenterClient } from './partner-center/partner-center-client';
import { clientCredentialsTokenProvider, staticTokenProvider } from './partner-center/token-providers';

export const MICROSOFT_GRAPH_URL = 'https://graph.microsoft.com';
export const MICROSOFT_PRICING_URL = 'https://api.partner.microsoft.com';

const hasPartnerCredentials = (config: Config) => Boolean(config.VENDOR_TENANT_ID && config.VENDOR_CLIENT_ID && config.VENDOR_CLIENT_SECRET);

/**
 * The Partner Center client from configuration: OAuth client credentials in production, a static token otherwise
 * (the simulator). The price sheet needs an app + user token: PRICE_SHEET_TOKEN in production, the simulator's token
 * in development; without either, `getPriceSheet` is refused by Microsoft and the operator uploads the CSV instead.
 */
export function createVendorClient(config: Config, baseUrl: string, logger: Logger, fetchImpl?: typeof fetch): PartnerCenterClient {
  const simulated = !hasPartnerCredentials(config);
  const tokenProvider = simulated
    ? staticTokenProvider(config.VENDOR_TOKEN ?? 'simulator-token')
    : clientCredentialsTokenProvider({ tenantId: config.VENDOR_TENANT_ID!, clientId: config.VENDOR_CLIENT_ID!, clientSecret: config.VENDOR_CLIENT_SECRET! });
  return createPartnerCenterClient({
    baseUrl,
    tokenProvider,
    timeoutMs: 15_000,
    logger,
    locale: config.VENDOR_LOCALE,
    priceSheetBaseUrl: config.PRICE_SHEET_BASE_URL ?? (simulated ? baseUrl : MICROSOFT_PRICING_URL),
    ...(config.PRICE_SHEET_TOKEN ? { priceSheetTokenProvider: staticTokenProvider(config.PRICE_SHEET_TOKEN) } : {}),
    ...(fetchImpl ? { fetch: fetchImpl } : {}),
  });
}

/** Whether the catalog sync can read the price sheet (an app + user token exists for it). */
export function canReadPriceSheet(config: Config): boolean {
  return !hasPartnerCredentials(config) || Boolean(config.PRICE_SHEET_TOKEN);
}

/**
 * Microsoft Graph in each customer's tenant: MSAL client credentials of the partner's multi-tenant app, or the
 * simulator's `/graph` with an unsigned token when the vendor is the simulator.
 */
export function createGraphClientFromConfig(config: Config, vendorBaseUrl: string, logger: Logger, fetchImpl?: typeof fetch): GraphClient {
  const clientId = config.GRAPH_CLIENT_ID ?? config.VENDOR_CLIENT_ID;
  const clientSecret = config.GRAPH_CLIENT_SECRET ?? config.VENDOR_CLIENT_SECRET;
  const simulated = !hasPartnerCredentials(config) && !(config.GRAPH_CLIENT_ID && config.GRAPH_CLIENT_SECRET);
  return createGraphClient({
    baseUrl: config.GRAPH_BASE_URL ?? (simulated ? `${vendorBaseUrl.replace(/\/+$/, '')}/graph` : MICROSOFT_GRAPH_URL),
    tokenProvider: simulated || !clientId || !clientSecret ? simulatorGraphTokenProvider() : msalGraphTokenProvider({ clientId, clientSecret }),
    timeoutMs: 15_000,
    logger,
    ...(fetchImpl ? { fetch: fetchImpl } : {}),
  });
}
