import fc from 'fast-check';
import { Catalog } from '../../../src/domain/catalog';
import { planUpgrade } from '../../../src/domain/upgrade-plan';
import type { Subscription } from '../../../src/domain/types';
import { account, BASIC, destinationSubscription, eligiblePlan as plan, planInput as input, product, STANDARD, subscription, testCatalog } from './fixtures';

const toExisting = { destination: { type: 'existing' as const, subscriptionId: 'sub-dst' } };

describe('full → new (converted in place)', () => {
  const p = plan();

  it('switches the product on the same subscription, renews prices, keeps the end date and the cycle', () => {
    expect(p).toMatchObject({ kind: 'full', destinationType: 'new', upgradeDate: '2025-04-12', quantity: 10, destinationSubscriptionId: 'sub-src' });
    expect(p.sourceChange).toEqual({
      subscriptionId: 'sub-src',
      // The anchor is written so the cycles stay the source's; the cycle shown starts on the new term start.
      set: {
        productId: STANDARD,
        termStart: '2025-04-12',
        termEnd: '2025-12-31',
        billingAnchorDate: '2025-01-01',
        chargeStart: '2025-04-12',
        chargeEnd: '2025-04-30',
        unitPrice: 2000,
        protectedPrice: { unitPrice: 2000, until: '2025-12-31' },
      },
      unset: [],
      before: {
        productId: BASIC,
        termStart: '2025-01-01',
        termEnd: '2025-12-31',
        billingAnchorDate: '2025-01-01',
        chargeStart: '2025-04-01',
        chargeEnd: '2025-04-30',
        unitPrice: 1000,
      },
    });
    expect(p.destinationChange).toBeUndefined();
    expect(p.newSubscription).toBeUndefined();
  });

  it('credits and debits the rest of the source cycle (19 of 30 days)', () => {
    expect(p.credit.lines).toEqual([
      {
        kind: 'credit',
        productId: BASIC,
        subscriptionId: 'sub-src',
        periodStart: '2025-04-12',
        periodEnd: '2025-04-30',
        days: 19,
        cycleDays: 30,
        quantity: 10,
        unitPrice: 1000,
        amount: -6333,
      },
    ]);
    expect(p.debit.lines).toEqual([
      {
        kind: 'debit',
        productId: STANDARD,
        subscriptionId: 'sub-src',
        periodStart: '2025-04-12',
        periodEnd: '2025-04-30',
        days: 19,
        cycleDays: 30,
        quantity: 10,
        unitPrice: 2000,
        amount: 12667,
      },
    ]);
  });

  it('asks the vendor to convert with licence transfer; seats move automatically', () => {
    expect(p.accountId).toBe('acc-1');
    expect(p.vendor).toEqual({
      customerTenantId: 'tenant-1',
      chargeType: 'convert',
      transitionType: 'transition_with_license_transfer',
      fromCatalogItemId: BASIC,
      toCatalogItemId: STANDARD,
      fromSubscriptionId: 'ext-src',
      quantity: 10,
      termDuration: 'P1Y',
      billingCycle: 'monthly',
    });
    expect(p.seatReassignment.mode).toBe('automatic');
  });

  it('replaces the future installments with 8 at the new price (May..Dec)', () => {
    expect(p.installmentChanges).toHaveLength(1);
    const change = p.installmentChanges[0]!;
    expect(change.subscriptionId).toBe('sub-src');
    expect(change.add).toHaveLength(8);
    expect(change.add[0]).toEqual({ periodStart: '2025-05-01', periodEnd: '2025-05-31', amount: 20000, quantity: 10, status: 'pending' });
  });

  it('is manual when the account holds another subscription of the source SKU', () => {
    const twin = subscription({ id: 'sub-twin' });
    const withTwin = plan({}, { accountSubscriptions: [subscription(), twin] });
    expect(withTwin.seatReassignment).toEqual({ mode: 'manual', reason: expect.stringContaining('1 other subscription(s) of Business Basic') });
    expect(withTwin.vendor.transitionType).toBe('transition_only');
    // a cancelled twin does not count
    expect(plan({}, { accountSubscriptions: [{ ...twin, status: 'cancelled' }] }).seatReassignment.mode).toBe('automatic');
  });
});

