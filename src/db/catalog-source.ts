import type { Catalog } from '../domain/catalog';

/**
 * The catalog as the API reads it on every eligibility check. Products, prices and upgrade paths change a few times
 * a month (an import, a vendor sync), yet the catalog is the largest read of `upgrade-options` and of a start, so the
 * API keeps it for `maxAgeMs`. An import or sync through this process drops it at once; another API instance's
 * import is seen within `maxAgeMs` (a preview or a start judged on a catalog that old is acceptable: prices take effect
 * on dates carried by the catalog itself, and the worker re-validates every upgrade against the stored catalog).
 * With `maxAgeMs` 0 every call reads the database. Concurrent callers share one read.
 */
export interface CatalogSource {
  get(): Promise<Catalog>;
  invalidate(): void;
}

export function createCatalogSource(load: () => Promise<Catalog>, maxAgeMs: number, now: () => number = Date.now): CatalogSource {
  let cached: { catalog: Promise<Catalog>; loadedAt: number } | undefined;
  return {
    get() {
      if (maxAgeMs <= 0) return load();
      if (cached && now() - cached.loadedAt < maxAgeMs) return cached.catalog;
      const catalog = load();
      const entry = { catalog, loadedAt: now() };
      cached = entry;
      // A failed read is not kept. (A read that overlaps an import is dropped by the import's invalidate().)
      catalog.catch(() => {
        if (cached === entry) cached = undefined;
      });
      return catalog;
    },
    invalidate() {
      cached = undefined;
    },
  };
}
