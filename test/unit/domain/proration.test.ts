import fc from 'fast-check';
import { addDays, daysInclusive } from '../../../src/domain/dates';
import {
  draftInvoice,
  futurePendingInstallments,
  proratedMagnitude,
  prorateLine,
  remainingInstallments,
  remainingPeriod,
  taxOn,
} from '../../../src/domain/proration';
import { subscription } from './fixtures';

const line = (kind: 'credit' | 'debit', unitPrice: number, quantity: number, upgradeDate: string, chargeStart: string, chargeEnd: string) =>
  prorateLine(kind, { productId: 'P', unitPrice, quantity, upgradeDate, chargeStart, chargeEnd });

describe('worked examples (docs/proration.md)', () => {
  it('1. full upgrade to new, EUR, 300 seats, 23 of 30 days', () => {
    const credit = line('credit', 1008, 300, '2021-06-25', '2021-06-18', '2021-07-17');
    const debit = line('debit', 643, 300, '2021-06-25', '2021-06-18', '2021-07-17');
    expect(credit).toMatchObject({ amount: -231840, days: 23, cycleDays: 30, periodStart: '2021-06-25', periodEnd: '2021-07-17', quantity: 300 });
    expect(debit).toMatchObject({ amount: 147890, days: 23, cycleDays: 30 });
    expect(credit.amount + debit.amount).toBe(-83950);
  });

  it('2. upgrade on the first day credits 100 %', () => {
    const credit = line('credit', 1250, 5, '2025-04-10', '2025-04-10', '2025-05-09');
    const debit = line('debit', 2200, 5, '2025-04-10', '2025-04-10', '2025-05-09');
    expect(credit).toMatchObject({ amount: -6250, days: 30, cycleDays: 30 });
    expect(debit).toMatchObject({ amount: 11000, days: 30, cycleDays: 30 });
    expect(credit.amount + debit.amount).toBe(4750);
  });

  it('3. partial into an existing subscription with another cycle', () => {
    const credit = line('credit', 1000, 4, '2025-04-12', '2025-03-25', '2025-04-24');
    const debit = line('debit', 2000, 4, '2025-04-12', '2025-04-05', '2025-05-04');
    expect(credit).toMatchObject({ amount: -1677, days: 13, cycleDays: 31 });
    expect(debit).toMatchObject({ amount: 6133, days: 23, cycleDays: 30 });
    expect(credit.amount + debit.amount).toBe(4456);
  });
});

describe('edge cases', () => {
  it('leap February: 29-day cycle', () => {
    expect(line('credit', 2900, 1, '2024-02-15', '2024-02-01', '2024-02-29')).toMatchObject({ amount: -1500, days: 15, cycleDays: 29 });
    expect(line('credit', 2800, 1, '2025-02-15', '2025-02-01', '2025-02-28')).toMatchObject({ amount: -1400, days: 14, cycleDays: 28 });
  });

  it('31-day month', () => {
    expect(line('credit', 3100, 1, '2025-01-31', '2025-01-01', '2025-01-31')).toMatchObject({ amount: -100, days: 1, cycleDays: 31 });
  });

  it('month-end anchored cycle (Jan 31 → Feb 28)', () => {
    expect(line('debit', 1000, 3, '2025-02-14', '2025-01-31', '2025-02-27')).toMatchObject({ days: 14, cycleDays: 28, amount: 1500 });
  });

  it('upgrade on the last day of the cycle: 1 day', () => {
    expect(line('credit', 3000, 2, '2025-04-30', '2025-04-01', '2025-04-30')).toMatchObject({ amount: -200, days: 1, cycleDays: 30 });
  });

  it('annual prepaid across 29 February: 366-day cycle', () => {
    // 12000 × 10 × 183 / 366 = 60000 exactly
    expect(line('credit', 12000, 10, '2024-07-16', '2024-01-15', '2025-01-14')).toMatchObject({ amount: -60000, days: 183, cycleDays: 366 });
    // 184 days: 12000×10×184/366 = 60327.86… → 60328
    expect(line('credit', 12000, 10, '2024-07-15', '2024-01-15', '2025-01-14')).toMatchObject({ amount: -60328, days: 184 });
    // the same dates a year later have a 365-day cycle
    expect(line('credit', 12000, 10, '2025-07-16', '2025-01-15', '2026-01-14')).toMatchObject({ days: 183, cycleDays: 365, amount: -60164 });
  });

  it('JPY (exponent 0) and KWD (exponent 3) need no special case: integers in minor units', () => {
    expect(line('credit', 1250, 3, '2025-04-20', '2025-04-01', '2025-04-30')).toMatchObject({ amount: -1375, days: 11 }); // 1375.0
    expect(line('debit', 7, 1, '2025-04-30', '2025-04-01', '2025-04-30').amount).toBe(0); // 0.233 → 0 yen
    expect(line('debit', 4500, 1, '2025-04-16', '2025-04-01', '2025-04-30').amount).toBe(2250); // KWD 2.250
  });

  it('half-even on exact halves: 1 × 15 days of a 30-day cycle at 5 → 2.5 → 2; at 7 → 3.5 → 4', () => {
    expect(proratedMagnitude(5, 1, 15, 30)).toBe(2);
    expect(proratedMagnitude(7, 1, 15, 30)).toBe(4);
  });

  it('zero-price source still writes a 0 credit (not -0)', () => {
    const credit = line('credit', 0, 5, '2025-04-12', '2025-04-01', '2025-04-30');
    expect(credit.amount).toBe(0);
    expect(Object.is(credit.amount, -0)).toBe(false);
  });

  it('refuses an upgrade date outside the cycle', () => {
    expect(() => remainingPeriod('2025-05-01', { chargeStart: '2025-04-01', chargeEnd: '2025-04-30' })).toThrow('outside the charge cycle');
    expect(() => remainingPeriod('2025-03-31', { chargeStart: '2025-04-01', chargeEnd: '2025-04-30' })).toThrow();
  });
});

