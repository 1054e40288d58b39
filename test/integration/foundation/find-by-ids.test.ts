import { randomBytes } from 'node:crypto';
import { connectDatabase, type Database } from '../../../src/db/connection';
import { findByIds } from '../../../src/db/find-by-ids';
import { sampleAccount } from '../../../src/sample-data';

/** Reads by id on the real database server (FerretDB in CI): what they answer, and whether the filter reaches an index. */
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
