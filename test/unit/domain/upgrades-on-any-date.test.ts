import fc from 'fast-check';
import { cycleAt } from '../../../src/domain/billing-cycle';
import { TERM_MONTHS } from '../../../src/domain/catalog';
import { addDays, addMonths, daysInclusive, daysInMonth, isWithin } from '../../../src/domain/dates';
import { proratedMagnitude } from '../../../src/domain/proration';
import { subscriptionOn } from '../../../src/domain/subscription-on-date';
import type { Subscription } from '../../../src/domain/types';
import { planUpgrade, type UpgradePlanInput } from '../../../src/domain/upgrade-plan';
import { evaluateUpgradeOptions } from '../../../src/domain/upgrade-options';
import { account, destinationSubscription, prices, product, BASIC, STANDARD, PREMIUM, subscription, TERM_BILLING_COMBINATIONS, testCatalog } from './fixtures';
import { Catalog } from '../../../src/domain/catalog';

const at = (date: string) => `${date}T09:00:00Z`;
const toNew = { sourceSubscriptionId: 'sub-src', targetProductId: STANDARD, quantity: 10, destination: { type: 'new' as const } };

function planOn(date: string, source: Subscription, overrides: Partial<UpgradePlanInput> = {}) {
  return planUpgrade({ request: toNew, source, sourceAccount: account(), catalog: testCatalog(), now: at(date), ...overrides });
}