describe('partial → new (co-termed new subscription)', () => {
  const p = plan({ quantity: 4 });

  it('reduces the source and creates a co-termed subscription for the moved seats', () => {
    expect(p.kind).toBe('partial');
    expect(p.sourceChange).toEqual({ subscriptionId: 'sub-src', set: { quantity: 6 }, unset: [], before: { quantity: 10 } });
    expect(p.newSubscription).toMatchObject({
      accountId: 'acc-1',
      productId: STANDARD,
      quantity: 4,
      status: 'active',
      isTrial: false,
      term: 'P1Y',
      billingFrequency: 'monthly',
      termStart: '2025-04-12',
      termEnd: '2025-12-31',
      // Co-termed: the source's anchor, a first cycle from the upgrade date to the end of the source's cycle.
      billingAnchorDate: '2025-01-01',
      chargeStart: '2025-04-12',
      chargeEnd: '2025-04-30',
      cancellationWindowEndsAt: '2025-01-08T10:00:00Z',
      unitPrice: 2000,
      currency: 'USD',
      partnerId: 'MPN-1',
      protectedPrice: { unitPrice: 2000, until: '2025-12-31' },
    });
    expect(p.newSubscription?.installmentPlan?.installments).toHaveLength(8);
    expect(p.destinationSubscriptionId).toBeUndefined();
  });

  it('debit has no subscription id yet (the vendor returns it); seats are reassigned by hand', () => {
    expect(p.debit.lines[0]).not.toHaveProperty('subscriptionId');
    expect(p.debit.lines[0]).toMatchObject({ amount: 5067, quantity: 4 }); // 2000×4×19/30 = 5066.67
    expect(p.credit.lines[0]).toMatchObject({ amount: -2533, quantity: 4 }); // 1000×4×19/30 = 2533.33
    expect(p.vendor).toMatchObject({ chargeType: 'convert', transitionType: 'transition_only' });
    expect(p.seatReassignment.mode).toBe('manual');
  });

  it("re-issues the source's future installments for the 6 remaining seats", () => {
    const pending = { periodStart: '2025-05-01', periodEnd: '2025-05-31', amount: 10000, quantity: 10, status: 'pending' as const };
    const source = subscription({
      installmentPlan: { installments: [{ ...pending, periodStart: '2025-04-01', periodEnd: '2025-04-30', status: 'invoiced' }, pending] },
    });
    const withPlan = plan({ quantity: 4 }, { source });
    expect(withPlan.installmentChanges).toEqual([
      { subscriptionId: 'sub-src', cancel: [pending], add: expect.arrayContaining([{ ...pending, amount: 6000, quantity: 6 }]) },
    ]);
    expect(withPlan.installmentChanges[0]!.add).toHaveLength(8);
  });
});

describe('full → existing', () => {
  const p = plan(toExisting);

  it('cancels the source and adds the seats to the destination, which keeps its own price and dates', () => {
    expect(p).toMatchObject({ kind: 'full', destinationType: 'existing', destinationSubscriptionId: 'sub-dst' });
    expect(p.sourceChange).toEqual({
      subscriptionId: 'sub-src',
      set: { status: 'cancelled', quantity: 0 },
      unset: [],
      before: { status: 'active', quantity: 10 },
    });
    expect(p.destinationChange).toEqual({ subscriptionId: 'sub-dst', set: { quantity: 15 }, unset: [], before: { quantity: 5 } });
  });

  it("debits on the destination's own cycle at its locked price", () => {
    expect(p.debit.lines[0]).toMatchObject({
      subscriptionId: 'sub-dst',
      periodStart: '2025-04-12',
      periodEnd: '2025-05-04',
      days: 23,
      cycleDays: 30,
      unitPrice: 2000,
      amount: 15333,
    });
    expect(p.vendor).toMatchObject({ chargeType: 'moveQuantity', toSubscriptionId: 'ext-dst', transitionType: 'transition_with_license_transfer' });
    expect(p.seatReassignment.mode).toBe('automatic');
  });

  it('cancels all source installments and schedules the destination installments for the moved seats', () => {
    const changes = p.installmentChanges;
    expect(changes.map((c) => c.subscriptionId)).toEqual(['sub-src', 'sub-dst']);
    expect(changes[0]!.add).toEqual([]);
    expect(changes[1]!.add[0]).toEqual({ periodStart: '2025-05-05', periodEnd: '2025-06-04', amount: 20000, quantity: 10, status: 'pending' });
    expect(changes[1]!.add.at(-1)).toMatchObject({ periodStart: '2025-12-05', periodEnd: '2026-01-04' });
  });
});

