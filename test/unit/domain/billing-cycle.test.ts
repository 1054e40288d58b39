import fc from 'fast-check';
import { billingAnchorOf, cycleAt, termAt, type CycleSubject } from '../../../src/domain/billing-cycle';
import { TERM_MONTHS } from '../../../src/domain/catalog';
import { addDays, addMonths, daysInclusive, daysInMonth, isWithin, type IsoDate } from '../../../src/domain/dates';
import { prorateLine } from '../../../src/domain/proration';
import { projectSubscription } from '../../../src/domain/subscription-on-date';
import { account, BASIC, subscription, TERM_BILLING_COMBINATIONS, testCatalog } from './fixtures';

const COMBINATIONS = TERM_BILLING_COMBINATIONS;

const pad = (n: number) => String(n).padStart(2, '0');

/** A calendar date whose day of month is `day` when the month has it (29–31 land in months that have them). */
const dateArb = fc
  .record({ year: fc.integer({ min: 2023, max: 2030 }), month: fc.integer({ min: 1, max: 12 }), day: fc.integer({ min: 1, max: 31 }) })
  .map(({ year, month, day }) => `${year}-${pad(month)}-${pad(Math.min(day, daysInMonth(year, month)))}`);

type Shape = 'fresh' | 'coTermed' | 'legacy';

/** Subscriptions of every shape: bought on the anchor, co-termed with an older source, or stored before the anchor. */
const subjectArb = fc
  .record({
    anchor: dateArb,
    combination: fc.constantFrom(...COMBINATIONS),
    autoRenew: fc.boolean(),
    shape: fc.constantFrom<Shape>('fresh', 'coTermed', 'legacy'),
    startOffset: fc.integer({ min: 0, max: 1000 }),
  })
  .map(({ anchor, combination: [term, billingFrequency], autoRenew, shape, startOffset }): CycleSubject => {
    const termEnd = addDays(addMonths(anchor, TERM_MONTHS[term]), -1);
    if (shape === 'fresh') return { term, billingFrequency, termStart: anchor, termEnd, billingAnchorDate: anchor, autoRenew };
    // Co-termed: the term starts inside the source's term (the upgrade date) and keeps its anchor and end.
    const termStart = addDays(anchor, startOffset % daysInclusive(anchor, termEnd));
    if (shape === 'coTermed') return { term, billingFrequency, termStart, termEnd, billingAnchorDate: anchor, autoRenew };
    // Stored before the anchor existed: the cycle that held the term start was stored, no anchor.
    const stored = cycleAt({ term, billingFrequency, termStart, termEnd, billingAnchorDate: anchor }, termStart);
    return { term, billingFrequency, termStart, termEnd, chargeStart: stored.chargeStart, chargeEnd: stored.chargeEnd, ...(autoRenew ? {} : { autoRenew }) };
  });

const subjectAndDateArb = subjectArb.chain((subject) =>
  fc.integer({ min: -3 * 366, max: 3 * 366 }).map((offset) => ({ subject, date: addDays(subject.termStart, offset) })),
);

