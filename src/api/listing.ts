import type { Model } from 'mongoose';
import type { Caller } from './auth';
import { notFound } from './errors';
import type { Models } from '../db/models';

/**
 * The list endpoints' shared shape: an optional `accountId` the caller must be allowed to see (404 otherwise, as for a
 * missing account), else every account of the caller's scope; `_id` cursor paging.
 */
export async function listPage<T>(
  models: Models,
  collection: Model<T>,
  caller: Caller,
  query: { accountId?: string; cursor?: string; limit?: number },
  extraFilter: Record<string, unknown> = {},
): Promise<{ page: Array<T & { _id: unknown }>; nextCursor?: string }> {
  if (query.accountId && (!caller.mayActOnAccount(query.accountId) || !(await models.accounts.exists({ _id: query.accountId })))) {
    throw notFound(`Account ${query.accountId}`);
  }
  const filter: Record<string, unknown> = { ...extraFilter };
  if (query.accountId) filter.accountId = query.accountId;
  else if (caller.accountIds) filter.accountId = { $in: [...caller.accountIds] };
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