describe('invoices and tax', () => {
  it('tax is computed on the rounded subtotal, half-even, with its sign', () => {
    const debit = draftInvoice('debit', 'EUR', [line('debit', 643, 300, '2021-06-25', '2021-06-18', '2021-07-17')], 1900);
    expect(debit).toMatchObject({ subtotal: 147890, tax: 28099, total: 175989 });
    const credit = draftInvoice('credit', 'EUR', [line('credit', 1008, 300, '2021-06-25', '2021-06-18', '2021-07-17')], 1900);
    expect(credit).toMatchObject({ subtotal: -231840, tax: -44050, total: -275890 }); // 44049.6 → 44050
    expect(taxOn(250, 1000)).toBe(25);
    expect(taxOn(25, 2000)).toBe(5);
    expect(taxOn(5, 5000)).toBe(2); // 2.5 → 2
  });
});

describe('installment schedules', () => {
  it('upgrade in month 3 of 12: the current cycle is prorated and 9 installments follow (10 in all)', () => {
    const schedule = remainingInstallments({ currentChargeEnd: '2025-03-31', termEnd: '2025-12-31', billingFrequency: 'monthly', unitPrice: 735, quantity: 4 });
    expect(schedule).toHaveLength(9);
    expect(schedule[0]).toEqual({ periodStart: '2025-04-01', periodEnd: '2025-04-30', amount: 2940, quantity: 4 });
    expect(schedule[8]).toEqual({ periodStart: '2025-12-01', periodEnd: '2025-12-31', amount: 2940, quantity: 4 });
  });

  it('anchors on the renewal date so month-end terms do not drift (term from Jan 31)', () => {
    const schedule = remainingInstallments({ currentChargeEnd: '2025-02-27', termEnd: '2026-01-30', billingFrequency: 'monthly', unitPrice: 100, quantity: 1 });
    expect(schedule.map((i) => i.periodStart).slice(0, 3)).toEqual(['2025-02-28', '2025-03-31', '2025-04-30']);
    expect(schedule.map((i) => i.periodEnd).slice(0, 2)).toEqual(['2025-03-30', '2025-04-29']);
    expect(schedule.at(-1)).toMatchObject({ periodStart: '2025-12-31', periodEnd: '2026-01-30' });
    // contiguous, no gaps or overlaps
    schedule.slice(1).forEach((installment, i) => expect(installment.periodStart).toBe(addDays(schedule[i]!.periodEnd, 1)));
  });

  it('P3Y billed annually leaves the remaining yearly installments', () => {
    const schedule = remainingInstallments({
      currentChargeEnd: '2025-12-31',
      termEnd: '2027-12-31',
      billingFrequency: 'annual',
      unitPrice: 46800,
      quantity: 2,
    });
    expect(schedule).toEqual([
      { periodStart: '2026-01-01', periodEnd: '2026-12-31', amount: 93600, quantity: 2 },
      { periodStart: '2027-01-01', periodEnd: '2027-12-31', amount: 93600, quantity: 2 },
    ]);
  });

  it('no installments left in the last cycle', () => {
    expect(remainingInstallments({ currentChargeEnd: '2025-12-31', termEnd: '2025-12-31', billingFrequency: 'monthly', unitPrice: 1, quantity: 1 })).toEqual(
      [],
    );
  });

  it('futurePendingInstallments picks only pending installments after the current cycle', () => {
    const sub = subscription({
      installmentPlan: {
        installments: [
          { periodStart: '2025-04-01', periodEnd: '2025-04-30', amount: 1, quantity: 1, status: 'invoiced' },
          { periodStart: '2025-04-01', periodEnd: '2025-04-30', amount: 1, quantity: 1, status: 'pending' },
          { periodStart: '2025-05-01', periodEnd: '2025-05-31', amount: 1, quantity: 1, status: 'pending' },
          { periodStart: '2025-06-01', periodEnd: '2025-06-30', amount: 1, quantity: 1, status: 'cancelled' },
        ],
      },
    });
    expect(futurePendingInstallments(sub).map((i) => i.periodStart)).toEqual(['2025-05-01']);
  });
});