describe('cycleAt: examples', () => {
  const monthly = (termStart: IsoDate, extra: Partial<CycleSubject> = {}): CycleSubject => ({
    term: 'P1Y',
    billingFrequency: 'monthly',
    termStart,
    termEnd: addDays(addMonths(termStart, 12), -1),
    ...extra,
  });

  it('the reproduction: a stored cycle that has ended moves on to the cycle holding the date', () => {
    const subject = monthly('2026-06-15', { chargeStart: '2026-09-15', chargeEnd: '2026-10-14' });
    expect(cycleAt(subject, '2026-12-01')).toMatchObject({ chargeStart: '2026-11-15', chargeEnd: '2026-12-14', cycleDays: 30 });
    expect(cycleAt(subject, '2027-06-14')).toMatchObject({ chargeStart: '2027-05-15', chargeEnd: '2027-06-14' });
  });

  it('an anchor on the 31st falls on the last day of a short month and comes back the month after', () => {
    const subject = monthly('2025-01-31');
    const starts = [0, 1, 2, 3, 4].map((k) => cycleAt(subject, addMonths('2025-01-31', k)).chargeStart);
    expect(starts).toEqual(['2025-01-31', '2025-02-28', '2025-03-31', '2025-04-30', '2025-05-31']);
    expect(cycleAt(subject, '2025-02-28')).toMatchObject({ chargeEnd: '2025-03-30', cycleDays: 31 });
  });

  it('an anchor on 29 February comes back on the 29th in the months that have it', () => {
    const subject = monthly('2024-02-29');
    expect(cycleAt(subject, '2024-03-29')).toMatchObject({ chargeStart: '2024-03-29', chargeEnd: '2024-04-28' });
    expect(cycleAt(subject, '2025-02-27')).toMatchObject({ chargeStart: '2025-01-29', chargeEnd: '2025-02-27' });
  });

  it('annual billing of a P3Y term: yearly cycles from the anchor', () => {
    const subject: CycleSubject = { term: 'P3Y', billingFrequency: 'annual', termStart: '2024-03-10', termEnd: '2027-03-09' };
    expect(cycleAt(subject, '2025-07-01')).toMatchObject({ chargeStart: '2025-03-10', chargeEnd: '2026-03-09', cycleDays: 365 });
  });

  it('whole-term billing: one cycle = the term; a P1M term is one cycle', () => {
    const prepaid: CycleSubject = { term: 'P1Y', billingFrequency: 'annual', termStart: '2024-01-15', termEnd: '2025-01-14' };
    expect(cycleAt(prepaid, '2024-08-01')).toMatchObject({ chargeStart: '2024-01-15', chargeEnd: '2025-01-14', cycleDays: 366 });
    const p1m: CycleSubject = { term: 'P1M', billingFrequency: 'monthly', termStart: '2025-01-31', termEnd: '2025-02-27' };
    expect(cycleAt(p1m, '2025-02-10')).toMatchObject({ chargeStart: '2025-01-31', chargeEnd: '2025-02-27', cycleDays: 28 });
    // Renewed P1M terms come back to the 31st.
    expect(cycleAt(p1m, '2025-03-31')).toMatchObject({ chargeStart: '2025-03-31', chargeEnd: '2025-04-29', term: { renewals: 2 } });
  });

  it('a co-termed subscription starts its first cycle on its term start and divides by the source period', () => {
    const subject = monthly('2026-03-20', { billingAnchorDate: '2026-01-10', termEnd: '2027-01-09' });
    expect(cycleAt(subject, '2026-03-25')).toMatchObject({ chargeStart: '2026-03-20', chargeEnd: '2026-04-09', cycleDays: 31 });
    expect(cycleAt(subject, '2026-04-10')).toMatchObject({ chargeStart: '2026-04-10', chargeEnd: '2026-05-09', cycleDays: 30 });
  });

  it('renews the next day with auto-renew on; expires the day after termEnd with it off', () => {
    const subject = monthly('2026-01-01');
    expect(termAt(subject, '2027-01-05')).toEqual({ termStart: '2027-01-01', termEnd: '2027-12-31', renewals: 1, state: 'active' });
    expect(termAt(subject, '2029-02-01')).toMatchObject({ termStart: '2029-01-01', renewals: 3 });
    expect(termAt({ ...subject, autoRenew: false }, '2026-12-31').state).toBe('active');
    expect(termAt({ ...subject, autoRenew: false }, '2027-01-01').state).toBe('expired');
  });

  it('finds the anchor of a subscription stored before anchors existed', () => {
    expect(billingAnchorOf(monthly('2026-06-15', { chargeStart: '2026-09-15', chargeEnd: '2026-10-14' }))).toBe('2026-06-15');
    // Converted in place before: the term start moved to the upgrade date, the cycle stayed on the source's anchor.
    expect(billingAnchorOf(monthly('2026-06-20', { termEnd: '2027-01-14', chargeStart: '2026-06-15', chargeEnd: '2026-07-14' }))).toBe('2026-06-15');
    // A stored cycle cut short by February: the anchor is the 31st.
    expect(billingAnchorOf(monthly('2026-02-10', { chargeStart: '2026-02-28', chargeEnd: '2026-03-30' }))).toBe('2026-03-31');
  });
});