describe('planUpgrade on any date', () => {
  it('the reproduction: a stored cycle that ended months ago is quoted on the cycle holding the date', () => {
    const source = subscription({ termStart: '2026-06-15', termEnd: '2027-06-14', chargeStart: '2026-09-15', chargeEnd: '2026-10-14' });
    const result = planOn('2026-12-01', source);
    if (!result.ok) throw new Error(JSON.stringify(result.reasons));
    // 2026-11-15 – 2026-12-14: 30 days, 14 left from 2026-12-01. docs/proration.md: 1000 × 10 × 14 / 30, 2000 × 10 × 14 / 30.
    expect(result.plan.credit.lines[0]).toMatchObject({ periodStart: '2026-12-01', periodEnd: '2026-12-14', days: 14, cycleDays: 30, amount: -4667 });
    expect(result.plan.debit.lines[0]).toMatchObject({ days: 14, cycleDays: 30, amount: 9333 });
    // The remaining installments are the cycles after this one, up to the term end.
    expect(result.plan.newSubscription).toBeUndefined();
    expect(result.plan.installmentChanges[0]!.add.map((i) => i.periodStart)).toEqual([
      '2026-12-15',
      '2027-01-15',
      '2027-02-15',
      '2027-03-15',
      '2027-04-15',
      '2027-05-15',
    ]);
  });

  it('an expired source (auto-renew off) is SOURCE_NOT_ACTIVE; with auto-renew it renews and is quoted at the renewal price', () => {
    const source = subscription({ unitPrice: 800, termStart: '2025-01-01', termEnd: '2025-12-31' });
    const expired = planOn('2026-01-10', { ...source, autoRenew: false });
    expect(expired.ok).toBe(false);
    if (!expired.ok) expect(expired.reasons.map((r) => r.code)).toEqual(['SOURCE_NOT_ACTIVE']);
    if (!expired.ok) expect(expired.reasons[0]!.message).toContain('term ended 2025-12-31 without auto-renew');

    const renewed = planOn('2026-01-10', source);
    if (!renewed.ok) throw new Error(JSON.stringify(renewed.reasons));
    // Renewed 2026-01-01 at the catalog's 1000; cycle 2026-01-01 – 2026-01-31, 22 of 31 days left.
    expect(renewed.plan.credit.lines[0]).toMatchObject({ unitPrice: 1000, days: 22, cycleDays: 31, amount: -proratedMagnitude(1000, 10, 22, 31) });
    expect(renewed.plan.sourceChange.set).toMatchObject({ termStart: '2026-01-10', termEnd: '2026-12-31' });
  });

  it('an expired subscription is never an eligible destination', () => {
    const source = subscription({ termStart: '2025-01-01', termEnd: '2025-12-31' });
    const destination = destinationSubscription({ termStart: '2025-01-05', termEnd: '2026-01-04', autoRenew: false });
    const result = planOn('2026-01-10', source, {
      request: { ...toNew, destination: { type: 'existing', subscriptionId: 'sub-dst' } },
      destination,
    });
    expect(!result.ok && result.reasons.map((r) => r.code)).toEqual(['DESTINATION_NOT_ACTIVE', 'DESTINATION_ENDS_EARLIER']);
  });

  it('an existing destination in another currency is CURRENCY_MISMATCH, and upgrade-options lists it with its reason', () => {
    const destination = destinationSubscription({ currency: 'EUR' });
    const result = planOn('2025-04-12', subscription(), {
      request: { ...toNew, destination: { type: 'existing', subscriptionId: 'sub-dst' } },
      destination,
    });
    expect(!result.ok && result.reasons.map((r) => r.code)).toEqual(['CURRENCY_MISMATCH']);
    const options = evaluateUpgradeOptions({
      source: subscription(),
      sourceAccount: account(),
      catalog: testCatalog(),
      now: at('2025-04-12'),
      accountSubscriptions: [subscription(), destination],
    });
    expect(options.targets[0]!.existingDestinations[0]!.verdict.reasons).toEqual([
      { code: 'CURRENCY_MISMATCH', message: expect.stringContaining('billed in EUR, the source in USD') },
    ]);
  });

  it('a new co-termed subscription starts its first cycle on the upgrade date and then follows the source', () => {
    const result = planOn('2025-04-12', subscription(), { request: { ...toNew, quantity: 4 } });
    if (!result.ok) throw new Error(JSON.stringify(result.reasons));
    const created = { ...result.plan.newSubscription!, id: 'sub-new', externalId: 'ext-new', purchasedAt: at('2025-04-12') };
    expect(cycleAt(created, '2025-04-20')).toMatchObject({ chargeStart: '2025-04-12', chargeEnd: '2025-04-30', cycleDays: 30 });
    expect(cycleAt(created, '2025-05-20')).toMatchObject({ chargeStart: '2025-05-01', chargeEnd: '2025-05-31' });
    // A later upgrade of it in its first cycle credits no more than its prorated first charge.
    const again = planUpgrade({
      request: { ...toNew, sourceSubscriptionId: 'sub-new', targetProductId: PREMIUM, quantity: 4 },
      source: created,
      sourceAccount: account(),
      catalog: testCatalog(),
      now: at('2025-04-12'),
    });
    if (!again.ok) throw new Error(JSON.stringify(again.reasons));
    expect(-again.plan.credit.lines[0]!.amount).toBe(result.plan.debit.lines[0]!.amount);
  });

  it('an in-place upgrade keeps the source anchor: the next upgrade in that cycle divides by the whole period', () => {
    const first = planOn('2025-04-12', subscription());
    if (!first.ok) throw new Error(JSON.stringify(first.reasons));
    const converted = { ...subscription(), ...first.plan.sourceChange.set } as Subscription;
    const second = planUpgrade({
      request: { ...toNew, targetProductId: PREMIUM },
      source: converted,
      sourceAccount: account(),
      catalog: testCatalog(),
      now: at('2025-04-20'),
    });
    if (!second.ok) throw new Error(JSON.stringify(second.reasons));
    expect(second.plan.credit.lines[0]).toMatchObject({ periodStart: '2025-04-20', periodEnd: '2025-04-30', days: 11, cycleDays: 30 });
  });
});

const COMBINATIONS = TERM_BILLING_COMBINATIONS;

/** Every term/billing combination priced, so that the "new" destination is plannable whatever the source. */
function catalogForAllTerms(): Catalog {
  const allTerms = (monthly: number) =>
    COMBINATIONS.map(([term, billingFrequency]) => ({
      term,
      billingFrequency,
      currency: 'USD',
      unitPrice: monthly * Math.min(TERM_MONTHS[term], billingFrequency === 'monthly' ? 1 : billingFrequency === 'annual' ? 12 : 36),
      unitCost: monthly,
    }));
  return new Catalog([
    product({ productId: BASIC, upgradePaths: [STANDARD], prices: [...allTerms(1000), ...prices(1000, 12000, 'EUR')] }),
    product({ productId: STANDARD, prices: allTerms(2000) }),
  ]);
}

