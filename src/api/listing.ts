import type { Model } from 'mongoose';
import type { Caller } from './auth';
import { notFound } from './errors';
import type { Models } from '../db/models';
import { listPageInScope, type ListingQuery } from '../db/listing';

/** A page of `collection` in the caller's scope (`listPageInScope`); a named account it may not see is a 404. */
export async function listPage<T>(
  models: Models,
  collection: Model<T>,
  caller: Caller,
  query: ListingQuery,
  extraFilter: Record<string, unknown> = {},
): Promise<{ page: Array<T & { _id: unknown }>; nextCursor?: string }> {
  const result = await listPageInScope(models, collection, caller, query, extraFilter);
  if (!result) throw notFound(`Account ${query.accountId}`);
  return result;
}