describe('cycleAt: properties over random subscriptions and dates three years around the term start', () => {
  it('a billable date lies in its cycle, inside the term; otherwise the state says why', () => {
    fc.assert(
      fc.property(subjectAndDateArb, ({ subject, date }) => {
        const cycle = cycleAt(subject, date);
        const { term } = cycle;
        expect(daysInclusive(cycle.chargeStart, cycle.chargeEnd)).toBeGreaterThanOrEqual(1);
        expect(cycle.cycleDays).toBeGreaterThanOrEqual(daysInclusive(cycle.chargeStart, cycle.chargeEnd));
        expect(isWithin(cycle.chargeStart, term.termStart, term.termEnd) && isWithin(cycle.chargeEnd, term.termStart, term.termEnd)).toBe(true);
        if (term.state === 'active') expect(isWithin(date, cycle.chargeStart, cycle.chargeEnd)).toBe(true);
        if (term.state === 'not_started') expect(date < subject.termStart).toBe(true);
        if (term.state === 'expired') expect(subject.autoRenew === false && date > subject.termEnd).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('cycles tile each term and terms tile the years after it, with no gap or overlap', () => {
    fc.assert(
      fc.property(subjectArb, (subject) => {
        const horizon = addDays(subject.termStart, 3 * 366);
        let expectedStart = subject.termStart;
        let termStart = subject.termStart;
        while (expectedStart <= horizon) {
          const cycle = cycleAt(subject, expectedStart);
          if (cycle.term.state === 'expired') break;
          expect(cycle.chargeStart).toBe(expectedStart);
          // Same cycle on every day of it.
          expect(cycleAt(subject, cycle.chargeEnd)).toMatchObject({ chargeStart: cycle.chargeStart, chargeEnd: cycle.chargeEnd });
          if (cycle.term.termStart !== termStart) {
            // A new term begins the day after the previous one ended.
            expect(cycle.term.termStart).toBe(expectedStart);
            expect(daysInclusive(cycle.term.termStart, cycle.term.termEnd)).toBeGreaterThanOrEqual(28);
            termStart = cycle.term.termStart;
          }
          expectedStart = addDays(cycle.chargeEnd, 1);
        }
        if (subject.autoRenew === false) expect(termAt(subject, addDays(subject.termEnd, 1)).state).toBe('expired');
      }),
      { numRuns: 150 },
    );
  });

  it('monthly cycles start on the anchor day, or the last day of a month without it', () => {
    fc.assert(
      fc.property(subjectAndDateArb, ({ subject, date }) => {
        if (subject.billingFrequency !== 'monthly' || subject.term === 'P1M' || !subject.billingAnchorDate) return;
        const cycle = cycleAt(subject, date);
        if (cycle.chargeStart === cycle.term.termStart && cycle.term.renewals === 0) return; // a co-termed first cycle
        const anchorDay = Number(subject.billingAnchorDate.slice(8));
        const [year, month, day] = cycle.chargeStart.split('-').map(Number) as [number, number, number];
        expect(day).toBe(Math.min(anchorDay, daysInMonth(year, month)));
      }),
      { numRuns: 1000 },
    );
  });

  it('the proration rules hold on the derived cycle', () => {
    fc.assert(
      fc.property(
        subjectAndDateArb,
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 0, max: 400 }),
        ({ subject, date }, unitPrice, quantity, later) => {
          const cycle = cycleAt(subject, date);
          if (cycle.term.state !== 'active') return;
          const line = (kind: 'credit' | 'debit', upgradeDate: IsoDate) => prorateLine(kind, { productId: BASIC, unitPrice, quantity, upgradeDate, ...cycle });
          const credit = line('credit', date);
          // Same price, same cycle: credit and debit cancel exactly.
          expect(credit.amount + line('debit', date).amount).toBe(0);
          // Never more than was billed for those seats in the cycle, and never more as the date moves later.
          const billed = line('debit', cycle.chargeStart).amount;
          expect(-credit.amount).toBeLessThanOrEqual(billed);
          const laterDate = addDays(date, later % daysInclusive(date, cycle.chargeEnd));
          expect(-line('credit', laterDate).amount).toBeLessThanOrEqual(-credit.amount);
          // A whole cycle credits exactly price × seats.
          if (cycle.cycleDays === daysInclusive(cycle.chargeStart, cycle.chargeEnd)) expect(billed).toBe(unitPrice * quantity);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('projectSubscription', () => {
  const catalog = testCatalog();

  it('renews at the catalog price of the renewal date, expires without auto-renew, and is idempotent', () => {
    const stored = subscription({ unitPrice: 700, termStart: '2025-01-01', termEnd: '2025-12-31', chargeStart: '2025-04-01', chargeEnd: '2025-04-30' });
    const renewed = projectSubscription(stored, '2026-02-10', { catalog, account: account() });
    expect(renewed.renewals).toEqual([{ termStart: '2026-01-01', termEnd: '2026-12-31', unitPrice: 1000 }]);
    expect(renewed.subscription).toMatchObject({
      termStart: '2026-01-01',
      chargeStart: '2026-02-01',
      chargeEnd: '2026-02-28',
      unitPrice: 1000,
      status: 'active',
    });
    expect(projectSubscription(renewed.subscription, '2026-02-10', { catalog, account: account() }).subscription).toEqual(renewed.subscription);

    const endCustomer = account({ role: 'end_customer', markupBasisPoints: 1000 });
    expect(projectSubscription(stored, '2026-02-10', { catalog, account: endCustomer }).subscription.unitPrice).toBe(1100);

    const expired = projectSubscription({ ...stored, autoRenew: false }, '2026-01-01', { catalog, account: account() });
    expect(expired.subscription).toMatchObject({ status: 'expired', termEnd: '2025-12-31', chargeStart: '2025-12-01' });
    expect(expired.renewals).toEqual([]);
  });

  it('projection is idempotent over random subscriptions and dates', () => {
    fc.assert(
      fc.property(subjectAndDateArb, ({ subject, date }) => {
        // The fixture's stored cycle is only a hint for the legacy shape, which brings its own.
        const once = projectSubscription(subscription({ ...subject }), date, { catalog, account: account() }).subscription;
        expect(projectSubscription(once, date, { catalog, account: account() }).subscription).toEqual(once);
      }),
      { numRuns: 500 },
    );
  });
});
