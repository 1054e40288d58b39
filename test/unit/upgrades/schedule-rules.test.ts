import { addDays, utcDateOf } from '../../../src/domain/dates';
import { UpgradeError } from '../../../src/upgrades/errors';
import { dueInstantOf, requireSchedulableDate } from '../../../src/upgrades/schedule';

/** The day rules of a scheduled upgrade (docs/scheduled-upgrades.md), at the boundaries, on several days of the year. */
const refusal = (run: () => void): { rule?: unknown; field?: unknown } | undefined => {
  try {
    run();
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(UpgradeError);
    expect((error as UpgradeError).code).toBe('INVALID_SCHEDULE');
    return (error as UpgradeError).details as { rule?: unknown; field?: unknown };
  }
};

describe.each(['2026-01-01T00:00:00Z', '2026-02-28T23:59:59Z', '2027-06-15T12:00:00Z', '2028-12-31T23:30:00Z'])('on %s', (instant) => {
  const now = new Date(instant);
  const today = utcDateOf(now);
  const termEnd = addDays(today, 40);

  test('tomorrow up to the term end (inclusive) is a schedulable day', () => {
    for (const date of [addDays(today, 1), addDays(today, 20), termEnd])
      expect(refusal(() => requireSchedulableDate(date, now, termEnd, 'when.date'))).toBeUndefined();
  });

  test('today and earlier: after_today; after the term end: within_source_term; the field as named', () => {
    expect(refusal(() => requireSchedulableDate(today, now, termEnd, 'when.date'))).toEqual({ field: 'when.date', rule: 'after_today' });
    expect(refusal(() => requireSchedulableDate(addDays(today, -1), now, termEnd, 'date'))).toEqual({ field: 'date', rule: 'after_today' });
    expect(refusal(() => requireSchedulableDate(addDays(termEnd, 1), now, termEnd, 'when.date'))).toEqual({ field: 'when.date', rule: 'within_source_term' });
  });

  test('the day starts at 00:00 UTC', () => {
    expect(dueInstantOf(addDays(today, 1)).toISOString()).toBe(`${addDays(today, 1)}T00:00:00.000Z`);
  });
});
