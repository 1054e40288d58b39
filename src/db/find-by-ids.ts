import type { Model, ProjectionType } from 'mongoose';

/**
 * At most this many exact `_id` lookups in flight at once: a page (up to 500 ids) or an import (up to 1,000) spread
 * over the connection pool without queueing every lookup on it at once.
 */
export const EXACT_ID_LOOKUP_CONCURRENCY = 16;

/**
 * Runs `work` over `inputs` with at most `concurrency` at once, keeping the input order in the result. The first
 * failure rejects the result, and no further input is started after it.
 */
export async function mapPooled<I, O>(inputs: readonly I[], concurrency: number, work: (input: I) => Promise<O>): Promise<O[]> {
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  const results = new Array<O>(inputs.length);
  let next = 0;
  let failed = false;
  const lane = async () => {
    while (!failed && next < inputs.length) {
      const index = next++;
      try {
        results[index] = await work(inputs[index]!);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, inputs.length) }, lane));
  return results;
}

/** Documents read by id: those found in the order the ids were given (each id once), and the ids nothing has. */
export interface FoundByIds<T> {
  found: T[];
  byId: Map<string, T>;
  missing: string[];
}

/**
 * Reads the documents with these `_id`s by one exact `_id` lookup each, at most `EXACT_ID_LOOKUP_CONCURRENCY` at once.
 * FerretDB 1.x pushes an exact `_id` down to its store's primary key but answers `_id: { $in: [...] }` by reading the
 * whole collection (docs/architecture.md, "Queries served by an index"), so a page or a small set of ids costs the
 * same at 100 documents as at a million. Repeated ids are read once; `missing` keeps the given order.
 */
export async function findByIds<T>(
  model: Model<T>,
  ids: Iterable<string>,
  projection?: ProjectionType<T>,
  concurrency = EXACT_ID_LOOKUP_CONCURRENCY,
): Promise<FoundByIds<T & { _id: unknown }>> {
  const unique = [...new Set(ids)];
  const docs = await mapPooled(unique, concurrency, (id) => model.findById(id, projection).lean<T & { _id: unknown }>().exec());
  const byId = new Map<string, T & { _id: unknown }>();
  const missing: string[] = [];
  unique.forEach((id, index) => {
    const doc = docs[index];
    if (doc) byId.set(id, doc);
    else missing.push(id);
  });
  return { found: [...byId.values()], byId, missing };
}
