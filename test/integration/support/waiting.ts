import type { SystemHarness } from './system-harness';

/** Reads until `done` holds or the time is up; returns the last value read (the caller's assertion names what failed). */
export async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 150));
    value = await read();
  }
  return value;
}

/** A partial upgrade to a new subscription waits for the manual seat reassignment: confirms it once it waits. */
export async function confirmWhenWaiting(system: SystemHarness, upgradeId: string): Promise<void> {
  const waiting = await eventually(
    () => system.db.models.upgrades.findById(upgradeId).lean(),
    (upgrade) => upgrade?.status === 'awaiting_manual_seat_reassignment',
  );
  expect(waiting?.status).toBe('awaiting_manual_seat_reassignment');
  expect((await system.api('POST', `/v1/upgrades/${upgradeId}/seat-reassignment`, {})).status).toBe(200);
}
