/**
 * UTC calendar dates ('YYYY-MM-DD') for billing, and ISO instants for everything else.
 * Only Date.UTC / UTC getters / toISOString are used: the process time zone can never leak in.
 *
 * `IsoDate` is a plain string alias (not a branded type) so records read from JSON, Mongo or Temporal
 * payloads type-check without casts; validate at the boundaries with `isIsoDate` / `assertIsoDate`.
 * Valid ISO dates compare correctly as strings, which the comparisons below rely on.
 */
export type IsoDate = string;

/** An ISO-8601 instant with an explicit zone, e.g. '2025-04-12T09:30:00Z'. */
export type IsoInstant = string;

const MS_PER_DAY = 86_400_000;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
// A time without Z or an offset would be parsed as *local* time by JS, so the zone is mandatory.
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/;

export function daysInMonth(year: number, month: number): number {
  // Day 0 of the next month is the last day of this one.
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** True for a real calendar date between years 1000 and 9999 ('2021-02-30' is not one). */
export function isIsoDate(value: unknown): value is IsoDate {
  if (typeof value !== 'string') return false;
  const match = ISO_DATE.exec(value);
  if (!match) return false;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  return year >= 1000 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

function assertIsoDate(value: unknown, label = 'date'): IsoDate {
  if (!isIsoDate(value)) throw new RangeError(`${label} must be a calendar date YYYY-MM-DD, got ${JSON.stringify(value)}`);
  return value;
}

/** Days since 1970-01-01 (UTC); the single conversion every day count goes through. */
function epochDay(date: IsoDate): number {
  const [year, month, day] = assertIsoDate(date).split('-').map(Number) as [number, number, number];
  return Date.UTC(year, month - 1, day) / MS_PER_DAY;
}

function fromEpochDay(dayNumber: number): IsoDate {
  return new Date(dayNumber * MS_PER_DAY).toISOString().slice(0, 10);
}

/** Days from a to b with both ends included: daysInclusive(d, d) = 1. Zero or negative when b < a. */
export function daysInclusive(from: IsoDate, to: IsoDate): number {
  return epochDay(to) - epochDay(from) + 1;
}

export function addDays(date: IsoDate, days: number): IsoDate {
  if (!Number.isInteger(days)) throw new RangeError(`days must be an integer, got ${days}`);
  return fromEpochDay(epochDay(date) + days);
}

/**
 * Calendar months later (or earlier), clamped to the end of the target month:
 * 2024-01-31 + 1 = 2024-02-29, 2025-01-31 + 1 = 2025-02-28. Always add to the original anchor
 * (anchor + k), never chain (anchor + 1 + 1), or the 31st drifts to the 28th.
 */
export function addMonths(date: IsoDate, months: number): IsoDate {
  if (!Number.isInteger(months)) throw new RangeError(`months must be an integer, got ${months}`);
  const [year, month, day] = assertIsoDate(date).split('-').map(Number) as [number, number, number];
  const monthIndex = year * 12 + (month - 1) + months;
  const targetYear = Math.floor(monthIndex / 12);
  const targetMonth = (monthIndex % 12) + 1;
  const targetDay = Math.min(day, daysInMonth(targetYear, targetMonth));
  return fromEpochDay(Date.UTC(targetYear, targetMonth - 1, targetDay) / MS_PER_DAY);
}

export function compareDates(a: IsoDate, b: IsoDate): -1 | 0 | 1 {
  assertIsoDate(a);
  assertIsoDate(b);
  return a < b ? -1 : a > b ? 1 : 0;
}

export const isBefore = (a: IsoDate, b: IsoDate): boolean => compareDates(a, b) < 0;
export const isAfter = (a: IsoDate, b: IsoDate): boolean => compareDates(a, b) > 0;

/** from ≤ date ≤ to, both ends included. */
export function isWithin(date: IsoDate, from: IsoDate, to: IsoDate): boolean {
  return compareDates(from, date) <= 0 && compareDates(date, to) <= 0;
}

export function isIsoInstant(value: unknown): value is IsoInstant {
  return typeof value === 'string' && ISO_INSTANT.test(value) && !Number.isNaN(Date.parse(value));
}

/** Milliseconds since the epoch of an instant (string with zone, or Date). */
export function instantMs(instant: IsoInstant | Date): number {
  if (instant instanceof Date) {
    const ms = instant.getTime();
    if (Number.isNaN(ms)) throw new RangeError('invalid Date');
    return ms;
  }
  if (!isIsoInstant(instant)) throw new RangeError(`"${instant}" is not an ISO instant with a zone`);
  return Date.parse(instant);
}

/** The UTC calendar date of an instant: '2025-04-12T23:30:00-02:00' → '2025-04-13'. */
export function utcDateOf(instant: IsoInstant | Date): IsoDate {
  return new Date(instantMs(instant)).toISOString().slice(0, 10);
}

export function addHours(instant: IsoInstant | Date, hours: number): IsoInstant {
  return new Date(instantMs(instant) + hours * 3_600_000).toISOString();
}
