/**
 * Synthetic data for the latency benchmark: the demo catalog, `accounts` accounts and `subscriptions` subscriptions
 * spread evenly over them, every one valid "around today" (the current monthly charge cycle contains today, like
 * test/integration/support/scenarios.ts), so upgrade-options has real verdicts, existing destinations and price
 * previews to compute. Deterministic: the same flags give the same data.
 *
 * Subscription `0` of every account is Microsoft 365 Business Basic: the start phase upgrades those (a distinct
 * source per start, since a start locks its source) to Business Standard.
 */
import { fromProduct, fromSubscription } from '../../src/db/mappers';
import type { Models } from '../../src/db/models';
import { utcDateOf, type IsoDate } from '../../src/domain/dates';
import { sampleAccount, sampleSubscription } from '../../src/sample-data';
import { DEMO_PRODUCT_IDS, demoProducts } from '../../src/domain/demo-catalog';
import type { Product } from '../../src/domain/catalog';

/** Product of subscription j in an account (cycled): upgrade sources and their targets side by side. */
const PRODUCT_MIX = [
  DEMO_PRODUCT_IDS.businessBasic,
  DEMO_PRODUCT_IDS.businessStandard,
  DEMO_PRODUCT_IDS.businessPremium,
  DEMO_PRODUCT_IDS.office365E1,
  DEMO_PRODUCT_IDS.office365E3,
  DEMO_PRODUCT_IDS.exchangeOnlinePlan1,
  DEMO_PRODUCT_IDS.microsoft365F1,
  DEMO_PRODUCT_IDS.microsoft365F3,
  DEMO_PRODUCT_IDS.microsoft365E3,
  DEMO_PRODUCT_IDS.businessBasic,
] as const;

export const START_TARGET_PRODUCT = DEMO_PRODUCT_IDS.businessStandard;

export const accountIdOf = (a: number) => `acc_${String(a).padStart(6, '0')}`;
export const subscriptionIdOf = (a: number, j: number) => `sub_${String(a).padStart(6, '0')}_${String(j).padStart(3, '0')}`;

export interface SeedShape {
  accounts: number;
  subscriptions: number;
}

/** How many subscriptions account `a` holds: an even split, the remainder to the first accounts. */
export function subscriptionsInAccount(shape: SeedShape, a: number): number {
  const base = Math.floor(shape.subscriptions / shape.accounts);
  return base + (a < shape.subscriptions % shape.accounts ? 1 : 0);
}

function accountDoc(a: number, now: Date) {
  const id = accountIdOf(a);
  return {
    _id: id,
    name: `Benchmark customer ${a}`,
    tenantId: `tenant-${id}`,
    role: 'direct_reseller',
    partnerId: 'mpn-1001',
    currency: 'USD',
    taxRateBasisPoints: 2000,
    createdAt: now,
    updatedAt: now,
  };
}

function subscriptionDoc(a: number, j: number, today: IsoDate, prices: ReadonlyMap<string, number>, now: Date) {
  const productId = PRODUCT_MIX[j % PRODUCT_MIX.length]!;
  const unitPrice = prices.get(productId);
  if (unitPrice === undefined) throw new Error(`no P1Y/monthly USD price for ${productId}`);
  // Spread charge cycles and term starts a little, always with today inside the current charge cycle.
  const subscription = sampleSubscription(
    sampleAccount({ id: accountIdOf(a) }),
    { id: subscriptionIdOf(a, j), productId, quantity: 5 + ((a * 13 + j * 5) % 40), unitPrice },
    { today, daysIntoCycle: (a * 7 + j * 3) % 20, monthsIntoTerm: ((a + j) % 6) + 1 },
  );
  return { ...fromSubscription(subscription), appliedUpgradeIds: [], createdAt: now, updatedAt: now };
}

export interface SeedReport {
  products: number;
  accounts: number;
  subscriptions: number;
  batchSize: number;
  accountsMs: number;
  subscriptionsMs: number;
  totalMs: number;
  subscriptionsPerSecond: number;
}

/**
 * Bulk inserts in batches (driver `insertMany` through the model's collection: no per-document mongoose casting, the
 * documents are already in their stored shape). Indexes exist already (`connectDatabase` builds them), as in production.
 */
export async function seed(models: Models, shape: SeedShape, options: { batchSize: number; log: (m: string) => void }): Promise<SeedReport> {
  const now = new Date();
  const today = utcDateOf(now);
  const products: Product[] = demoProducts();
  const prices = new Map(
    products.map((p) => [
      p.productId,
      p.prices.find((price) => price.term === 'P1Y' && price.billingFrequency === 'monthly' && price.currency === 'USD')?.unitPrice ?? -1,
    ]),
  );
  const started = performance.now();
  await models.products.collection.insertMany(products.map((p) => ({ ...fromProduct(p), createdAt: now, updatedAt: now }) as never));

  const accountsStarted = performance.now();
  for (let first = 0; first < shape.accounts; first += options.batchSize) {
    const batch = [];
    for (let a = first; a < Math.min(shape.accounts, first + options.batchSize); a++) batch.push(accountDoc(a, now));
    await models.accounts.collection.insertMany(batch as never[], { ordered: false });
  }
  const accountsMs = performance.now() - accountsStarted;

  const subscriptionsStarted = performance.now();
  let batch: ReturnType<typeof subscriptionDoc>[] = [];
  let inserted = 0;
  let lastLog = performance.now();
  const flush = async () => {
    if (batch.length === 0) return;
    await models.subscriptions.collection.insertMany(batch as never[], { ordered: false });
    inserted += batch.length;
    batch = [];
    if (performance.now() - lastLog > 5_000) {
      options.log(`  … ${inserted.toLocaleString('en-US')} / ${shape.subscriptions.toLocaleString('en-US')} subscriptions`);
      lastLog = performance.now();
    }
  };
  for (let a = 0; a < shape.accounts; a++) {
    const count = subscriptionsInAccount(shape, a);
    for (let j = 0; j < count; j++) {
      batch.push(subscriptionDoc(a, j, today, prices, now));
      if (batch.length >= options.batchSize) await flush();
    }
  }
  await flush();
  const subscriptionsMs = performance.now() - subscriptionsStarted;
  const totalMs = performance.now() - started;
  return {
    products: products.length,
    accounts: shape.accounts,
    subscriptions: inserted,
    batchSize: options.batchSize,
    accountsMs: Math.round(accountsMs),
    subscriptionsMs: Math.round(subscriptionsMs),
    totalMs: Math.round(totalMs),
    subscriptionsPerSecond: Math.round(inserted / (subscriptionsMs / 1000)),
  };
}
