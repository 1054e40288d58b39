/**
 * The term and the charge (billing) cycle of a subscription on any date, derived from its own terms — never from a
 * stored "current cycle", which goes stale the day after it ends. Rules (docs/billing-cycles.md):
 *
 * - Cycles run from the billing anchor (`billingAnchorDate`, default `termStart`): cycle k of a monthly billing runs
 *   from `anchor + k months` to the day before `anchor + (k+1) months`, always counted from the anchor, so an anchor on
 *   the 29th–31st falls on the last day of a shorter month and returns to the anchor day the month after. Annual
 *   billing of a P1Y/P3Y term: yearly cycles from the anchor. Billing the whole term at once (P1Y annual, P3Y
 *   triennial) and every P1M term: one cycle = the term.
 * - A cycle is the anchor period that holds the date, cut to the term: a subscription whose term started inside an
 *   anchor period (created by an upgrade into a new subscription, or converted in place, both co-termed with their
 *   source) starts its first cycle on its term start. `cycleDays` stays the whole anchor period's length, because the
 *   per-cycle price is for that period; prorating a shortened cycle therefore never credits more than was billed.
 * - At `termEnd`: with auto-renew (the NCE default) a term of the same length starts the next day; renewals are
 *   counted from the first renewal date, so a term ending on the 28th of February does not drift. Without auto-renew
 *   the subscription is expired from the day after `termEnd`.
 *
 * Pure and total over valid dates: no clock, no I/O.
 */
import { BILLING_CYCLE_MONTHS, TERM_MONTHS, type BillingFrequency, type Term } from './catalog';
import { addDays, addMonths, daysInclusive, isAfter, isBefore, type IsoDate } from './dates';

/** The fields of a subscription the cycle depends on. */
export interface CycleSubject {
  term: Term;
  billingFrequency: BillingFrequency;
  termStart: IsoDate;
  termEnd: IsoDate;
  /** Day cycles are counted from; absent on subscriptions stored before it existed (see `billingAnchorOf`). */
  billingAnchorDate?: IsoDate;
  /** Absent = on (NCE subscriptions renew unless the customer turns it off). */
  autoRenew?: boolean;
  /** The stored cycle of subscriptions imported before the anchor existed: only a hint to find their anchor. */
  chargeStart?: IsoDate;
  chargeEnd?: IsoDate;
}

/** Where the date falls in the subscription's life. */
export type TermState = 'not_started' | 'active' | 'expired';

export interface TermOnDate {
  termStart: IsoDate;
  termEnd: IsoDate;
  /** How many automatic renewals separate this term from the stored one (0 = the stored term). */
  renewals: number;
  state: TermState;
}

export interface CycleOnDate {
  chargeStart: IsoDate;
  chargeEnd: IsoDate;
  /** Days of the whole anchor period the per-cycle price pays for (≥ the cycle's own days). */
  cycleDays: number;
  term: TermOnDate;
}

const renewalsOn = (subject: CycleSubject): boolean => subject.autoRenew !== false;

/** Index k of the period [anchor + k·months, anchor + (k+1)·months − 1] that holds `date` (k may be negative). */
function periodIndex(anchor: IsoDate, months: number, date: IsoDate): number {
  const monthNumber = (d: IsoDate) => Number(d.slice(0, 4)) * 12 + Number(d.slice(5, 7));
  let k = Math.floor((monthNumber(date) - monthNumber(anchor)) / months);
  while (isAfter(addMonths(anchor, k * months), date)) k--;
  while (!isAfter(addMonths(anchor, (k + 1) * months), date)) k++;
  return k;
}

function period(anchor: IsoDate, months: number, k: number): { start: IsoDate; end: IsoDate } {
  return { start: addMonths(anchor, k * months), end: addDays(addMonths(anchor, (k + 1) * months), -1) };
}

/** Billing in one cycle per term: whole-term (prepaid) billing and every P1M term. */
export function billsWholeTerm(term: Term, billingFrequency: BillingFrequency): boolean {
  return BILLING_CYCLE_MONTHS[billingFrequency] >= TERM_MONTHS[term];
}

function cycleMonthsOf(subject: Pick<CycleSubject, 'term' | 'billingFrequency'>): number {
  return Math.min(BILLING_CYCLE_MONTHS[subject.billingFrequency], TERM_MONTHS[subject.term]);
}

/**
 * The anchor cycles are counted from. Stored: as is. Stored before the anchor existed: `termStart` when the stored
 * cycle is one of the cycles counted from it; otherwise the stored cycle's own start — or the day after its end when
 * that has the later day of month (a cycle cut short by a short month, e.g. 28 Feb – 30 Mar of an anchor on the 31st).
 * Subscriptions converted or created by an upgrade before this change kept their source's cycle while their term
 * start moved to the upgrade date, which this recovers.
 */
export function billingAnchorOf(subject: CycleSubject): IsoDate {
  if (subject.billingAnchorDate) return subject.billingAnchorDate;
  const { chargeStart, chargeEnd } = subject;
  if (!chargeStart || !chargeEnd || isAfter(chargeStart, chargeEnd)) return subject.termStart;
  const months = cycleMonthsOf(subject);
  const fromTermStart = period(subject.termStart, months, periodIndex(subject.termStart, months, chargeStart));
  if (fromTermStart.start === chargeStart && fromTermStart.end === chargeEnd) return subject.termStart;
  const next = addDays(chargeEnd, 1);
  return Number(next.slice(8)) > Number(chargeStart.slice(8)) ? next : chargeStart;
}

/**
 * Renewed terms are counted from the billing anchor when the stored term ends on one of the anchor's term-length
 * boundaries (the normal case: a P1M term on the 31st comes back to the 31st), otherwise from the first renewal date.
 */
