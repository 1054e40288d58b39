import { addDays, addMonths, compareDates, daysInclusive, daysInMonth, isIsoDate, isIsoInstant, isWithin, utcDateOf } from '../../../src/domain/dates';

describe('IsoDate validation', () => {
  it.each(['2024-02-29', '2025-12-31', '2025-01-01', '2000-02-29'])('accepts %s', (date) => {
    expect(isIsoDate(date)).toBe(true);
  });
  it.each(['2021-02-30', '2023-02-29', '1900-02-29', '2025-13-01', '2025-00-10', '2025-04-31', '2025-4-1', '20250401', '', 20250401, null])(
    'rejects %p',
    (date) => {
      expect(isIsoDate(date)).toBe(false);
    },
  );
});

describe('day counts (both ends included)', () => {
  it.each([
    ['2021-06-18', '2021-07-17', 30],
    ['2025-04-10', '2025-05-09', 30],
    ['2025-03-25', '2025-04-24', 31],
    ['2024-02-01', '2024-02-29', 29], // leap February
    ['2025-02-01', '2025-02-28', 28],
    ['2025-01-01', '2025-01-31', 31],
    ['2024-01-15', '2025-01-14', 366], // annual across 29 Feb 2024
    ['2025-01-15', '2026-01-14', 365],
    ['2025-04-12', '2025-04-12', 1],
  ])('days(%s, %s) = %i', (from, to, days) => {
    expect(daysInclusive(from, to)).toBe(days);
  });

  it('does not depend on DST or the process time zone (UTC only)', () => {
    expect(daysInclusive('2025-03-01', '2025-03-31')).toBe(31); // EU/US DST switch inside
    expect(daysInclusive('2025-10-01', '2025-10-31')).toBe(31);
  });
});

describe('addDays / addMonths', () => {
  it('adds days across month and year ends', () => {
    expect(addDays('2024-02-28', 1)).toBe('2024-02-29');
    expect(addDays('2025-02-28', 1)).toBe('2025-03-01');
    expect(addDays('2025-12-31', 1)).toBe('2026-01-01');
    expect(addDays('2025-01-01', -1)).toBe('2024-12-31');
  });

  it.each([
    ['2024-01-31', 1, '2024-02-29'],
    ['2025-01-31', 1, '2025-02-28'],
    ['2025-01-31', 2, '2025-03-31'], // from the anchor: no drift to the 28th
    ['2025-03-31', 1, '2025-04-30'],
    ['2025-05-15', 12, '2026-05-15'],
    ['2024-02-29', 12, '2025-02-28'],
    ['2025-03-31', -1, '2025-02-28'],
    ['2025-01-15', -1, '2024-12-15'],
    ['2026-01-01', -36, '2023-01-01'],
  ])('addMonths(%s, %i) = %s', (date, months, expected) => {
    expect(addMonths(date, months)).toBe(expected);
  });

  it('knows month lengths', () => {
    expect(daysInMonth(2024, 2)).toBe(29);
    expect(daysInMonth(2100, 2)).toBe(28);
    expect(daysInMonth(2025, 4)).toBe(30);
  });
});

describe('comparisons', () => {
  it('compares and checks inclusive ranges', () => {
    expect(compareDates('2025-04-01', '2025-04-02')).toBe(-1);
    expect(compareDates('2025-04-02', '2025-04-02')).toBe(0);
    expect(isWithin('2025-04-30', '2025-04-01', '2025-04-30')).toBe(true);
    expect(isWithin('2025-05-01', '2025-04-01', '2025-04-30')).toBe(false);
    expect(() => compareDates('2025-02-30', '2025-03-01')).toThrow();
  });
});

describe('utcDateOf', () => {
  it('takes the UTC calendar date of an instant', () => {
    expect(utcDateOf('2025-04-12T23:30:00Z')).toBe('2025-04-12');
    expect(utcDateOf('2025-04-12T23:30:00-02:00')).toBe('2025-04-13');
    expect(utcDateOf('2025-04-13T01:00:00+02:00')).toBe('2025-04-12');
    expect(utcDateOf(new Date(Date.UTC(2024, 1, 29, 12)))).toBe('2024-02-29');
  });

  it('refuses instants without a zone (JS would read them as local time)', () => {
    expect(isIsoInstant('2025-04-12T10:00:00')).toBe(false);
    expect(() => utcDateOf('2025-04-12T10:00:00')).toThrow('with a zone');
    expect(() => utcDateOf('yesterday')).toThrow();
  });
});
