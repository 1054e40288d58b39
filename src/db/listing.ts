import type { Model } from 'mongoose';
import { EXACT_ID_LOOKUP_CONCURRENCY, mapPooled } from './find-by-ids';
import type { Models } from './models';

/** Who lists: the accounts it may see (undefined = every account) and the check for one account. */
export interface ListingScope {
  accountIds: ReadonlySet<string> | undefined;
  mayActOnAccount(accountId: string): boolean;
}

export interface ListingQuery {
  accountId?: string;
  cursor?: string;
  limit?: number;
}

/**
 * The list endpoints' shared shape: an optional `accountId` the caller must be allowed to see, else every account of
 * the caller's scope; `_id` cursor paging. Undefined when the named account is missing or outside the scope (callers
 * answer "not found" for both, so an account's existence never leaks).
 */
export async function listPageInScope<T>(
  models: Models,
  collection: Model<T>,
  scope: ListingScope,
  query: ListingQuery,
  extraFilter: Record<string, unknown> = {},
): Promise<{ page: Array<T & { _id: unknown }>; nextCursor?: string } | undefined> {
  if (query.accountId && (!scope.mayActOnAccount(query.accountId) || !(await models.accounts.exists({ _id: query.accountId })))) return undefined;
  const filter: Record<string, unknown> = { ...extraFilter };
  if (query.cursor) filter._id = { $gt: query.cursor };
  const limit = query.limit ?? 100;
  const docs = await firstByIdInAccounts(collection, filter, query.accountId ? [query.accountId] : scope.accountIds, limit + 1);
  const page = docs.slice(0, limit);
  return { page, ...(docs.length > limit ? { nextCursor: String(page[page.length - 1]!._id) } : {}) };
}

/**
 * The first `limit` (default: all) documents by `_id` that match `filter` in these accounts (undefined = every
 * account): one query on the indexed `accountId` per account, merged. FerretDB 1.x pushes `accountId` equality down
 * to PostgreSQL's index but evaluates `accountId: { $in }` itself over the whole collection (measured: 6 ms against
 * 7.4 s at 20,000 subscriptions, docs/architecture.md "Queries served by an index"). The union's first `limit` by
 * `_id` are among each account's first `limit`, so `_id` cursor paging stays exact.
 */
export async function firstByIdInAccounts<T>(
  collection: Model<T>,
  filter: Record<string, unknown>,
  accountIds: Iterable<string> | undefined,
  limit?: number,
  projection?: Record<string, 0 | 1>,
): Promise<Array<T & { _id: unknown }>> {
  const first = (accountFilter: Record<string, unknown>) => {
    const query = collection.find({ ...filter, ...accountFilter } as never, projection).sort({ _id: 1 });
    return (limit === undefined ? query : query.limit(limit)).lean<Array<T & { _id: unknown }>>().exec();
  };
  if (accountIds === undefined) return first({});
  const perAccount = await mapPooled([...new Set(accountIds)], EXACT_ID_LOOKUP_CONCURRENCY, (accountId) => first({ accountId }));
  const merged = perAccount.flat().sort((a, b) => compareIds(String(a._id), String(b._id)));
  return limit === undefined ? merged : merged.slice(0, limit);
}

/** MongoDB's order of string `_id`s (binary, which for our ASCII ids is JavaScript's code-unit order). */
const compareIds = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
