import { randomBytes } from 'node:crypto';
import { connectDatabase, type Database } from '../../../src/db/connection';
import { listPageInScope, type ListingScope } from '../../../src/db/listing';
import { fromSubscription } from '../../../src/db/mappers';
import { sampleAccount, sampleSubscription } from '../../../src/sample-data';

/** A reseller's listing, one indexed query per account merged, paged on the real database server (FerretDB in CI). */
let db: Database;

beforeAll(async () => {
  db = await connectDatabase(process.env.MONGODB_URI!, `it_scope_${randomBytes(4).toString('hex')}`);
});
afterAll(async () => {
  await db.connection.dropDatabase().catch(() => undefined);
  await db.close();
});

const scopeOf = (accountIds: string[] | undefined): ListingScope => ({
  accountIds: accountIds && new Set(accountIds),
  mayActOnAccount: (accountId) => !accountIds || accountIds.includes(accountId),
});

/** Every page of the listing, following `nextCursor`. */
async function allPages(scope: ListingScope, limit: number, extraFilter: Record<string, unknown> = {}) {
  const pages: string[][] = [];
  let cursor: string | undefined;
  do {
    const result = await listPageInScope(db.models, db.models.subscriptions, scope, { limit, ...(cursor ? { cursor } : {}) }, extraFilter);
    pages.push(result!.page.map((doc) => String(doc._id)));
    cursor = result!.nextCursor;
  } while (cursor);
  return pages;
}

test("a scope of several accounts pages through exactly the scope's documents in _id order, as $in would", async () => {
  const accounts = Array.from({ length: 4 }, () => sampleAccount());
  // Uneven accounts, ids interleaved across them: the merge decides every page.
  const subscriptions = accounts.flatMap((account, index) => Array.from({ length: [9, 1, 14, 6][index]! }, () => sampleSubscription(account)));
  await db.models.subscriptions.insertMany(subscriptions.map((subscription) => fromSubscription(subscription)) as never);
  const scope = accounts.slice(0, 3).map((account) => account.id);
  const expected = subscriptions
    .filter((subscription) => scope.includes(subscription.accountId))
    .map((subscription) => subscription.id)
    .sort();
  const viaIn = (
    await db.models.subscriptions
      .find({ accountId: { $in: scope } }, { _id: 1 })
      .sort({ _id: 1 })
      .lean()
  ).map((doc) => String(doc._id));
  expect(viaIn).toEqual(expected);

  const pages = await allPages(scopeOf(scope), 5);
  expect(pages.flat()).toEqual(expected);
  expect(pages.map((page) => page.length)).toEqual([5, 5, 5, 5, 4]);

  // One page holding everything has no cursor; an empty scope lists nothing; no scope lists every account.
  expect(await allPages(scopeOf(scope), 500)).toEqual([expected]);
  expect(await allPages(scopeOf([]), 5)).toEqual([[]]);
  expect((await allPages(scopeOf(undefined), 500)).flat()).toEqual(subscriptions.map((subscription) => subscription.id).sort());
});

test('the extra filter applies in every account', async () => {
  const accounts = [sampleAccount(), sampleAccount()];
  const subscriptions = accounts.flatMap((account) =>
    Array.from({ length: 6 }, (_, index) => sampleSubscription(account, { status: index % 2 === 0 ? 'active' : 'expired' })),
  );
  await db.models.subscriptions.insertMany(subscriptions.map((subscription) => fromSubscription(subscription)) as never);
  const expected = subscriptions
    .filter((subscription) => subscription.status === 'expired')
    .map((subscription) => subscription.id)
    .sort();
  expect((await allPages(scopeOf(accounts.map((account) => account.id)), 2, { status: 'expired' })).flat()).toEqual(expected);
});
