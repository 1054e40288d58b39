import type { Model } from 'mongoose';
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
  if (query.accountId) filter.accountId = query.accountId;
  else if (scope.accountIds) filter.accountId = { $in: [...scope.accountIds] };
  if (query.cursor) filter._id = { $gt: query.cursor };
  const limit = query.limit ?? 100;
  const docs = (await collection
    .find(filter as never)
    .sort({ _id: 1 })
    .limit(limit + 1)
    .lean()) as Array<T & { _id: unknown }>;
  const page = docs.slice(0, limit);
  return { page, ...(docs.length > limit ? { nextCursor: String(page[page.length - 1]!._id) } : {}) };
}
