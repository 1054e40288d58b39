import fc from 'fast-check';
import {
  applyBasisPoints,
  currencyExponent,
  formatMoney,
  parseDecimalToMinor,
  roundHalfEven,
  roundHalfEvenSigned,
  sumMinor,
  toBigInt,
  toMinorUnits,
} from '../../../src/domain/money';

describe('currency exponents (ISO 4217)', () => {
  it.each([
    ['USD', 2],
    ['EUR', 2],
    ['GBP', 2],
    ['CHF', 2],
    ['SEK', 2],
    ['NOK', 2],
    ['DKK', 2],
    ['PLN', 2],
    ['CZK', 2],
    ['AUD', 2],
    ['CAD', 2],
    ['NZD', 2],
    ['JPY', 0],
    ['KRW', 0],
    ['KWD', 3],
    ['BHD', 3],
    ['JOD', 3],
    ['TND', 3],
  ])('%s has exponent %i', (currency, exponent) => {
    expect(currencyExponent(currency)).toBe(exponent);
  });

  it('refuses an unknown currency instead of assuming two decimals', () => {
    expect(() => currencyExponent('XYZ')).toThrow('unknown currency "XYZ"');
    expect(() => currencyExponent('usd')).toThrow();
  });
});

describe('roundHalfEven', () => {
  it.each([
    [5n, 2n, 2n], // 2.5 → 2
    [7n, 2n, 4n], // 3.5 → 4
    [11n, 4n, 3n], // 2.75 → 3
    [9n, 4n, 2n], // 2.25 → 2
    [0n, 7n, 0n],
    [1n, 2n, 0n], // 0.5 → 0
    [3n, 2n, 2n], // 1.5 → 2
    [52000n, 31n, 1677n], // docs/proration.md example 3 credit: 1677.41…
  ])('%p / %p = %p', (numerator, denominator, expected) => {
    expect(roundHalfEven(numerator, denominator)).toBe(expected);
  });

  it('rejects negative magnitudes and non-positive denominators', () => {
    expect(() => roundHalfEven(-1n, 2n)).toThrow();
    expect(() => roundHalfEven(1n, 0n)).toThrow();
  });

  it('is within half a unit of the exact quotient and even on exact halves (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 18n }), fc.bigInt({ min: 1n, max: 10n ** 9n }), (numerator, denominator) => {
        const rounded = roundHalfEven(numerator, denominator);
        const error = rounded * denominator - numerator; // scaled by denominator
        const twiceError = 2n * (error < 0n ? -error : error);
        expect(twiceError <= denominator).toBe(true);
        if (twiceError === denominator) expect(rounded % 2n).toBe(0n);
      }),
      { numRuns: 200 },
    );
  });

  it('signed variant rounds the magnitude, so x and −x round to opposites', () => {
    expect(roundHalfEvenSigned(-5n, 2n)).toBe(-2n);
    expect(roundHalfEvenSigned(-7n, 2n)).toBe(-4n);
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 15n }), fc.bigInt({ min: 1n, max: 10n ** 6n }), (n, d) => {
        expect(roundHalfEvenSigned(-n, d)).toBe(-roundHalfEvenSigned(n, d));
      }),
      { numRuns: 100 },
    );
  });
});

describe('minor-unit conversions', () => {
  it('refuses fractions and unsafe integers', () => {
    expect(() => toBigInt(1.5)).toThrow('not a safe integer');
    expect(() => toBigInt(Number.MAX_SAFE_INTEGER + 1)).toThrow();
    expect(() => toMinorUnits(2n ** 60n)).toThrow('safe integer range');
  });

  it('applies basis points half-even (tax, markup)', () => {
    expect(applyBasisPoints(147890, 1900)).toBe(28099); // 28099.1
    expect(applyBasisPoints(250, 1000)).toBe(25);
    expect(applyBasisPoints(5, 5000)).toBe(2); // 2.5 → 2
    expect(applyBasisPoints(-5, 5000)).toBe(-2);
  });

  it('sums exactly', () => {
    expect(sumMinor([-231840, 147890])).toBe(-83950);
    expect(sumMinor([])).toBe(0);
  });
});

describe('formatMoney', () => {
  it.each([
    [147600, 'EUR', 'EUR 1,476.00'],
    [-231840, 'EUR', 'EUR -2,318.40'],
    [5, 'USD', 'USD 0.05'],
    [0, 'USD', 'USD 0.00'],
    [1234567, 'JPY', 'JPY 1,234,567'],
    [-5, 'KWD', 'KWD -0.005'],
    [1234567, 'KWD', 'KWD 1,234.567'],
  ])('%i %s → %s', (amount, currency, expected) => {
    expect(formatMoney(amount, currency)).toBe(expected);
  });
});

describe('parseDecimalToMinor', () => {
  it.each([
    ['14.00', 'USD', 1400],
    ['7', 'USD', 700],
    ['0.125', 'KWD', 125],
    ['1200', 'JPY', 1200],
    ['-2.5', 'EUR', -250],
  ])('%s %s → %i', (text, currency, expected) => {
    expect(parseDecimalToMinor(text, currency)).toBe(expected);
  });

  it('refuses more decimals than the currency has, and garbage', () => {
    expect(() => parseDecimalToMinor('1.5', 'JPY')).toThrow('more than 0 decimals');
    expect(() => parseDecimalToMinor('1.234', 'USD')).toThrow();
    expect(() => parseDecimalToMinor('1e3', 'USD')).toThrow('not a decimal');
  });
});
