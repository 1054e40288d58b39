/**
 * Proration as docs/proration.md states it: whole UTC days, both ends included; one exact rational per line
 * (price × qty × remaining / cycle) rounded half-even once, sign applied after rounding; tax on the
 * rounded lines; installment schedules for terms billed in several cycles.
 */
import { BILLING_CYCLE_MONTHS, type BillingFrequency } from './catalog';
import { addDays, addMonths, daysInclusive, isAfter, isWithin, type IsoDate } from './dates';
import { BASIS_POINTS_PER_UNIT, roundHalfEven, roundHalfEvenSigned, sumMinor, toBigInt, toMinorUnits } from './money';
import type { Installment, Subscription } from './types';

export interface ProrationPeriod {
  periodStart: IsoDate;
  periodEnd: IsoDate;
  /** remaining = days(upgradeDate, chargeEnd), 1..cycleDays. */
  days: number;
  /** days(chargeStart, chargeEnd). */
  cycleDays: number;
}

export interface ChargeCycle {
  chargeStart: IsoDate;
  chargeEnd: IsoDate;
  /**
   * Days of the whole period the per-cycle price pays for; default days(chargeStart, chargeEnd). Longer only for a
   * first cycle cut short by co-terming (see billing-cycle.ts), so its proration divides by what was billed.
   */
  cycleDays?: number;
}

/** A projected subscription's cycle (subscription-on-date.ts), with the anchor period's days when they differ. */
export function chargeCycleOf(subscription: Pick<Subscription, 'chargeStart' | 'chargeEnd' | 'cycleDays'>): ChargeCycle {
  return {
    chargeStart: subscription.chargeStart,
    chargeEnd: subscription.chargeEnd,
    ...(subscription.cycleDays !== undefined ? { cycleDays: subscription.cycleDays } : {}),
  };
}

/** From the upgrade date to the end of the cycle; the upgrade date must lie inside the cycle. */
export function remainingPeriod(upgradeDate: IsoDate, cycle: ChargeCycle): ProrationPeriod {
  const ownDays = daysInclusive(cycle.chargeStart, cycle.chargeEnd);
  if (ownDays < 1) throw new RangeError(`charge cycle ${cycle.chargeStart}..${cycle.chargeEnd} ends before it starts`);
  const cycleDays = cycle.cycleDays ?? ownDays;
  if (!Number.isInteger(cycleDays) || cycleDays < ownDays) {
    throw new RangeError(`cycleDays ${cycleDays} is shorter than the charge cycle ${cycle.chargeStart}..${cycle.chargeEnd}`);
  }
  if (!isWithin(upgradeDate, cycle.chargeStart, cycle.chargeEnd)) {
    throw new RangeError(`upgrade date ${upgradeDate} is outside the charge cycle ${cycle.chargeStart}..${cycle.chargeEnd}`);
  }
  return { periodStart: upgradeDate, periodEnd: cycle.chargeEnd, days: daysInclusive(upgradeDate, cycle.chargeEnd), cycleDays };
}

/** ROUND_HALF_EVEN(unitPrice × quantity × days / cycleDays) — one rational, rounded once. */
export function proratedMagnitude(unitPrice: number, quantity: number, days: number, cycleDays: number): number {
  if (unitPrice < 0 || quantity < 0 || days < 0 || cycleDays < 1) {
    throw new RangeError('proration needs a non-negative price, quantity and days and a positive cycle');
  }
  const numerator = toBigInt(unitPrice) * toBigInt(quantity) * toBigInt(days);
  return toMinorUnits(roundHalfEven(numerator, toBigInt(cycleDays)));
}

export type InvoiceKind = 'credit' | 'debit';

export interface InvoiceLine extends ProrationPeriod {
  kind: InvoiceKind;
  productId: string;
  /** Absent for the subscription the vendor creates (partial → new); its id is known only later. */
  subscriptionId?: string;
  quantity: number;
  /** Per seat per cycle, minor units. */
  unitPrice: number;
  /** Signed: credits ≤ 0, debits ≥ 0. */
  amount: number;
}

