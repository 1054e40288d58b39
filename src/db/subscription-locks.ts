import type { Models } from './models';

/**
 * One running upgrade per subscription (source or destination). A lock is a document in `subscription_locks` whose
 * `_id` is the subscription id: taking it is an insert, and a duplicate-key error means someone holds it. Inserts
 * are the one write FerretDB 1.x applies atomically under concurrency (its conditional updates are not), and they
 * need no transaction. Taking is idempotent for the same upgrade (a retried activity, a repeated accept).
 * `subscriptions.lockedByUpgradeId` mirrors the holder for reads; the lock document is the truth.
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
  // One write per id: FerretDB 1.x scans the whole collection for any filter other than exactly `{ _id }`.
  for (const subscriptionId of taken) {
    await models.subscriptions.updateOne({ _id: subscriptionId }, { $set: { lockedByUpgradeId: upgradeId, lockedAt: new Date() } });
  }
  return { locked: true };
}

/** Releases the locks this upgrade holds among `subscriptionIds`; releasing twice, or a lock never taken, is a no-op. */
export async function releaseSubscriptions(models: Models, upgradeId: string, subscriptionIds: readonly string[]): Promise<number> {
  let released = 0;
  for (const subscriptionId of new Set(subscriptionIds)) {
    const lock = await models.subscriptionLocks.findById(subscriptionId).lean();
    if (lock?.upgradeId !== upgradeId) continue;
    // Mirror first: once the lock document is gone another upgrade may take it and write its own mirror.
    await models.subscriptions.updateOne({ _id: subscriptionId }, { $set: { lockedByUpgradeId: null, lockedAt: null } });
    released += (await models.subscriptionLocks.deleteOne({ _id: subscriptionId })).deletedCount;
  }
  return released;
}

/** Subscriptions (of these) locked by an upgrade other than `upgradeId`. */
export async function subscriptionsLockedByOthers(models: Models, subscriptionIds: readonly string[], upgradeId?: string): Promise<string[]> {
  const held: string[] = [];
  for (const subscriptionId of new Set(subscriptionIds)) {
    const lock = await models.subscriptionLocks.findById(subscriptionId).lean();
    if (lock && lock.upgradeId !== upgradeId) held.push(subscriptionId);
  }
  return held;
}
