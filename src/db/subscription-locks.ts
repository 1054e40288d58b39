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
  await models.subscriptions.updateMany({ _id: { $in: taken } }, { $set: { lockedByUpgradeId: upgradeId, lockedAt: new Date() } });
  return { locked: true };
}

/** Releases only the locks this upgrade holds; releasing twice, or a lock never taken, is a no-op. */
export async function releaseSubscriptions(models: Models, upgradeId: string, subscriptionIds?: readonly string[]): Promise<number> {
  const filter = subscriptionIds ? { _id: { $in: [...subscriptionIds] }, upgradeId } : { upgradeId };
  const held = (await models.subscriptionLocks.find(filter, { _id: 1 }).lean()).map((lock) => String(lock._id));
  if (held.length === 0) return 0;
  // Mirror first: once the lock document is gone another upgrade may take it and write its own mirror.
  await models.subscriptions.updateMany({ _id: { $in: held }, lockedByUpgradeId: upgradeId }, { $set: { lockedByUpgradeId: null, lockedAt: null } });
  const result = await models.subscriptionLocks.deleteMany({ _id: { $in: held }, upgradeId });
  return result.deletedCount;
}

/** Subscriptions (of these) locked by an upgrade other than `upgradeId`. */
export async function subscriptionsLockedByOthers(models: Models, subscriptionIds: readonly string[], upgradeId?: string): Promise<string[]> {
  const locks = await models.subscriptionLocks.find({ _id: { $in: [...subscriptionIds] } }).lean();
  return locks.filter((lock) => lock.upgradeId !== upgradeId).map((lock) => String(lock._id));
}
