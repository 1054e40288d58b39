import type { Models } from './models';

/**
 * One running upgrade per subscription (source or destination). A lock is a field on the subscription document,
 * taken and released by conditional single-document updates — no transactions, no separate lock collection.
 * Taking is idempotent for the same upgrade (a retried activity or a second accept of the same Idempotency-Key).
 */
export type LockResult = { locked: true } | { locked: false; heldBy: Array<{ subscriptionId: string; upgradeId: string | null }> };

export async function lockSubscriptions(models: Models, upgradeId: string, subscriptionIds: readonly string[]): Promise<LockResult> {
  const taken: string[] = [];
  // Sorted so two upgrades that want the same pair always contend on the same first document.
  for (const subscriptionId of [...new Set(subscriptionIds)].sort()) {
    const result = await models.subscriptions.updateOne(
      { _id: subscriptionId, lockedByUpgradeId: { $in: [null, upgradeId] } },
      { $set: { lockedByUpgradeId: upgradeId, lockedAt: new Date() } },
    );
    if (result.matchedCount === 1) {
      taken.push(subscriptionId);
      continue;
    }
    // All or nothing: give back what this call took before reporting who holds the rest.
    await releaseSubscriptions(models, upgradeId, taken);
    const holders = await models.subscriptions
      .find({ _id: { $in: subscriptionIds } }, { lockedByUpgradeId: 1 })
      .lean();
    return {
      locked: false,
      heldBy: holders
        .filter((holder) => holder.lockedByUpgradeId && holder.lockedByUpgradeId !== upgradeId)
        .map((holder) => ({ subscriptionId: String(holder._id), upgradeId: holder.lockedByUpgradeId ?? null })),
    };
  }
  return { locked: true };
}

/** Releases only the locks this upgrade holds; releasing twice, or a lock never taken, is a no-op. */
export async function releaseSubscriptions(models: Models, upgradeId: string, subscriptionIds?: readonly string[]): Promise<number> {
  const filter = subscriptionIds
    ? { _id: { $in: [...subscriptionIds] }, lockedByUpgradeId: upgradeId }
    : { lockedByUpgradeId: upgradeId };
  const result = await models.subscriptions.updateMany(filter, { $set: { lockedByUpgradeId: null, lockedAt: null } });
  return result.modifiedCount;
}