/** A cycle of 1..400 days starting somewhere in 2020..2030 and an upgrade date inside it. */
const cycleWithUpgrade = fc
  .record({ startOffset: fc.integer({ min: 0, max: 3650 }), length: fc.integer({ min: 1, max: 400 }), at: fc.nat() })
  .map(({ startOffset, length, at }) => {
    const chargeStart = addDays('2020-01-01', startOffset);
    const chargeEnd = addDays(chargeStart, length - 1);
    return { chargeStart, chargeEnd, upgradeDate: addDays(chargeStart, at % length), length };
  });
const price = fc.integer({ min: 0, max: 10_000_000 });
const seats = fc.integer({ min: 1, max: 100_000 });

describe('invariants of docs/proration.md (properties)', () => {
  it('upgrade on day 1 ⇒ |credit| = price × n', () => {
    fc.assert(
      fc.property(cycleWithUpgrade, price, seats, ({ chargeStart, chargeEnd }, unitPrice, n) => {
        expect(prorateLine('credit', { productId: 'P', unitPrice, quantity: n, upgradeDate: chargeStart, chargeStart, chargeEnd }).amount).toBe(
          -(unitPrice * n) || 0,
        );
      }),
      { numRuns: 200 },
    );
  });

  it('same price and same cycle ⇒ credit + debit = 0', () => {
    fc.assert(
      fc.property(cycleWithUpgrade, price, seats, (cycle, unitPrice, n) => {
        const input = { productId: 'P', unitPrice, quantity: n, ...cycle };
        expect(prorateLine('credit', input).amount + prorateLine('debit', input).amount).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  it('|credit| ≤ billed and never grows as the upgrade date moves later', () => {
    fc.assert(
      fc.property(cycleWithUpgrade, price, seats, ({ chargeStart, chargeEnd, upgradeDate }, unitPrice, n) => {
        const credit = (date: string) => -prorateLine('credit', { productId: 'P', unitPrice, quantity: n, upgradeDate: date, chargeStart, chargeEnd }).amount;
        const here = credit(upgradeDate);
        expect(here).toBeLessThanOrEqual(unitPrice * n);
        expect(here).toBeGreaterThanOrEqual(0);
        if (upgradeDate < chargeEnd) expect(credit(addDays(upgradeDate, 1))).toBeLessThanOrEqual(here);
      }),
      { numRuns: 200 },
    );
  });

  it('days and cycleDays are consistent with the cycle', () => {
    fc.assert(
      fc.property(cycleWithUpgrade, ({ chargeStart, chargeEnd, upgradeDate, length }) => {
        const period = remainingPeriod(upgradeDate, { chargeStart, chargeEnd });
        expect(period.cycleDays).toBe(length);
        expect(period.days).toBe(daysInclusive(upgradeDate, chargeEnd));
        expect(period.days).toBeGreaterThanOrEqual(1);
        expect(period.days).toBeLessThanOrEqual(period.cycleDays);
      }),
      { numRuns: 200 },
    );
  });

  it('is a pure function of its inputs (same input twice ⇒ same output, input untouched)', () => {
    fc.assert(
      fc.property(cycleWithUpgrade, price, seats, (cycle, unitPrice, n) => {
        const input = Object.freeze({ productId: 'P', unitPrice, quantity: n, ...cycle });
        expect(prorateLine('debit', input)).toEqual(prorateLine('debit', input));
      }),
      { numRuns: 100 },
    );
  });
});
