/** Builders for domain unit tests: small, explicit catalogs and subscriptions with overridable fields. */
import { Catalog, type BillingFrequency, type Price, type Product, type Term } from '../../../src/domain/catalog';
import type { Account, Subscription, UpgradeRequest } from '../../../src/domain/types';
import { planUpgrade, type UpgradePlan, type UpgradePlanInput } from '../../../src/domain/upgrade-plan';

export const BASIC = 'BASIC:0001:AV';
export const STANDARD = 'STANDARD:0001:AV';
export const PREMIUM = 'PREMIUM:0001:AV';
export const E3 = 'E3:0001:AV';
export const TRIAL = 'TRIAL:0001:AV';
export const SPECIALIZED = 'SPECIAL:0001:AV';

export function prices(monthlyInstallment: number, annual: number, currency = 'USD'): Price[] {
  return [
    { term: 'P1Y', billingFrequency: 'monthly', currency, unitPrice: monthlyInstallment, unitCost: monthlyInstallment },
    { term: 'P1Y', billingFrequency: 'annual', currency, unitPrice: annual, unitCost: annual },
    { term: 'P1M', billingFrequency: 'monthly', currency, unitPrice: monthlyInstallment, unitCost: monthlyInstallment },
  ];
}

export function product(overrides: Partial<Product> & Pick<Product, 'productId'>): Product {
  return {
    name: overrides.productId.split(':')[0] ?? overrides.productId,
    offerType: 'standard',
    segment: 'commercial',
    minQuantity: 1,
    maxQuantity: 300,
    prices: prices(1000, 12000),
    upgradePaths: [],
    entraSkuId: '00000000-0000-0000-0000-000000000000',
    ...overrides,
  };
}

/** BASIC → STANDARD → PREMIUM, BASIC → PREMIUM, STANDARD → E3; SPECIALIZED → STANDARD; TRIAL → STANDARD. */
export function testCatalog(extra: Partial<Record<string, Partial<Product>>> = {}): Catalog {
  const base: Product[] = [
    product({
      productId: BASIC,
      name: 'Business Basic',
      upgradePaths: [STANDARD, PREMIUM],
      prices: [...prices(1000, 12000), ...prices(1000, 12000, 'EUR'), ...prices(100, 1200, 'JPY'), ...prices(1000, 12000, 'KWD')],
    }),
    product({
      productId: STANDARD,
      name: 'Business Standard',
      upgradePaths: [PREMIUM, E3],
      prices: [...prices(2000, 24000), ...prices(2000, 24000, 'EUR'), ...prices(250, 3000, 'JPY'), ...prices(2000, 24000, 'KWD')],
    }),
    product({ productId: PREMIUM, name: 'Business Premium', prices: [...prices(3000, 36000), ...prices(3000, 36000, 'EUR')] }),
    product({ productId: E3, name: 'Office 365 E3', maxQuantity: 100_000, prices: prices(4000, 48000) }),
    product({ productId: TRIAL, name: 'Trial Offer', offerType: 'trial', upgradePaths: [STANDARD] }),
    product({ productId: SPECIALIZED, name: 'Specialized Offer', offerType: 'specialized', upgradePaths: [STANDARD] }),
  ];
  return new Catalog(base.map((p) => ({ ...p, ...(extra[p.productId] ?? {}) })));
}

export function account(overrides: Partial<Account> = {}): Account {
  return {
    id: 'acc-1',
    name: 'Contoso',
    tenantId: 'tenant-1',
    role: 'direct_reseller',
    partnerId: 'MPN-1',
    currency: 'USD',
    taxRateBasisPoints: 0,
    ...overrides,
  };
}

/** Active P1Y/monthly Business Basic, 10 seats, cycle 2025-04-01..2025-04-30, term 2025-01-01..2025-12-31. */
export function subscription(overrides: Partial<Subscription> = {}): Subscription {
  return {
    id: 'sub-src',
    externalId: 'ext-src',
    accountId: 'acc-1',
    productId: BASIC,
    quantity: 10,
    status: 'active',
    isTrial: false,
    term: 'P1Y',
    billingFrequency: 'monthly',
    termStart: '2025-01-01',
    termEnd: '2025-12-31',
    chargeStart: '2025-04-01',
    chargeEnd: '2025-04-30',
    purchasedAt: '2025-01-01T10:00:00Z',
    cancellationWindowEndsAt: '2025-01-08T10:00:00Z',
    unitPrice: 1000,
    currency: 'USD',
    partnerId: 'MPN-1',
    ...overrides,
  };
}

/** An eligible existing STANDARD destination for the default source. */
export function destinationSubscription(overrides: Partial<Subscription> = {}): Subscription {
  return subscription({
    id: 'sub-dst',
    externalId: 'ext-dst',
    productId: STANDARD,
    quantity: 5,
    unitPrice: 2000,
    chargeStart: '2025-04-05',
    chargeEnd: '2025-05-04',
    termStart: '2025-01-05',
    termEnd: '2026-01-04',
    purchasedAt: '2025-01-05T10:00:00Z',
    cancellationWindowEndsAt: '2025-01-12T10:00:00Z',
    ...overrides,
  });
}

export const NOW = '2025-04-12T09:00:00Z';

/** Every term and billing frequency Microsoft sells together. */
export const TERM_BILLING_COMBINATIONS: ReadonlyArray<[Term, BillingFrequency]> = [
  ['P1M', 'monthly'],
  ['P1Y', 'monthly'],
  ['P1Y', 'annual'],
  ['P3Y', 'monthly'],
  ['P3Y', 'annual'],
  ['P3Y', 'triennial'],
];

/** The planner's input for a request on the default source (`subscription()`) and destination, at NOW. */
export function planInput(request: Partial<UpgradeRequest> = {}, overrides: Partial<UpgradePlanInput> = {}): UpgradePlanInput {
  return {
    request: { sourceSubscriptionId: 'sub-src', targetProductId: STANDARD, quantity: 10, destination: { type: 'new' }, ...request },
    source: subscription(),
    sourceAccount: account(),
    destination: destinationSubscription(),
    catalog: testCatalog(),
    now: NOW,
    ...overrides,
  };
}

/** The plan of an eligible request (throws with the reasons otherwise). */
export function eligiblePlan(request: Partial<UpgradeRequest> = {}, overrides: Partial<UpgradePlanInput> = {}): UpgradePlan {
  const result = planUpgrade(planInput(request, overrides));
  if (!result.ok) throw new Error(`not eligible: ${JSON.stringify(result.reasons)}`);
  return result.plan;
}
