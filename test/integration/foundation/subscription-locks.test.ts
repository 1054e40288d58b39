import { randomBytes } from 'node:crypto';
import { connectDatabase, type Database } from '../../../src/db/connection';
import { fromSubscription } from '../../../src/db/mappers';
import { lockHoldersInAccount, lockHoldersOf, lockSubscriptions, releaseSubscriptions, subscriptionsLockedByOthers } from '../../../src/db/subscription-locks';
import { sampleAccount as makeAccount, sampleSubscription as makeSubscription } from '../../../src/sample-data';

/** Locks on the real database server (FerretDB in CI), under real concurrency. */
let db: Database;

beforeAll(async () => {
  db = await connectDatabase(process.env.MONGODB_URI!, `it_locks_${randomBytes(4).toString('hex')}`);
});
afterAll(async () => {
  await db.connection.dropDatabase().catch(() => undefined);
  await db.close();
});

let account: ReturnType<typeof makeAccount>;

/** Subscriptions of a fresh account (kept in `account`). */
async function seedSubscriptions(count: number): Promise<string[]> {
  account = makeAccount();
  const subscriptions = Array.from({ length: count }, () => makeSubscription(account));
  await db.models.subscriptions.insertMany(subscriptions.map((s) => fromSubscription(s)));
  return subscriptions.map((s) => s.id);
}

test('50 upgrades racing for one subscription: exactly one gets it', async () => {
  const [subscriptionId] = await seedSubscriptions(1);
  const results = await Promise.all(Array.from({ length: 50 }, (_, i) => lockSubscriptions(db.models, `upg_race_${i}`, account.id, [subscriptionId!])));
  const winners = results.map((result, i) => (result.locked ? i : -1)).filter((i) => i >= 0);
  expect(winners).toHaveLength(1);
  const loser = results.find((result) => !result.locked);
  expect(loser).toEqual({ locked: false, heldBy: [{ subscriptionId, upgradeId: `upg_race_${winners[0]}` }] });
  expect((await lockHoldersOf(db.models, [subscriptionId!])).get(subscriptionId!)).toBe(`upg_race_${winners[0]}`);
});

test('locking a pair is all or nothing, idempotent for the holder, and released only by the holder', async () => {
  const [a, b] = await seedSubscriptions(2);
  expect(await lockSubscriptions(db.models, 'upg_b', account.id, [b!])).toEqual({ locked: true });
  expect(await lockSubscriptions(db.models, 'upg_a', account.id, [a!, b!])).toMatchObject({ locked: false });
  expect(await subscriptionsLockedByOthers(db.models, [a!, b!], 'upg_x')).toEqual([b]); // a was given back
  expect(await lockSubscriptions(db.models, 'upg_b', account.id, [b!])).toEqual({ locked: true }); // same holder again
  expect(await releaseSubscriptions(db.models, 'upg_a', [a!, b!])).toBe(0); // not the holder
  expect(await releaseSubscriptions(db.models, 'upg_b', [a!, b!])).toBe(1);
  expect(await releaseSubscriptions(db.models, 'upg_b', [a!, b!])).toBe(0);
  expect(await lockSubscriptions(db.models, 'upg_a', account.id, [a!, b!])).toEqual({ locked: true });
  expect([...(await lockHoldersOf(db.models, [a!, b!])).values()]).toEqual(['upg_a', 'upg_a']);
});

test("an account's locked subscriptions are read in one query, with their holders", async () => {
  const [a, b, c] = await seedSubscriptions(3);
  const accountId = account.id;
  expect(await lockSubscriptions(db.models, 'upg_one', accountId, [a!])).toEqual({ locked: true });
  expect(await lockSubscriptions(db.models, 'upg_two', accountId, [b!])).toEqual({ locked: true });
  const otherSubscriptions = await seedSubscriptions(1);
  expect(await lockSubscriptions(db.models, 'upg_other', account.id, otherSubscriptions)).toEqual({ locked: true });
  expect(Object.fromEntries(await lockHoldersInAccount(db.models, accountId))).toEqual({ [a!]: 'upg_one', [b!]: 'upg_two' });
  expect((await lockHoldersOf(db.models, [a!, b!, c!])).size).toBe(2); // the $in path agrees
  await releaseSubscriptions(db.models, 'upg_one', [a!]);
  expect([...(await lockHoldersInAccount(db.models, accountId)).keys()]).toEqual([b]);
});

test('two claims of one upgrade racing for its pair: one takes both, and the loser releases none of them', async () => {
  const [a, b] = await seedSubscriptions(2);
  const claims = Array.from({ length: 10 }, (_, i) => `retry-${i}`);
  const results = await Promise.all(claims.map((claim) => lockSubscriptions(db.models, 'upg_retried', account.id, [a!, b!], claim)));
  const winners = claims.filter((_, i) => results[i]!.locked);
  expect(winners).toHaveLength(1);
  for (const result of results) if (!result.locked) expect(result.heldBy).toEqual([{ subscriptionId: [a!, b!].sort()[0], upgradeId: 'upg_retried' }]);
  // Each loser cleans up with its own claim: the winner's locks stay.
  for (const claim of claims.filter((claim) => claim !== winners[0])) expect(await releaseSubscriptions(db.models, 'upg_retried', [a!, b!], claim)).toBe(0);
  expect([...(await lockHoldersOf(db.models, [a!, b!])).values()]).toEqual(['upg_retried', 'upg_retried']);
  // The winner takes them again (a retried activity) and releases them.
  expect(await lockSubscriptions(db.models, 'upg_retried', account.id, [a!, b!], winners[0])).toEqual({ locked: true });
  expect(await releaseSubscriptions(db.models, 'upg_retried', [a!, b!], winners[0])).toBe(2);
});

test('a caller without a claim (a run from before claims) acts for the whole upgrade', async () => {
  const [a] = await seedSubscriptions(1);
  expect(await lockSubscriptions(db.models, 'upg_old', account.id, [a!], 'start')).toEqual({ locked: true });
  expect(await lockSubscriptions(db.models, 'upg_old', account.id, [a!])).toEqual({ locked: true });
  expect(await releaseSubscriptions(db.models, 'upg_old', [a!])).toBe(1);
});
