/**
 * The proration preview (docs/proration.md, "POST /v1/billing/proration-preview") as a pure function: explicit inputs → credit/debit lines and net, or the list of
 * broken fields (the HTTP endpoint maps `ok: false` to 400 with these field names). Validation here is
 * the domain's, not a schema library's, so the endpoint stays a thin wrapper.
 */
import { BILLING_FREQUENCIES, type BillingFrequency } from './catalog';
import { isAfter, isBefore, isIsoDate, isWithin, type IsoDate } from './dates';
import { isKnownCurrency, sumMinor } from './money';
import { prorateLine, remainingInstallments, type InvoiceLine, type ScheduledInstallment } from './proration';

export interface ProrationPreviewLine {
  amount: number;
  quantity: number;
  periodStart: IsoDate;
  periodEnd: IsoDate;
  days: number;
  cycleDays: number;
}

export interface ProrationPreviewResponse {
  currency: string;
  credit: ProrationPreviewLine;
  debit: ProrationPreviewLine;
  net: number;
  /** Only with `billingFrequency` and a known destination term end: the installments still to come. */
  destinationInstallments?: ScheduledInstallment[];
}

export interface FieldError {
  field: string;
  message: string;
}

export type ProrationPreviewResult = { ok: true; value: ProrationPreviewResponse } | { ok: false; errors: FieldError[] };

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Collects field errors while reading an untrusted object. */
class FieldReader {
  readonly errors: FieldError[] = [];

  fail(field: string, message: string): undefined {
    this.errors.push({ field, message });
    return undefined;
  }

  object(parent: Json, key: string, path: string): Json | undefined {
    const value = parent[key];
    return isObject(value) ? value : this.fail(path, 'must be an object');
  }

  integer(parent: Json, key: string, path: string, min: number): number | undefined {
    const value = parent[key];
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) return this.fail(path, 'must be an integer (minor units / seats)');
    return value < min ? this.fail(path, `must be at least ${min}, got ${value}`) : value;
  }

  date(parent: Json, key: string, path: string, optional = false): IsoDate | undefined {
    const value = parent[key];
    if (value === undefined && optional) return undefined;
    return isIsoDate(value) ? value : this.fail(path, `must be a calendar date YYYY-MM-DD, got ${JSON.stringify(value)}`);
  }

  cycle(parent: Json, prefix: string): { chargeStart: IsoDate; chargeEnd: IsoDate } | undefined {
    const chargeStart = this.date(parent, 'chargeStart', `${prefix}.chargeStart`);
    const chargeEnd = this.date(parent, 'chargeEnd', `${prefix}.chargeEnd`);
    if (!chargeStart || !chargeEnd) return undefined;
    if (isBefore(chargeEnd, chargeStart)) return this.fail(`${prefix}.chargeEnd`, `${chargeEnd} is before chargeStart ${chargeStart}`);
    return { chargeStart, chargeEnd };
  }
}

const previewLine = (line: InvoiceLine): ProrationPreviewLine => ({
  amount: line.amount,
  quantity: line.quantity,
  periodStart: line.periodStart,
  periodEnd: line.periodEnd,
  days: line.days,
  cycleDays: line.cycleDays,
});

export function previewProration(input: unknown): ProrationPreviewResult {
  const read = new FieldReader();
  if (!isObject(input)) return { ok: false, errors: [{ field: 'body', message: 'must be a JSON object' }] };

  const currency = isKnownCurrency(input.currency)
    ? input.currency
    : read.fail('currency', `unknown currency ${JSON.stringify(input.currency)} (ISO 4217 code expected)`);
  const upgradeDate = read.date(input, 'upgradeDate', 'upgradeDate');
  const quantity = read.integer(input, 'quantity', 'quantity', 1);
  const billingFrequency =
    input.billingFrequency === undefined || BILLING_FREQUENCIES.includes(input.billingFrequency as BillingFrequency)
      ? (input.billingFrequency as BillingFrequency | undefined)
      : read.fail('billingFrequency', `must be one of ${BILLING_FREQUENCIES.join(', ')}`);

  const source = read.object(input, 'source', 'source');
  const sourceQuantity = source && read.integer(source, 'quantity', 'source.quantity', 1);
  const sourcePrice = source && read.integer(source, 'unitPrice', 'source.unitPrice', 0);
  const sourceCycle = source && read.cycle(source, 'source');
  const termStart = source && read.date(source, 'termStart', 'source.termStart', true);
  const termEnd = source && read.date(source, 'termEnd', 'source.termEnd', true);
  if (sourceCycle && termStart && isAfter(termStart, sourceCycle.chargeStart)) {
    read.fail('source.termStart', `${termStart} is after the cycle start ${sourceCycle.chargeStart}`);
  }
  if (sourceCycle && termEnd && isBefore(termEnd, sourceCycle.chargeEnd)) {
    read.fail('source.termEnd', `${termEnd} is before the cycle end ${sourceCycle.chargeEnd}`);
  }

  const destination = read.object(input, 'destination', 'destination');
  const destinationType = destination?.type;
  if (destination && destinationType !== 'new' && destinationType !== 'existing') {
    read.fail('destination.type', 'must be "new" or "existing"');
  }
  const destinationPrice = destination && read.integer(destination, 'unitPrice', 'destination.unitPrice', 0);
  const destinationCycle = destination && destinationType === 'existing' ? read.cycle(destination, 'destination') : sourceCycle;
  const destinationTermEnd = destination && destinationType === 'existing' ? read.date(destination, 'termEnd', 'destination.termEnd', true) : termEnd;

  if (quantity !== undefined && sourceQuantity !== undefined && quantity > sourceQuantity) {
    read.fail('quantity', `quantity ${quantity} is above the source's ${sourceQuantity} seats`);
  }
  if (upgradeDate && sourceCycle && !isWithin(upgradeDate, sourceCycle.chargeStart, sourceCycle.chargeEnd)) {
    read.fail('upgradeDate', `${upgradeDate} is outside the source cycle ${sourceCycle.chargeStart}..${sourceCycle.chargeEnd}`);
  }
  if (upgradeDate && destinationType === 'existing' && destinationCycle && !isWithin(upgradeDate, destinationCycle.chargeStart, destinationCycle.chargeEnd)) {
    read.fail('upgradeDate', `${upgradeDate} is outside the destination cycle ${destinationCycle.chargeStart}..${destinationCycle.chargeEnd}`);
  }

  if (
    read.errors.length > 0 ||
    currency === undefined ||
    upgradeDate === undefined ||
    quantity === undefined ||
    sourcePrice === undefined ||
    sourceCycle === undefined ||
    destinationPrice === undefined ||
    destinationCycle === undefined
  ) {
    return { ok: false, errors: read.errors };
  }

  const credit = prorateLine('credit', { productId: 'source', unitPrice: sourcePrice, quantity, upgradeDate, ...sourceCycle });
  const debit = prorateLine('debit', { productId: 'destination', unitPrice: destinationPrice, quantity, upgradeDate, ...destinationCycle });
  const destinationInstallments =
    billingFrequency && destinationTermEnd
      ? remainingInstallments({
          currentChargeEnd: destinationCycle.chargeEnd,
          termEnd: destinationTermEnd,
          billingFrequency,
          unitPrice: destinationPrice,
          quantity,
        })
      : undefined;

  return {
    ok: true,
    value: {
      currency,
      credit: previewLine(credit),
      debit: previewLine(debit),
      net: sumMinor([credit.amount, debit.amount]),
      ...(destinationInstallments ? { destinationInstallments } : {}),
    },
  };
}
