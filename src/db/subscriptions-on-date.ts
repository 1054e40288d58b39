import type { Catalog } from '../domain/catalog';
import { utcDateOf } from '../domain/dates';
import { projectSubscription, type SubscriptionOnDate } from '../domain/subscription-on-date';
import type { Account, Subscription } from '../domain/types';
import { isDuplicateKeyError } from './duplicate-key';
import { findByIds } from './find-by-ids';
import { toAccount } from './mappers';
import type { AccountDocument, Models } from './models';

/**
 * Stored subscriptions as they stand today (domain/subscription-on-date.ts), for every reader of the API. Renewals are
 * applied lazily here, on the first read after them — no schedule to miss or run twice: each renewal (and an expiry)
 * is written to the subscription's history under an id made of the subscription and the date, so it is written once
 * whoever reads first, and the renewed term and price are stored so the price is frozen from then on. A subscription
 * an upgrade holds is not rewritten (the upgrade's changes are in flight); it is still shown renewed.
 */
type Lean<T> = T & { _id: unknown };

export interface ReadOnDate {
  now: Date;
  catalog: Catalog;
  /** Accounts of the subscriptions (renewals are priced for them); a subscription without one keeps its price. */
  accountsById: ReadonlyMap<string, Account>;
  /** Subscriptions held by an upgrade: projected but never rewritten. */
  lockedBy?: ReadonlyMap<string, string>;
}

async function recordTermEvents(models: Models, stored: Subscription, projected: SubscriptionOnDate, at: string): Promise<void> {
  const { subscription, renewals } = projected;
  const expired = stored.status === 'active' && subscription.status === 'expired';
  const entries = [
    ...renewals.map((renewal, index) => ({
      _id: `renewal:${stored.id}:${renewal.termStart}`,
      subscriptionId: stored.id,
      event: 'renewed',
      at,
      description: `term renewed automatically: ${renewal.termStart} – ${renewal.termEnd} at ${renewal.unitPrice} per seat per cycle`,
      before: index === 0 ? { termStart: stored.termStart, termEnd: stored.termEnd, unitPrice: stored.unitPrice } : { ...renewals[index - 1]! },
      after: { ...renewal },
    })),
    ...(expired
      ? [
          {
            _id: `expiry:${stored.id}:${stored.termEnd}`,
            subscriptionId: stored.id,
            event: 'expired',
            at,
            description: `term ended ${stored.termEnd} without auto-renew`,
            before: { status: stored.status },
            after: { status: 'expired' },
          },
        ]
      : []),
  ];
  if (entries.length === 0) return;
  try {
    await models.historyEntries.insertMany(entries, { ordered: false });
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error; // another reader wrote them first
  }
  const { promotionId, protectedPrice } = subscription;
  // A renewal is a new purchase: the old promotion and price protection end (the projection dropped them).
  const unset = renewals.length > 0 ? { ...(promotionId ? {} : { promotionId: 1 }), ...(protectedPrice ? {} : { protectedPrice: 1 }) } : {};
  await models.subscriptions.updateOne(
    { _id: stored.id, termEnd: stored.termEnd, status: stored.status },
    {
      $set: {
        termStart: subscription.termStart,
        termEnd: subscription.termEnd,
        unitPrice: subscription.unitPrice,
        status: subscription.status,
        billingAnchorDate: subscription.billingAnchorDate,
        chargeStart: subscription.chargeStart,
        chargeEnd: subscription.chargeEnd,
        ...(promotionId ? { promotionId } : {}),
      },
      ...(Object.keys(unset).length > 0 ? { $unset: unset } : {}),
    },
  );
}

/** Stored subscriptions as they stand on the clock's date, writing any renewal or expiry once. */
export async function subscriptionsOnDate(models: Models, subscriptions: readonly Subscription[], read: ReadOnDate): Promise<Subscription[]> {
  const today = utcDateOf(read.now);
  const at = read.now.toISOString();
  return Promise.all(
    subscriptions.map(async (stored) => {
      const account = read.accountsById.get(stored.accountId);
      const projected = projectSubscription(stored, today, account ? { catalog: read.catalog, account } : undefined);
      const changedTerm = projected.renewals.length > 0 || (stored.status === 'active' && projected.subscription.status === 'expired');
      if (changedTerm && !read.lockedBy?.has(stored.id)) await recordTermEvents(models, stored, projected, at);
      return projected.subscription;
    }),
  );
}

/**
 * The accounts of these documents, by id: one exact `_id` lookup each (the ids of one page at most; `$in` measured
 * 5 s per `GET /v1/subscriptions/:id` at 10,000 accounts under load, see src/db/find-by-ids.ts).
 */
export async function accountsOf(models: Models, docs: ReadonlyArray<{ accountId: string }>): Promise<Map<string, Account>> {
  const { byId } = await findByIds(
    models.accounts,
    docs.map((doc) => doc.accountId),
  );
  return new Map([...byId].map(([id, doc]) => [id, toAccount(doc as Lean<AccountDocument>)] as const));
}