function renewalBase(subject: CycleSubject): IsoDate {
  const firstRenewal = addDays(subject.termEnd, 1);
  const anchor = billingAnchorOf(subject);
  const months = TERM_MONTHS[subject.term];
  return period(anchor, months, periodIndex(anchor, months, firstRenewal)).start === firstRenewal ? anchor : firstRenewal;
}

/** The k-th renewed term (k ≥ 1). */
export function renewedTerm(subject: CycleSubject, k: number): { termStart: IsoDate; termEnd: IsoDate } {
  const base = renewalBase(subject);
  const months = TERM_MONTHS[subject.term];
  const first = periodIndex(base, months, addDays(subject.termEnd, 1));
  const renewed = period(base, months, first + k - 1);
  return { termStart: renewed.start, termEnd: renewed.end };
}

/** The term in force on `date`: the stored one, or a renewal of it; `state` says if the date is before or after. */
export function termAt(subject: CycleSubject, date: IsoDate): TermOnDate {
  const stored = { termStart: subject.termStart, termEnd: subject.termEnd, renewals: 0 };
  if (isBefore(date, subject.termStart)) return { ...stored, state: 'not_started' };
  if (!isAfter(date, subject.termEnd)) return { ...stored, state: 'active' };
  if (!renewalsOn(subject)) return { ...stored, state: 'expired' };
  const base = renewalBase(subject);
  const months = TERM_MONTHS[subject.term];
  const renewals = periodIndex(base, months, date) - periodIndex(base, months, addDays(subject.termEnd, 1)) + 1;
  return { ...renewedTerm(subject, renewals), renewals, state: 'active' };
}

/**
 * The charge cycle on `date`. Before the term starts: the first cycle; after an expiry: the last one (`term.state`
 * tells; neither is billable). Otherwise the cycle holds the date.
 */
export function cycleAt(subject: CycleSubject, date: IsoDate): CycleOnDate {
  const term = termAt(subject, date);
  const day = term.state === 'not_started' ? term.termStart : term.state === 'expired' ? term.termEnd : date;
  const anchor = billingAnchorOf(subject);
  if (billsWholeTerm(subject.term, subject.billingFrequency)) {
    // One cycle = the term. It pays for the anchor's whole term-length period when the term is that period cut at its
    // start (a co-termed subscription); otherwise for the term's own days.
    const months = TERM_MONTHS[subject.term];
    const nominal = period(anchor, months, periodIndex(anchor, months, term.termEnd));
    const cut = nominal.end === term.termEnd && !isAfter(nominal.start, term.termStart);
    return {
      chargeStart: term.termStart,
      chargeEnd: term.termEnd,
      cycleDays: daysInclusive(cut ? nominal.start : term.termStart, term.termEnd),
      term,
    };
  }
  const months = cycleMonthsOf(subject);
  const anchorPeriod = period(anchor, months, periodIndex(anchor, months, day));
  return {
    chargeStart: isAfter(term.termStart, anchorPeriod.start) ? term.termStart : anchorPeriod.start,
    chargeEnd: isBefore(term.termEnd, anchorPeriod.end) ? term.termEnd : anchorPeriod.end,
    cycleDays: daysInclusive(anchorPeriod.start, anchorPeriod.end),
    term,
  };
}

/** The cycles of the term in force on `date` that start after `afterDate`, in order (installments still to come). */
export function cyclesAfter(subject: CycleSubject, date: IsoDate, afterDate: IsoDate): CycleOnDate[] {
  const { termEnd } = termAt(subject, date);
  const cycles: CycleOnDate[] = [];
  let next = addDays(afterDate, 1);
  while (!isAfter(next, termEnd)) {
    const cycle = cycleAt(subject, next);
    cycles.push(cycle);
    next = addDays(cycle.chargeEnd, 1);
  }
  return cycles;
}

export interface CycleHintProblem {
  field: 'chargeStart' | 'chargeEnd';
  message: string;
}

/**
 * An imported charge cycle is a hint checked against the cycles derived from the term and the anchor: it must be one
 * of them, whole. Both or neither: a lone end or start cannot be checked.
 */
export function cycleHintProblems(subject: CycleSubject, hint: { chargeStart?: IsoDate; chargeEnd?: IsoDate }): CycleHintProblem[] {
  const { chargeStart, chargeEnd } = hint;
  if (chargeStart === undefined && chargeEnd === undefined) return [];
  if (chargeStart === undefined) return [{ field: 'chargeStart', message: 'chargeEnd was given without chargeStart; give both or neither' }];
  if (chargeEnd === undefined) return [{ field: 'chargeEnd', message: 'chargeStart was given without chargeEnd; give both or neither' }];
  if (isBefore(chargeStart, subject.termStart) || isAfter(chargeStart, subject.termEnd)) {
    return [{ field: 'chargeStart', message: `${chargeStart} is outside the term ${subject.termStart} – ${subject.termEnd}` }];
  }
  const derived = cycleAt(subject, chargeStart);
  const anchor = billingAnchorOf(subject);
  const expected = `the cycle holding ${chargeStart} is ${derived.chargeStart} – ${derived.chargeEnd} (cycles counted from the billing anchor ${anchor}, billed ${subject.billingFrequency} on a ${subject.term} term)`;
  const problems: CycleHintProblem[] = [];
  if (derived.chargeStart !== chargeStart) problems.push({ field: 'chargeStart', message: `${chargeStart} does not start a charge cycle: ${expected}` });
  if (derived.chargeEnd !== chargeEnd)
    problems.push({ field: 'chargeEnd', message: `${chargeEnd} does not end the cycle starting ${derived.chargeStart}: ${expected}` });
  return problems;
}
