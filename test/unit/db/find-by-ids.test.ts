import { mapPooled } from '../../../src/db/find-by-ids';

/** Resolves after `ms` milliseconds. */
const after = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('keeps the input order whatever order the work finishes in', async () => {
  const delays = [30, 5, 20, 1, 10, 0, 25];
  const results = await mapPooled(delays, 3, async (delay) => {
    await after(delay);
    return `done after ${delay}`;
  });
  expect(results).toEqual(delays.map((delay) => `done after ${delay}`));
});

test.each([1, 2, 4, 16])('never runs more than %i at once, and uses them all while there is work', async (concurrency) => {
  let running = 0;
  let mostAtOnce = 0;
  await mapPooled(
    Array.from({ length: 40 }, (_, i) => i),
    concurrency,
    async (i) => {
      running += 1;
      mostAtOnce = Math.max(mostAtOnce, running);
      await after(i % 3);
      running -= 1;
    },
  );
  expect(mostAtOnce).toBe(concurrency);
});

test('no inputs: no work, an empty result', async () => {
  const work = jest.fn(async () => 1);
  await expect(mapPooled([], 8, work)).resolves.toEqual([]);
  expect(work).not.toHaveBeenCalled();
});

test('a failure rejects the whole map, and no new work starts after it', async () => {
  const started: number[] = [];
  const mapping = mapPooled([0, 1, 2, 3, 4, 5], 2, async (i) => {
    started.push(i);
    if (i === 1) throw new Error('lookup 1 failed');
    await after(5);
    return i;
  });
  await expect(mapping).rejects.toThrow('lookup 1 failed');
  await after(50);
  expect(started).toEqual([0, 1]);
});

test.each([0, -1, 1.5, Number.NaN])('a concurrency of %p is refused', async (concurrency) => {
  await expect(mapPooled([1], concurrency, async (i) => i)).rejects.toThrow(RangeError);
});