export interface LineInput extends ChargeCycle {
  productId: string;
  subscriptionId?: string;
  unitPrice: number;
  quantity: number;
  upgradeDate: IsoDate;
}

/** A credit (negative) or debit (positive) line over the rest of the given cycle. */
export function prorateLine(kind: InvoiceKind, input: LineInput): InvoiceLine {
  const period = remainingPeriod(input.upgradeDate, input);
  const magnitude = proratedMagnitude(input.unitPrice, input.quantity, period.days, period.cycleDays);
  return {
    kind,
    productId: input.productId,
    ...(input.subscriptionId !== undefined ? { subscriptionId: input.subscriptionId } : {}),
    ...period,
    quantity: input.quantity,
    unitPrice: input.unitPrice,
    // Sign after rounding; `0 - 0` keeps a zero credit at +0 rather than -0.
    amount: kind === 'credit' ? 0 - magnitude : magnitude,
  };
}

/** ROUND_HALF_EVEN(subtotal × bps / 10000) on the magnitude, sign of the subtotal. */
export function taxOn(subtotal: number, taxRateBasisPoints: number): number {
  if (!Number.isInteger(taxRateBasisPoints) || taxRateBasisPoints < 0) {
    throw new RangeError(`tax rate must be non-negative integer basis points, got ${taxRateBasisPoints}`);
  }
  return toMinorUnits(roundHalfEvenSigned(toBigInt(subtotal) * toBigInt(taxRateBasisPoints), BASIS_POINTS_PER_UNIT));
}

export interface InvoiceDraft {
  kind: InvoiceKind;
  currency: string;
  lines: readonly InvoiceLine[];
  /** Sum of the rounded lines. */
  subtotal: number;
  taxRateBasisPoints: number;
  tax: number;
  total: number;
}

export function draftInvoice(kind: InvoiceKind, currency: string, lines: readonly InvoiceLine[], taxRateBasisPoints: number): InvoiceDraft {
  const subtotal = sumMinor(lines.map((line) => line.amount));
  const tax = taxOn(subtotal, taxRateBasisPoints);
  return { kind, currency, lines, subtotal, taxRateBasisPoints, tax, total: sumMinor([subtotal, tax]) };
}

export interface ScheduledInstallment {
  periodStart: IsoDate;
  periodEnd: IsoDate;
  amount: number;
  quantity: number;
}

export interface InstallmentScheduleInput {
  /** End of the current (already billed) cycle. */
  currentChargeEnd: IsoDate;
  termEnd: IsoDate;
  billingFrequency: BillingFrequency;
  unitPrice: number;
  quantity: number;
}

/**
 * The installments still to come: cycles starting after the current cycle end and on or before the
 * term end, each unitPrice × quantity. Cycles are anchored on the renewal date (termEnd + 1) and
 * counted backwards, because the term end survives every upgrade while the start date does not
 * (a full upgrade moves it), and anchoring avoids month-end drift (Jan 31 → Feb 28 → Mar 31).
 */
export function remainingInstallments(input: InstallmentScheduleInput): ScheduledInstallment[] {
  const cycleMonths = BILLING_CYCLE_MONTHS[input.billingFrequency];
  const renewal = addDays(input.termEnd, 1);
  const amount = toMinorUnits(toBigInt(input.unitPrice) * toBigInt(input.quantity));
  const schedule: ScheduledInstallment[] = [];
  const maxCycles = 1200; // a 100-year guard against a malformed term; real terms have ≤ 36 cycles
  for (let k = 1; k <= maxCycles; k++) {
    const periodStart = addMonths(renewal, -k * cycleMonths);
    if (!isAfter(periodStart, input.currentChargeEnd)) break;
    const periodEnd = addDays(addMonths(renewal, -(k - 1) * cycleMonths), -1);
    schedule.push({ periodStart, periodEnd, amount, quantity: input.quantity });
  }
  return schedule.reverse();
}

/** Installments not yet invoiced for cycles after the current one: what an upgrade cancels. */
export function futurePendingInstallments(subscription: Subscription): Installment[] {
  return (subscription.installmentPlan?.installments ?? []).filter(
    (installment) => installment.status === 'pending' && isAfter(installment.periodStart, subscription.chargeEnd),
  );
}
