/**
 * Fault injection for the simulator: what can go wrong, global settings, per-tenant overrides,
 * a seeded PRNG (so random faults are reproducible in tests) and the 429 budget per (partner, customer).
 */
import { z } from 'zod';

const rate = z.number().min(0).max(1);
const nonNegativeInt = z.number().int().min(0);

const faultShape = {
  /** Added before every vendor response. */
  latencyMs: nonNegativeInt,
  /** Share of vendor requests answered 503 (drawn from the seeded PRNG). */
  errorRate5xx: rate,
  /** N requests per window per (partner, customer), then 429 with Retry-After. null = unlimited. */
  throttle: z
    .object({
      requestsPerWindow: nonNegativeInt,
      windowMs: z.number().int().positive(),
      /** Defaults to the seconds left in the window. */
      retryAfterSeconds: nonNegativeInt.optional(),
    })
    .nullable(),
  /**
   * N Partner Center POSTs (transitions) per window per partner, all its customers together, then 429 with Retry-After:
   * Microsoft's per-partner write limits (Create Migration: 100 calls per partner in 5 minutes). null = unlimited.
   */
  partnerWriteThrottle: z
    .object({ requestsPerWindow: nonNegativeInt, windowMs: z.number().int().positive(), retryAfterSeconds: nonNegativeInt.optional() })
    .nullable(),
  /** Time from POST to Conversion Completed/Failed: 0 ms to hours. */
  completionDelayMs: nonNegativeInt,
  /** Time from Conversion Completed to LicenseReassignment Completed/Failed. */
  licenseReassignmentDelayMs: nonNegativeInt,
  /** Share of accepted transitions that end in Conversion/Failed. */
  transitionFailureRate: rate,
  /** Source subscriptions whose transitions always end in Conversion/Failed. */
  failTransitionsForSubscriptions: z.array(z.string()),
  /** Source subscriptions whose POST is rejected at once with 400 (a business error). */
  rejectTransitionsForSubscriptions: z.array(z.string()),
  /** Share of license transfers that end in LicenseReassignment/Failed (the SKU still changes). */
  licenseReassignmentFailureRate: rate,
  /** assignLicense fails with "no available licenses": true for every SKU, or a list of Entra SKU ids. */
  licenseShortage: z.union([z.boolean(), z.array(z.string())]),
  /** The customer has conflicting services: transition_with_license_transfer is ineligible (code 3). */
  conflictingServices: z.boolean(),
  /** Every Partner Center request answers 403 (e.g. a missing GDAP role). */
  forbidden: z.boolean(),
  /** Graph answers 403 Authorization_RequestDenied: the partner's app has no (licence) consent in the tenant. */
  graphConsentMissing: z.boolean(),
  /** Share of 2xx vendor responses replaced by a body that breaks the contract. */
  malformedResponseRate: rate,
  /**
   * Outcomes the client cannot read (docs/partner-center.md, "Unknown outcomes"). `brokenTransitionAnswer`: the POST starts
   * the transition, then answers 200 with a body that is not JSON.
   */
  brokenTransitionAnswer: z.boolean(),
  /** The POST starts the transition, then holds its answer this long (longer than the client's time-out). */
  transitionAnswerDelayMs: nonNegativeInt,
  /** The next `times` reads of a source's transitions (GET …/transitions) answer this status, then reads work again. */
  transitionReadErrors: z.object({ status: z.union([z.literal(401), z.literal(403), z.literal(404)]), times: nonNegativeInt }).nullable(),
  /** A Conversion that ends successfully is reported with this status (not one Microsoft documents); it did convert. */
  unrecognisedConversionStatus: z.string().min(1).nullable(),
  /** A conversion moves this many seats fewer than requested, and the transition reports the quantity it moved. */
  convertedQuantityShortBy: nonNegativeInt,
  /**
   * How transitions are spelled: `rest` (canonical), `docSample` (the 2021 samples: `Events`,
   * `FromCatalogItemId`, `"Started "`, list key `transition`), `sdk` (SeatReassignment, InProgress).
   */
  responseDialect: z.enum(['rest', 'docSample', 'sdk']),
};