describe('partial → existing (docs/proration.md, worked example 3)', () => {
  const source = subscription({ chargeStart: '2025-03-25', chargeEnd: '2025-04-24', termStart: '2024-12-25', termEnd: '2025-12-24' });
  const destination = destinationSubscription({ termEnd: '2026-01-04' });
  const p = plan({ ...toExisting, quantity: 4 }, { source, destination, sourceAccount: account({ taxRateBasisPoints: 2000 }) });

  it('credit −1677 on 13/31 days, debit 6133 on the destination’s 23/30 days', () => {
    expect(p.credit.lines[0]).toMatchObject({ amount: -1677, days: 13, cycleDays: 31 });
    expect(p.debit.lines[0]).toMatchObject({ amount: 6133, days: 23, cycleDays: 30 });
    expect(p.credit).toMatchObject({ subtotal: -1677, tax: -335, total: -2012 }); // 335.4
    expect(p.debit).toMatchObject({ subtotal: 6133, tax: 1227, total: 7360 }); // 1226.6
    expect(p.quote).toEqual({ currency: 'USD', totalFees: 7360, taxTotal: 1227, refund: -2012, total: 5348 });
  });

  it('moves quantity, keeps the source active, reassignment is manual', () => {
    expect(p.sourceChange.set).toEqual({ quantity: 6 });
    expect(p.destinationChange?.set).toEqual({ quantity: 9 });
    expect(p.vendor).toMatchObject({ chargeType: 'moveQuantity', transitionType: 'transition_only', quantity: 4 });
    expect(p.seatReassignment.mode).toBe('manual');
  });
});

describe('pricing of the new seats', () => {
  it('docs/proration.md worked example 1 through the planner, with 19 % tax and the portal quote', () => {
    const catalog = new Catalog([
      product({ productId: BASIC, upgradePaths: [STANDARD] }),
      product({
        productId: STANDARD,
        name: 'Business Standard',
        prices: [{ term: 'P1M', billingFrequency: 'monthly', currency: 'EUR', unitPrice: 643, unitCost: 600 }],
      }),
    ]);
    const source = subscription({
      quantity: 300,
      unitPrice: 1008,
      currency: 'EUR',
      term: 'P1M',
      billingFrequency: 'monthly',
      chargeStart: '2021-06-18',
      chargeEnd: '2021-07-17',
      termStart: '2021-06-18',
      termEnd: '2021-07-17',
      purchasedAt: '2021-06-18T08:00:00Z',
      cancellationWindowEndsAt: '2021-06-25T08:00:00Z',
    });
    const p = plan({ quantity: 300 }, { source, catalog, now: '2021-06-25T12:00:00Z', sourceAccount: account({ currency: 'EUR', taxRateBasisPoints: 1900 }) });
    expect(p.credit).toMatchObject({ currency: 'EUR', subtotal: -231840, tax: -44050, total: -275890 });
    expect(p.debit).toMatchObject({ currency: 'EUR', subtotal: 147890, tax: 28099, total: 175989 });
    expect(p.quote).toEqual({ currency: 'EUR', totalFees: 175989, taxTotal: 28099, refund: -275890, total: -99901 });
    expect(p.installmentChanges).toEqual([]); // P1M has no installments
    expect(p.summary).toBe(
      'full upgrade of 300/300 seats of sub-src from BASIC to Business Standard (in place) on 2021-06-25: credit EUR -2,758.90, debit EUR 1,759.89',
    );
  });

  it('end customers of standard resellers: markup on the list price, no tax', () => {
    const endCustomer = account({ role: 'end_customer', partnerId: undefined, taxRateBasisPoints: 1900, markupBasisPoints: 1250 });
    const p = plan({}, { sourceAccount: endCustomer });
    expect(p.debit.lines[0]).toMatchObject({ unitPrice: 2250, amount: 14250 }); // 2000 × 1.125; 2250×10×19/30
    expect(p.debit.tax).toBe(0);
    expect(p.credit.tax).toBe(0);
    expect(p.sourceChange.set.unitPrice).toBe(2250);
  });

  it('end customers: a special price wins over the markup', () => {
    const endCustomer = account({
      role: 'end_customer',
      markupBasisPoints: 1250,
      specialPrices: [{ productId: STANDARD, term: 'P1Y', billingFrequency: 'monthly', unitPrice: 1800 }],
    });
    expect(plan({}, { sourceAccount: endCustomer }).debit.lines[0]?.unitPrice).toBe(1800);
  });

  it("drops the source's promotion and applies the target's active one", () => {
    const promotion = { promotionId: 'PROMO-25', description: '25 % off', discountBasisPoints: 2500, validFrom: '2025-04-01', validTo: '2025-04-12' };
    const source = subscription({ promotionId: 'OLD-PROMO' });
    const p = plan({}, { source, catalog: testCatalog({ [STANDARD]: { promotion } }) });
    expect(p.sourceChange.set).toMatchObject({ unitPrice: 1500, promotionId: 'PROMO-25' });
    expect(p.vendor.promotionId).toBe('PROMO-25');

    const expired = plan({}, { source, catalog: testCatalog({ [STANDARD]: { promotion: { ...promotion, validTo: '2025-04-11' } } }) });
    expect(expired.sourceChange.set.unitPrice).toBe(2000);
    expect(expired.sourceChange.set).not.toHaveProperty('promotionId');
    expect(expired.sourceChange.unset).toEqual(['promotionId']);
    expect(expired.sourceChange.before.promotionId).toBe('OLD-PROMO');
  });

  it('a zero-price source still gets a 0 credit line', () => {
    const p = plan({}, { source: subscription({ unitPrice: 0 }) });
    expect(p.credit.lines).toHaveLength(1);
    expect(p.credit.lines[0]?.amount).toBe(0);
    expect(p.credit.total).toBe(0);
  });

  it('upgrade on the first and on the last day of the cycle', () => {
    expect(plan({}, { now: '2025-04-01T00:00:00Z' }).credit.lines[0]).toMatchObject({ days: 30, amount: -10000 });
    expect(plan({}, { now: '2025-04-30T23:59:59Z' }).credit.lines[0]).toMatchObject({ days: 1, amount: -333 });
  });

  it('JPY and KWD sources', () => {
    const jpy = plan({}, { source: subscription({ currency: 'JPY', unitPrice: 100 }) });
    expect(jpy.debit.lines[0]).toMatchObject({ unitPrice: 250, amount: 1583 }); // 250×10×19/30 = 1583.3
    expect(jpy.summary).toContain('debit JPY 1,583');
    const kwd = plan({}, { source: subscription({ currency: 'KWD', unitPrice: 1000 }) });
    expect(kwd.summary).toContain('credit KWD -6.333');
  });
});

