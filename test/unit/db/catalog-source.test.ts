import { createCatalogSource } from '../../../src/db/catalog-source';
import { Catalog } from '../../../src/domain/catalog';
import { demoProducts } from '../../../src/domain/demo-catalog';

/** A loader that counts its reads and returns a distinct catalog each time (so a reused one is recognisable). */
function countingLoader() {
  const loader = Object.assign(
    async () => {
      loader.reads += 1;
      if (loader.failNext) {
        loader.failNext = false;
        throw new Error('database unavailable');
      }
      return new Catalog(demoProducts());
    },
    { reads: 0, failNext: false },
  );
  return loader;
}

test('reuses the catalog while it is younger than maxAgeMs, reads again once it is older', async () => {
  let clock = 0;
  const load = countingLoader();
  const source = createCatalogSource(load, 5_000, () => clock);
  const first = await source.get();
  clock = 4_999;
  expect(await source.get()).toBe(first);
  expect(load.reads).toBe(1);
  clock = 5_000;
  expect(await source.get()).not.toBe(first);
  expect(load.reads).toBe(2);
});

test('an import through this process (invalidate) is seen by the next read', async () => {
  const load = countingLoader();
  const source = createCatalogSource(load, 60_000, () => 0);
  const before = await source.get();
  source.invalidate();
  expect(await source.get()).not.toBe(before);
  expect(load.reads).toBe(2);
});

test('concurrent callers share one read; a failed read is not kept', async () => {
  const load = countingLoader();
  const source = createCatalogSource(load, 60_000, () => 0);
  load.failNext = true;
  await expect(Promise.all([source.get(), source.get()])).rejects.toThrow('database unavailable');
  expect(load.reads).toBe(1);
  const [a, b] = await Promise.all([source.get(), source.get()]);
  expect(a).toBe(b);
  expect(load.reads).toBe(2);
});

test('maxAgeMs 0 reads the database on every call', async () => {
  const load = countingLoader();
  const source = createCatalogSource(load, 0);
  await source.get();
  await source.get();
  expect(load.reads).toBe(2);
});
