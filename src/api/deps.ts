import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Config } from '../config';
import type { ApiMetrics } from './metrics';
import type { CatalogSource } from '../db/catalog-source';
import type { Models } from '../db/models';
import type { Subscription } from '../domain';
import type { CatalogVendor } from '../catalog/catalog-sync';
import type { PartnerCenterClient } from '../partner-center';
import type { MicrosoftEligibilitySource } from '../partner-center/microsoft-eligibility';
import type { SubscriptionReader } from '../upgrades/microsoft-scheduled-change-warning';
import { createUpgradeUseCaseDeps, type UpgradeUseCaseConfig, type UpgradeUseCaseDeps } from '../upgrades/deps';

/** Everything the HTTP app needs, passed in: no module-level state, so tests build as many apps as they like. */
export interface AppDeps {
  models: Models;
  temporalClient: Client;
  config: Pick<Config, 'OPERATOR_API_KEY' | 'WEBHOOK_SECRETS_KEY'> &
    Partial<Pick<Config, 'NODE_ENV' | 'WEBHOOK_ALLOW_PRIVATE_NETWORKS' | 'WEBHOOK_SECRET_OVERLAP_HOURS'>> &
    UpgradeUseCaseConfig;
  logger: Logger;
  /**
   * Partner Center: its catalog and price sheet (`POST /v1/catalog/sync`) and its transition eligibilities (Microsoft's
   * verdict in upgrade-options, quote and start), and the source's change scheduled for its renewal (the quote's warning).
   * Without it, only our own rules decide.
   */
  vendor?: CatalogVendor & Pick<PartnerCenterClient, 'getTransitionEligibilities' | 'getSubscription'>;
  /** How long Microsoft's verdict on a source is reused (`VENDOR_ELIGIBILITY_CACHE_SECONDS`). */
  microsoftEligibilityMaxAgeMs?: number;
  /** The catalog's country (and price sheet market), and whether a token for the price sheet exists. */
  catalogSync?: { country: string; readPriceSheet: boolean };
  /** Called after `POST /v1/subscriptions/import` stored the subscriptions (dev wires simulator registration here). */
  onSubscriptionsImported?: (subscriptions: Subscription[]) => Promise<void> | void;
  /** "Now" for eligibility and quotes; tests pin it. */
  clock?: () => Date;
  /** Per API key; defaults are generous (an operator's bulk import, a test suite). */
  rateLimit?: { windowMs: number; limit: number };
  /**
   * Per client IP, counted before authentication: every request (`RATE_LIMIT_PER_IP_PER_MINUTE`), and requests with a
   * bad API key (`AUTH_FAILURES_PER_IP_PER_15_MINUTES`), so guessing keys costs no database lookups once over the limit.
   */
  ipRateLimit?: { requestsPerMinute: number; authFailuresPer15Minutes: number };
  /** Proxy hops whose X-Forwarded-For names the client (`TRUST_PROXY_HOPS`); 0 = the socket's address. */
  trustProxyHops?: number;
  /** The API's Prometheus registry, when the process also serves it on `METRICS_PORT`; default: a fresh one. */
  metrics?: ApiMetrics;
  /** express.json limit, default 100kb. */
  bodyLimit?: string;
  /** How long `GET /v1/upgrades/:id` waits for the live workflow state before falling back to the record. */
  queryTimeoutMs?: number;
  /** How long the seat-reassignment confirmation waits for the workflow's answer. */
  updateTimeoutMs?: number;
  /** The campaign workflow's tunables (tests shorten its follow interval); default: the workflow's own. */
  campaignWorkflowOptions?: { followIntervalMs?: number; startsInParallel?: number; eventsBeforeContinueAsNew?: number };
  /** How long the catalog read for eligibility checks is reused (`CATALOG_CACHE_SECONDS`); 0 (default) reads it each time. */
  catalogMaxAgeMs?: number;
}

export type ResolvedDeps = AppDeps & {
  clock: () => Date;
  queryTimeoutMs: number;
  updateTimeoutMs: number;
  catalog: CatalogSource;
  /** One per app, so its cache is shared by every route. */
  microsoftEligibility?: MicrosoftEligibilitySource;
  /** upgrade-options' view of the source at Partner Center, reused as long as the verdict (one per app). */
  vendorSubscriptionsForOptions?: SubscriptionReader;
};

/** The upgrade use cases' dependencies, as the API provides them (its cached catalog, its clock and timeouts). */
export function upgradeUseCaseDepsOf(deps: ResolvedDeps): UpgradeUseCaseDeps {
  return createUpgradeUseCaseDeps({
    models: deps.models,
    temporalClient: deps.temporalClient,
    config: deps.config,
    catalog: () => deps.catalog.get(),
    clock: deps.clock,
    ...(deps.microsoftEligibility ? { microsoftEligibility: deps.microsoftEligibility } : {}),
    queryTimeoutMs: deps.queryTimeoutMs,
    updateTimeoutMs: deps.updateTimeoutMs,
  });
}