describe('ineligible requests', () => {
  it('return every reason instead of a plan', () => {
    const result = planUpgrade(input({ quantity: 11 }, { source: subscription({ status: 'suspended' }) }));
    expect(result).toEqual({
      ok: false,
      reasons: [expect.objectContaining({ code: 'SOURCE_NOT_ACTIVE' }), expect.objectContaining({ code: 'QUANTITY_INVALID' })],
    });
  });

  it('an unknown existing destination is DESTINATION_NOT_FOUND', () => {
    const result = planUpgrade(input(toExisting, { destination: undefined }));
    expect(result.ok === false && result.reasons.map((r) => r.code)).toEqual(['DESTINATION_NOT_FOUND']);
  });

  it('inconsistent inputs are programming errors', () => {
    expect(() => planUpgrade(input({ sourceSubscriptionId: 'other' }))).toThrow('request is for subscription other');
    expect(() => planUpgrade(input(toExisting, { destination: destinationSubscription({ id: 'x' }) }))).toThrow('names destination sub-dst');
  });
});

describe('seat conservation (property over every kind of plan)', () => {
  it('seats leaving the source equal seats arriving, and every line moves exactly n seats', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 50 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 29 }),
        (sourceQuantity, rawN, existing, dayOffset) => {
          const n = ((rawN - 1) % sourceQuantity) + 1;
          const day = String(dayOffset + 1).padStart(2, '0');
          const source: Subscription = subscription({ quantity: sourceQuantity });
          const p = plan(
            { quantity: n, ...(existing ? toExisting : {}) },
            {
              source,
              now: `2025-04-${day}T12:00:00Z`,
              destination: destinationSubscription({ billingFrequency: 'annual', chargeStart: '2025-01-05', chargeEnd: '2026-01-04', unitPrice: 24000 }),
            },
          );
          expect(p.seatConservation).toEqual({ leavingSource: n, arrivingAtDestination: n });
          expect(p.kind).toBe(n === sourceQuantity ? 'full' : 'partial');
          expect([...p.credit.lines, ...p.debit.lines].every((l) => l.quantity === n)).toBe(true);
          const sourceAfter = p.sourceChange.set.quantity ?? sourceQuantity;
          const arriving =
            p.newSubscription?.quantity ?? (p.destinationChange ? p.destinationChange.set.quantity! - p.destinationChange.before.quantity! : sourceAfter);
          expect(arriving).toBe(n);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('purity', () => {
  it('same inputs ⇒ same plan, and the inputs are not mutated', () => {
    const deepFreeze = <T>(value: T): T => {
      if (value && typeof value === 'object') {
        Object.values(value).forEach(deepFreeze);
        Object.freeze(value);
      }
      return value;
    };
    const source = deepFreeze(
      subscription({ installmentPlan: { installments: [{ periodStart: '2025-05-01', periodEnd: '2025-05-31', amount: 1, quantity: 10, status: 'pending' }] } }),
    );
    const frozen = deepFreeze(input({ quantity: 4, ...toExisting }, { source, destination: deepFreeze(destinationSubscription()) }));
    expect(planUpgrade(frozen)).toEqual(planUpgrade(frozen));
  });
});