export const faultOverridesSchema = z.object(faultShape).partial().strict();
export type FaultOverrides = z.infer<typeof faultOverridesSchema>;
export type FaultSettings = { [Key in keyof typeof faultShape]-?: z.infer<(typeof faultShape)[Key]> };

export const DEFAULT_FAULTS: FaultSettings = {
  latencyMs: 0,
  errorRate5xx: 0,
  throttle: null,
  partnerWriteThrottle: null,
  completionDelayMs: 0,
  licenseReassignmentDelayMs: 0,
  transitionFailureRate: 0,
  failTransitionsForSubscriptions: [],
  rejectTransitionsForSubscriptions: [],
  licenseReassignmentFailureRate: 0,
  licenseShortage: false,
  conflictingServices: false,
  forbidden: false,
  graphConsentMissing: false,
  malformedResponseRate: 0,
  brokenTransitionAnswer: false,
  transitionAnswerDelayMs: 0,
  transitionReadErrors: null,
  unrecognisedConversionStatus: null,
  convertedQuantityShortBy: 0,
  responseDialect: 'rest',
};

export const faultConfigurationSchema = z
  .object({
    global: faultOverridesSchema.optional(),
    /** Overrides that apply only to requests about one customer tenant. */
    tenants: z.record(z.string(), faultOverridesSchema).optional(),
  })
  .strict();
export type FaultConfiguration = z.infer<typeof faultConfigurationSchema>;

/** Global settings plus per-tenant overrides; `resolve(tenant)` gives what applies to one request. */
export class FaultPlan {
  private global: FaultSettings = DEFAULT_FAULTS;
  private readonly tenantOverrides = new Map<string, FaultOverrides>();

  constructor(initial: FaultConfiguration = {}) {
    this.replace(initial);
  }

  /** Drops every current setting and applies `configuration` over the defaults. */
  replace(configuration: FaultConfiguration): void {
    this.global = { ...DEFAULT_FAULTS, ...configuration.global };
    this.tenantOverrides.clear();
    for (const [tenantId, overrides] of Object.entries(configuration.tenants ?? {})) this.tenantOverrides.set(tenantId, overrides);
  }

  resolve(customerTenantId: string | undefined): FaultSettings {
    const overrides = customerTenantId === undefined ? undefined : this.tenantOverrides.get(customerTenantId);
    return overrides === undefined ? this.global : { ...this.global, ...overrides };
  }

  mergeGlobal(overrides: FaultOverrides): void {
    this.global = { ...this.global, ...overrides };
  }

  setTenant(customerTenantId: string, overrides: FaultOverrides): void {
    this.tenantOverrides.set(customerTenantId, overrides);
  }

  clearTenant(customerTenantId: string): void {
    this.tenantOverrides.delete(customerTenantId);
  }

  describe(): { global: FaultSettings; tenants: Record<string, FaultOverrides> } {
    return { global: this.global, tenants: Object.fromEntries(this.tenantOverrides) };
  }
}

/** mulberry32: tiny, fast, and good enough to make injected faults reproducible from a seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Fixed-window request budget per throttling key. Every request counts, throttled ones included,
 * because Microsoft says retries count against the limit
 * (https://learn.microsoft.com/en-us/partner-center/developer/api-throttling-guidance).
 */
export class ThrottleBudget {
  private readonly windows = new Map<string, { startedAt: number; count: number }>();

  /** Returns the Retry-After seconds when the request is over budget, otherwise undefined. */
  take(key: string, throttle: NonNullable<FaultSettings['throttle']>, now: number): number | undefined {
    let window = this.windows.get(key);
    if (window === undefined || now >= window.startedAt + throttle.windowMs) {
      window = { startedAt: now, count: 0 };
      this.windows.set(key, window);
    }
    window.count += 1;
    if (window.count <= throttle.requestsPerWindow) return undefined;
    return throttle.retryAfterSeconds ?? Math.max(1, Math.ceil((window.startedAt + throttle.windowMs - now) / 1000));
  }

  clear(): void {
    this.windows.clear();
  }
}
