import type { Models } from './models';

/**
 * One running upgrade per subscription (source or destination). A lock is a document in `subscription_locks` whose
 * `_id` is the subscription id: taking it is an insert, and a duplicate-key error means someone holds it. Inserts
 * are the one write FerretDB 1.x applies atomically under concurrency (its conditional updates are not), and they
 * need no transaction. Taking is idempotent for the same upgrade (a retried activity, a repeated accept). The lock
 * document is the only record of the holder: no field on the subscription mirrors it (that was an extra rewrite of
 * a large collection per lock and release, and a second truth).
 */
export type LockResult = { locked: true } | { locked: false; heldBy: Array<{ subscriptionId: string; upgradeId: string | null }> };

const isDuplicateKey = (error: unknown) => (error as { code?: number }).code === 11000;

async function takeLock(models: Models, upgradeId: string, subscriptionId: string): Promise<string | null> {
  try {
    await models.subscriptionLocks.create({ _id: subscriptionId, upgradeId });
    return upgradeId;
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;
    const holder = await models.subscriptionLocks.findById(subscriptionId).lean();
    // Released between our insert and this read: try once more rather than report a phantom holder.
    if (!holder) return takeLock(models, upgradeId, subscriptionId);
    return holder.upgradeId;
  }
}

export async function lockSubscriptions(models: Models, upgradeId: string, subscriptionIds: readonly string[]): Promise<LockResult> {
  const taken: string[] = [];
  // Sorted so two upgrades that want the same pair always contend on the same first lock.
  for (const subscriptionId of [...new Set(subscriptionIds)].sort()) {
    const holder = await takeLock(models, upgradeId, subscriptionId);
    if (holder === upgradeId) {
      taken.push(subscriptionId);
      continue;
    }
    // All or nothing: give back what this call took before reporting who holds the rest.
    await releaseSubscriptions(models, upgradeId, taken);
    return { locked: false, heldBy: [{ subscriptionId, upgradeId: holder }] };
  }
  return { locked: true };
}

/**
 * Releases the locks this upgrade holds among `subscriptionIds`; releasing twice, or a lock never taken, is a no-op.
 * Each delete is filtered on the subscription and the holder, so another upgrade's lock is never removed.
 */
export async function releaseSubscriptions(models: Models, upgradeId: string, subscriptionIds: readonly string[]): Promise<number> {
  const deleted = await Promise.all(
    [...new Set(subscriptionIds)].map(async (subscriptionId) => (await models.subscriptionLocks.deleteOne({ _id: subscriptionId, upgradeId })).deletedCount),
  );
  return deleted.reduce((sum, count) => sum + count, 0);
}

/** Up to this many ids, lock holders are read with parallel exact `_id` lookups; beyond, with one `$in` query. */
const PARALLEL_LOOKUPS_UP_TO = 16;

/**
 * The upgrade holding each of these subscriptions, if any. An exact `_id` lookup is served by an index on every store
 * we run on (MongoDB; FerretDB pushes it down to PostgreSQL or SQLite), while FerretDB evaluates `$in` itself over
 * the whole collection: a few ids (an account's subscriptions, a source and its destination) are looked up in
 * parallel, a page of many ids in one `$in` query.
 */
export async function lockHoldersOf(models: Models, subscriptionIds: Iterable<string>): Promise<Map<string, string>> {
  const ids = [...new Set(subscriptionIds)];
  const locks =
    ids.length <= PARALLEL_LOOKUPS_UP_TO
      ? await Promise.all(ids.map((id) => models.subscriptionLocks.findById(id, { upgradeId: 1 }).lean()))
      : await models.subscriptionLocks.find({ _id: { $in: ids } }, { upgradeId: 1 }).lean();
  const holders = new Map<string, string>();
  for (const lock of locks) if (lock) holders.set(String(lock._id), lock.upgradeId);
  return holders;
}

/** Subscriptions (of these) locked by an upgrade other than `upgradeId`. */
export async function subscriptionsLockedByOthers(models: Models, subscriptionIds: readonly string[], upgradeId?: string): Promise<string[]> {
  const holders = await lockHoldersOf(models, subscriptionIds);
  return [...holders].filter(([, holder]) => holder !== upgradeId).map(([subscriptionId]) => subscriptionId);
}
