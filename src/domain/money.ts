/**
 * Money: integer minor units, ISO 4217 exponents, half-even rounding.
 *
 * Amounts are stored and carried as integer `number`s in minor units (JSON and Temporal payloads cannot
 * carry bigint) and converted to bigint for every multiplication or division. No floats, no Math.round.
 */

/** ISO 4217 minor-unit exponents. Nothing here assumes two decimals. */
const CURRENCY_EXPONENTS: Readonly<Record<string, number>> = {
  // exponent 2
  USD: 2,
  EUR: 2,
  GBP: 2,
  CHF: 2,
  SEK: 2,
  NOK: 2,
  DKK: 2,
  PLN: 2,
  CZK: 2,
  HUF: 2,
  RON: 2,
  BGN: 2,
  AUD: 2,
  CAD: 2,
  NZD: 2,
  SGD: 2,
  HKD: 2,
  CNY: 2,
  INR: 2,
  ZAR: 2,
  BRL: 2,
  MXN: 2,
  TRY: 2,
  ILS: 2,
  AED: 2,
  SAR: 2,
  QAR: 2,
  TWD: 2,
  THB: 2,
  MYR: 2,
  PHP: 2,
  IDR: 2,
  EGP: 2,
  NGN: 2,
  KES: 2,
  // exponent 0
  JPY: 0,
  KRW: 0,
  ISK: 0,
  CLP: 0,
  VND: 0,
  UGX: 0,
  XOF: 0,
  XAF: 0,
  PYG: 0,
  RWF: 0,
  // exponent 3
  KWD: 3,
  BHD: 3,
  JOD: 3,
  OMR: 3,
  TND: 3,
  LYD: 3,
  IQD: 3,
};

export type CurrencyCode = string;

export function isKnownCurrency(currency: unknown): currency is CurrencyCode {
  return typeof currency === 'string' && Object.prototype.hasOwnProperty.call(CURRENCY_EXPONENTS, currency);
}

/** Minor-unit exponent of a currency; an unknown currency is an error, never a silent default of 2. */
export function currencyExponent(currency: CurrencyCode): number {
  const exponent = isKnownCurrency(currency) ? CURRENCY_EXPONENTS[currency] : undefined;
  if (exponent === undefined) throw new RangeError(`unknown currency "${String(currency)}"`);
  return exponent;
}

/** A minor-unit amount as bigint; refuses fractions and unsafe integers instead of losing precision. */
export function toBigInt(minorUnits: number): bigint {
  if (!Number.isSafeInteger(minorUnits)) {
    throw new RangeError(`amount ${minorUnits} is not a safe integer number of minor units`);
  }
  return BigInt(minorUnits);
}

/** Back to a storable `number`; an amount beyond 2^53 would silently lose cents, so it throws. */
export function toMinorUnits(amount: bigint): number {
  if (amount > BigInt(Number.MAX_SAFE_INTEGER) || amount < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new RangeError(`amount ${amount} minor units exceeds the safe integer range`);
  }
  return Number(amount);
}

/**
 * numerator / denominator rounded half to even (banker's rounding), for non-negative magnitudes.
 * Callers round the magnitude and apply the sign afterwards, so a credit and a debit of the same
 * magnitude cancel exactly.
 */
export function roundHalfEven(numerator: bigint, denominator: bigint): bigint {
  if (denominator <= 0n) throw new RangeError('denominator must be positive');
  if (numerator < 0n) throw new RangeError('roundHalfEven takes a non-negative magnitude');
  const quotient = numerator / denominator;
  const twiceRemainder = (numerator % denominator) * 2n;
  if (twiceRemainder > denominator) return quotient + 1n;
  if (twiceRemainder === denominator && quotient % 2n === 1n) return quotient + 1n;
  return quotient;
}

/** Half-even rounding of a signed rational: the magnitude is rounded, then the sign restored. */
export function roundHalfEvenSigned(numerator: bigint, denominator: bigint): bigint {
  const magnitude = roundHalfEven(numerator < 0n ? -numerator : numerator, denominator);
  return numerator < 0n ? -magnitude : magnitude;
}

export const BASIS_POINTS_PER_UNIT = 10_000n;

/** amount × basisPoints / 10000, half-even on the magnitude (tax, markup, promotion discount). */
export function applyBasisPoints(amountMinor: number, basisPoints: number): number {
  return toMinorUnits(roundHalfEvenSigned(toBigInt(amountMinor) * toBigInt(basisPoints), BASIS_POINTS_PER_UNIT));
}

/** Sum of minor-unit amounts, exact. */
export function sumMinor(amounts: readonly number[]): number {
  return toMinorUnits(amounts.reduce((total, amount) => total + toBigInt(amount), 0n));
}

function groupThousands(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/**
 * Human form for messages and summaries: `formatMoney(147600, 'EUR')` → "EUR 1,476.00",
 * `formatMoney(-5, 'KWD')` → "KWD -0.005", `formatMoney(1200, 'JPY')` → "JPY 1,200".
 */
export function formatMoney(amountMinor: number, currency: CurrencyCode): string {
  const exponent = currencyExponent(currency);
  const amount = toBigInt(amountMinor);
  const magnitude = (amount < 0n ? -amount : amount).toString().padStart(exponent + 1, '0');
  const whole = magnitude.slice(0, magnitude.length - exponent);
  const fraction = magnitude.slice(magnitude.length - exponent);
  const sign = amount < 0n ? '-' : '';
  return `${currency} ${sign}${groupThousands(whole)}${exponent > 0 ? `.${fraction}` : ''}`;
}

/**
 * Parses a decimal string in major units ("14.00", "7", "0.125") into minor units, exactly.
 * More decimals than the currency has is an error (it would need rounding nobody asked for).
 */
export function parseDecimalToMinor(text: string, currency: CurrencyCode): number {
  const exponent = currencyExponent(currency);
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!match) throw new RangeError(`"${text}" is not a decimal amount`);
  const [, sign = '', whole = '0', fraction = ''] = match;
  if (fraction.length > exponent) {
    throw new RangeError(`"${text}" has more than ${exponent} decimals for ${currency}`);
  }
  const minor = BigInt(whole + fraction.padEnd(exponent, '0'));
  return toMinorUnits(sign === '-' ? -minor : minor);
}
