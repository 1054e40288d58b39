import { randomBytes } from 'node:crypto';
import { connectDatabase, type Database } from '../../../src/db/connection';
import { findByIds } from '../../../src/db/find-by-ids';
import { listPageInScope, type ListingScope } from '../../../src/db/listing';
import { fromSubscription } from '../../../src/db/mappers';
import { sampleAccount, sampleSubscription } from '../../../src/sample-data';

/**
 * Reads served by an index on the real database server (FerretDB in CI): by id (what they answer, whether the filter
 * reaches the store) and a reseller's listing, one indexed query per account merged and paged.
 */
let db: Database;

beforeAll(async () => {
  db = await connectDatabase(process.env.MONGODB_URI!, `it_by_ids_${randomBytes(4).toString('hex')}`);
});
afterAll(async () => {
  await db.connection.dropDatabase().catch(() => undefined);
  await db.close();
});

async function seedAccounts(count: number, extra: (index: number) => Record<string, unknown> = () => ({})) {
  const accounts = Array.from({ length: count }, (_, index) => ({ ...sampleAccount(), ...extra(index) }));
  await db.models.accounts.insertMany(accounts.map(({ id, ...fields }) => ({ _id: id, ...fields })) as never);
  return accounts.map((account) => account.id);
}

test('found in the order asked, each id once, the missing ones named in order, with the projection applied', async () => {
  const ids = await seedAccounts(40);
  const asked = ['acc_missing_b', ids[7]!, ids[3]!, ids[7]!, 'acc_missing_a', ...ids.slice(10, 35).reverse()];
  const result = await findByIds(db.models.accounts, asked, { name: 1 }, 4);
  const expectedFound = [ids[7]!, ids[3]!, ...ids.slice(10, 35).reverse()];
  expect(result.found.map((doc) => String(doc._id))).toEqual(expectedFound);
  expect([...result.byId.keys()]).toEqual(expectedFound);
  expect(result.missing).toEqual(['acc_missing_b', 'acc_missing_a']);
  expect(Object.keys(result.found[0]!).sort()).toEqual(['_id', 'name']);
});

test('no ids: nothing read, nothing missing', async () => {
  expect(await findByIds(db.models.accounts, [])).toEqual({ found: [], byId: new Map(), missing: [] });
});

/** FerretDB's explain says whether it handed the filter to its store (where the index is) or filtered rows itself. */
async function filterPushdown(filter: Record<string, unknown>): Promise<unknown> {
  const explain = (await db.connection
    .db!.collection('accounts')
    .find(filter as never)
    .explain()) as Record<string, unknown>;
  return explain.filterPushdown;
}

test('an exact _id reaches the store; _id $in does not (why findByIds reads one id at a time)', async () => {
  const ids = await seedAccounts(3);
  const exact = await filterPushdown({ _id: ids[0] });
  if (exact === undefined) return expect(await db.connection.db!.admin().command({ buildInfo: 1 })).not.toHaveProperty('ferretdbVersion');
  expect(exact).toBe(true);
  expect(await filterPushdown({ _id: { $in: ids } })).toBe(false);
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
