import type { Models } from './models';
import { isDuplicateKeyError as isDuplicateKey } from './duplicate-key';
import { findByIds } from './find-by-ids';

/**
 * One running upgrade per subscription (source or destination). A lock is a document in `subscription_locks` whose
 * `_id` is the subscription id: taking it is an insert, and a duplicate-key error means someone holds it. Inserts
 * are the one write FerretDB 1.x applies atomically under concurrency (its conditional updates are not), and they
 * need no transaction. Taking is idempotent for the same upgrade (a retried activity, a repeated accept). The lock
 * document is the only record of the holder: no field on the subscription mirrors it (that was an extra rewrite of
 * a large collection per lock and release, and a second truth).
 *
 * Each claim carries a token (`claim`: one per start or retry of an upgrade, stored on the lock): only the same claim
 * takes a held lock again and only it releases, so a losing concurrent retry of the same upgrade can neither share nor
 * delete the winner's locks. Callers without a token (runs started before tokens existed) act for the upgrade as a
 * whole, as before.
 */
export type LockResult = { locked: true } | { locked: false; heldBy: Array<{ subscriptionId: string; upgradeId: string | null }> };

/** Who holds a lock: ours when the upgrade matches and, for a caller with a token, the claim too. */
function heldByUs(holder: { upgradeId: string; claim?: string | null }, upgradeId: string, claim: string | undefined): boolean {
  return holder.upgradeId === upgradeId && (claim === undefined || holder.claim === claim);
}

/** True when taken (now or before, by this claim); otherwise the upgrade holding it. */
async function takeLock(
  models: Models,
  upgradeId: string,
  accountId: string,
  subscriptionId: string,
  claim: string | undefined,
): Promise<true | string | null> {
  try {
    await models.subscriptionLocks.create({ _id: subscriptionId, upgradeId, accountId, ...(claim === undefined ? {} : { claim }) });
    return true;
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;
    const holder = await models.subscriptionLocks.findById(subscriptionId).lean();
    // Released between our insert and this read: try once more rather than report a phantom holder.
    if (!holder) return takeLock(models, upgradeId, accountId, subscriptionId, claim);
    return heldByUs(holder, upgradeId, claim) ? true : holder.upgradeId;
  }
}

/** Locks the subscriptions (all of one account: an upgrade never spans accounts) for this upgrade, all or nothing. */
export async function lockSubscriptions(
  models: Models,
  upgradeId: string,
  accountId: string,
  subscriptionIds: readonly string[],
  claim?: string,
): Promise<LockResult> {
  const taken: string[] = [];
  // Sorted so two upgrades (or two claims of one) that want the same pair always contend on the same first lock.
  for (const subscriptionId of [...new Set(subscriptionIds)].sort()) {
    const holder = await takeLock(models, upgradeId, accountId, subscriptionId, claim);
    if (holder === true) {
      taken.push(subscriptionId);
      continue;
    }
    // All or nothing: give back what this call took before reporting who holds the rest.
    await releaseSubscriptions(models, upgradeId, taken, claim);
    return { locked: false, heldBy: [{ subscriptionId, upgradeId: holder }] };
  }
  return { locked: true };
}

/**
 * Releases the locks this upgrade holds among `subscriptionIds`; releasing twice, or a lock never taken, is a no-op.
 * Each delete is filtered on the subscription, the holder and (given) the claim, so another upgrade's lock, or another
 * claim's of the same upgrade, is never removed.
 */
export async function releaseSubscriptions(models: Models, upgradeId: string, subscriptionIds: readonly string[], claim?: string): Promise<number> {
  const holder = claim === undefined ? { upgradeId } : { upgradeId, claim };
  const deleted = await Promise.all(
    [...new Set(subscriptionIds)].map(async (subscriptionId) => (await models.subscriptionLocks.deleteOne({ _id: subscriptionId, ...holder })).deletedCount),
  );
  return deleted.reduce((sum, count) => sum + count, 0);
}

/**
 * Up to this many ids (a page of a listing at most), lock holders are read with exact `_id` lookups, served from the
 * index by every store we run on; more (an import of up to 1,000) is one `$in`, which FerretDB evaluates over the
 * whole locks collection: only the running upgrades' locks, however many subscriptions there are.
 */
const EXACT_LOOKUPS_UP_TO = 500;

/** The upgrade holding each of these subscriptions, if any. An account's subscriptions: `lockHoldersInAccount`. */
export async function lockHoldersOf(models: Models, subscriptionIds: Iterable<string>): Promise<Map<string, string>> {
  const ids = [...new Set(subscriptionIds)];
  const locks =
    ids.length <= EXACT_LOOKUPS_UP_TO
      ? (await findByIds(models.subscriptionLocks, ids, { upgradeId: 1 })).found
      : await models.subscriptionLocks.find({ _id: { $in: ids } }, { upgradeId: 1 }).lean();
  return new Map(locks.map((lock) => [String(lock._id), lock.upgradeId]));
}

/**
 * The upgrade holding each locked subscription of the account, in one query on the indexed `accountId` (FerretDB
 * evaluates `$in` itself over the whole collection, but pushes an equality down to PostgreSQL's index).
 */
export async function lockHoldersInAccount(models: Models, accountId: string): Promise<Map<string, string>> {
  const locks = await models.subscriptionLocks.find({ accountId }, { upgradeId: 1 }).lean();
  return new Map(locks.map((lock) => [String(lock._id), lock.upgradeId]));
}

/** Subscriptions (of these) locked by an upgrade other than `upgradeId`. */
export async function subscriptionsLockedByOthers(models: Models, subscriptionIds: readonly string[], upgradeId?: string): Promise<string[]> {
  const holders = await lockHoldersOf(models, subscriptionIds);
  return [...holders].filter(([, holder]) => holder !== upgradeId).map(([subscriptionId]) => subscriptionId);
}
