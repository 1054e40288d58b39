/**
 * Where "now" comes from. The API and the activities take a `Clock` in their deps and read the date from it only;
 * production passes `systemClock`, tests that travel in time pass one `movableClock` to both, the same idea as the
 * Partner Center simulator's admin clock (the start-up clock plus an offset that only moves forward when told).
 */
export type Clock = () => Date;

export const systemClock: Clock = () => new Date();

const MS_PER_DAY = 86_400_000;

export interface MovableClock extends Clock {
  /** Moves the clock to this instant; it keeps ticking from there at the real pace. */
  travelTo(instant: Date | string): void;
  advanceDays(days: number): void;
}

/** A clock that starts at `start` and ticks at the real pace, until told to jump. */
export function movableClock(start: Date | string, realNow: () => number = Date.now): MovableClock {
  let offsetMs = new Date(start).getTime() - realNow();
  const clock = (() => new Date(realNow() + offsetMs)) as MovableClock;
  clock.travelTo = (instant) => {
    offsetMs = new Date(instant).getTime() - realNow();
  };
  clock.advanceDays = (days) => {
    if (!Number.isInteger(days)) throw new RangeError(`days must be an integer, got ${days}`);
    offsetMs += days * MS_PER_DAY;
  };
  return clock;
}