describe('upgrade-options, quote and start over random subscriptions and dates (the functions the routes call)', () => {
  const catalog = catalogForAllTerms();
  const pad = (n: number) => String(n).padStart(2, '0');
  const arb = fc
    .record({
      year: fc.integer({ min: 2023, max: 2029 }),
      month: fc.integer({ min: 1, max: 12 }),
      day: fc.integer({ min: 1, max: 31 }),
      combination: fc.constantFrom(...COMBINATIONS),
      autoRenew: fc.boolean(),
      legacy: fc.boolean(),
      staleCycles: fc.integer({ min: -40, max: 40 }),
      offset: fc.integer({ min: -3 * 366, max: 3 * 366 }),
      quantity: fc.integer({ min: 1, max: 10 }),
      toExisting: fc.boolean(),
      destinationCurrency: fc.constantFrom('USD', 'EUR'),
    })
    .map((r) => {
      const [term, billingFrequency] = r.combination;
      const termStart = `${r.year}-${pad(r.month)}-${pad(Math.min(r.day, daysInMonth(r.year, r.month)))}`;
      const termEnd = addDays(addMonths(termStart, TERM_MONTHS[term]), -1);
      // Legacy: no anchor, a stored cycle any number of cycles away from today's (stale or even before the term).
      const stored = cycleAt({ term, billingFrequency, termStart, termEnd }, addMonths(termStart, Math.abs(r.staleCycles) % TERM_MONTHS[term]));
      const dated = {
        term,
        billingFrequency,
        termStart,
        termEnd,
        chargeStart: stored.chargeStart,
        chargeEnd: stored.chargeEnd,
        purchasedAt: at(termStart),
        cancellationWindowEndsAt: at(addDays(termStart, 7)),
        autoRenew: r.autoRenew,
      };
      const source = subscription({ ...dated, ...(r.legacy ? {} : { billingAnchorDate: termStart }) });
      const destination = destinationSubscription({ ...dated, currency: r.destinationCurrency });
      return { source, destination, date: addDays(termStart, r.offset), quantity: r.quantity, toExisting: r.toExisting };
    });

  it('never throw; an eligible plan prorates over the cycle that holds the date and adds no two currencies', () => {
    fc.assert(
      fc.property(arb, ({ source, destination, date, quantity, toExisting }) => {
        const now = at(date);
        const options = evaluateUpgradeOptions({ source, sourceAccount: account(), catalog, now, accountSubscriptions: [source, destination] });
        expect(options.targets).toHaveLength(1);
        const request = {
          ...toNew,
          quantity,
          destination: toExisting ? { type: 'existing' as const, subscriptionId: 'sub-dst' } : { type: 'new' as const },
        };
        const result = planUpgrade({ request, source, sourceAccount: account(), catalog, now, ...(toExisting ? { destination } : {}) });
        const onDate = subscriptionOn(source, date, { catalog, account: account() });
        if (!result.ok) {
          expect(result.reasons.length).toBeGreaterThan(0);
          return;
        }
        expect(onDate.status).toBe('active');
        const credit = result.plan.credit.lines[0]!;
        expect(isWithin(date, onDate.chargeStart, onDate.chargeEnd)).toBe(true);
        expect(credit).toMatchObject({ periodStart: date, periodEnd: onDate.chargeEnd, days: daysInclusive(date, onDate.chargeEnd) });
        expect(-credit.amount).toBeLessThanOrEqual(onDate.unitPrice * quantity);
        expect(result.plan.credit.currency).toBe(result.plan.debit.currency);
        for (const change of result.plan.installmentChanges) {
          for (const installment of change.add) expect(installment.periodStart > onDate.chargeEnd).toBe(true);
        }
      }),
      { numRuns: 600 },
    );
  });
});
