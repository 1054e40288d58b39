import { toAccount, toSubscription } from '../db/mappers';
import { lockHoldersInAccount, lockHoldersOf } from '../db/subscription-locks';
import { accountsOf, subscriptionsOnDate } from '../db/subscriptions-on-date';
import type { AccountDocument, Models, SubscriptionDocument } from '../db/models';
import { policyByName, type Account, type Catalog, type EligibilityPolicy, type Subscription, type UpgradeRequest } from '../domain';
import type { Caller } from './auth';
import type { ResolvedDeps } from './deps';
import { notFound } from './errors';

/**
 * Loads what the domain needs to judge an upgrade — source, its account, the named destination, the account's
 * subscriptions, the catalog and which subscriptions are busy — scoped to the caller. A source outside the caller's
 * accounts is 404; an existing destination outside them is presented to the engine as "not found", so its existence
 * never leaks through an eligibility reason.
 */
type LeanSubscription = SubscriptionDocument & { _id: unknown };

export interface UpgradeContext {
  source: Subscription;
  sourceLockedBy: string | null;
  sourceAccount: Account;
  destination: Subscription | undefined;
  destinationLockedBy: string | null;
  accountSubscriptions: Subscription[];
  catalog: Catalog;
  policy: EligibilityPolicy;
  /** Subscriptions held by another upgrade (the one named `ownUpgradeId` doesn't count). */
  busySubscriptionIds: string[];
}

export async function loadSourceContext(
  deps: ResolvedDeps,
  caller: Caller,
  sourceSubscriptionId: string,
): Promise<{
  sourceDoc: LeanSubscription;
  source: Subscription;
  sourceAccount: Account;
  accountDocs: LeanSubscription[];
  /** The account's subscriptions as they stand today, the source among them. */
  accountSubscriptions: Subscription[];
  /** Upgrade holding each of the account's locked subscriptions. */
  lockedBy: Map<string, string>;
  catalog: Catalog;
}> {
  const { models } = deps;
  const sourceDoc = (await models.subscriptions.findById(sourceSubscriptionId).lean()) as LeanSubscription | null;
  if (!sourceDoc || !caller.mayActOnAccount(sourceDoc.accountId)) throw notFound(`Subscription ${sourceSubscriptionId}`);
  const [accountDoc, accountDocs, catalog] = await Promise.all([
    models.accounts.findById(sourceDoc.accountId).lean(),
    models.subscriptions.find({ accountId: sourceDoc.accountId }).lean() as Promise<LeanSubscription[]>,
    deps.catalog.get(),
  ]);
  if (!accountDoc) throw notFound(`Subscription ${sourceSubscriptionId}`); // an orphan is as good as missing
  const sourceAccount = toAccount(accountDoc as AccountDocument & { _id: unknown });
  const lockedBy = await lockHoldersInAccount(models, sourceDoc.accountId);
  // Every rule and price below reads the subscriptions as they stand on the API's clock (renewed, expired, the cycle
  // that holds today), never the cycle that was stored.
  const accountSubscriptions = await subscriptionsOnDate(models, accountDocs, {
    now: deps.clock(),
    catalog,
    accountsById: new Map([[sourceAccount.id, sourceAccount]]),
    lockedBy,
  });
  const source =
    accountSubscriptions.find((subscription) => subscription.id === sourceSubscriptionId) ??
    (await subscriptionsOnDate(models, [sourceDoc], { now: deps.clock(), catalog, accountsById: new Map([[sourceAccount.id, sourceAccount]]), lockedBy }))[0]!;
  return { lockedBy, sourceDoc, source, sourceAccount, accountDocs, accountSubscriptions, catalog };
}

export async function loadUpgradeContext(deps: ResolvedDeps, caller: Caller, request: UpgradeRequest, ownUpgradeId?: string): Promise<UpgradeContext> {
  const { models } = deps;
  const base = await loadSourceContext(deps, caller, request.sourceSubscriptionId);
  let destinationDoc: LeanSubscription | undefined;
  if (request.destination.type === 'existing') {
    const id = request.destination.subscriptionId;
    destinationDoc =
      base.accountDocs.find((doc) => String(doc._id) === id) ?? ((await models.subscriptions.findById(id).lean()) as LeanSubscription | null) ?? undefined;
    if (destinationDoc && !caller.mayActOnAccount(destinationDoc.accountId)) destinationDoc = undefined;
  }
  // base.lockedBy holds every lock of the source's account: only a destination elsewhere needs its own read.
  const lockedBy =
    destinationDoc && destinationDoc.accountId !== base.sourceDoc.accountId
      ? new Map([...base.lockedBy, ...(await lockHoldersOf(models, [String(destinationDoc._id)]))])
      : base.lockedBy;
  const involved = [base.sourceDoc, ...(destinationDoc ? [destinationDoc] : [])].map((doc) => String(doc._id));
  const busySubscriptionIds = involved.filter((id) => lockedBy.has(id) && lockedBy.get(id) !== ownUpgradeId);
  return {
    source: base.source,
    sourceLockedBy: lockedBy.get(String(base.sourceDoc._id)) ?? null,
    sourceAccount: base.sourceAccount,
    destination: destinationDoc ? await destinationOnDate(deps, base, destinationDoc, lockedBy) : undefined,
    destinationLockedBy: destinationDoc ? (lockedBy.get(String(destinationDoc._id)) ?? null) : null,
    accountSubscriptions: base.accountSubscriptions,
    catalog: base.catalog,
    policy: policyByName(deps.config.ELIGIBILITY_POLICY),
    busySubscriptionIds,
  };
}

/** The destination as it stands today: from the account's, or (in another account) projected on its own. */
async function destinationOnDate(
  deps: ResolvedDeps,
  base: Awaited<ReturnType<typeof loadSourceContext>>,
  destinationDoc: LeanSubscription,
  lockedBy: ReadonlyMap<string, string>,
): Promise<Subscription> {
  const id = String(destinationDoc._id);
  const inAccount = base.accountSubscriptions.find((subscription) => subscription.id === id);
  if (inAccount) return inAccount;
  const accountsById = await accountsOf(deps.models, [destinationDoc]);
  const [destination] = await subscriptionsOnDate(deps.models, [destinationDoc], { now: deps.clock(), catalog: base.catalog, accountsById, lockedBy });
  return destination ?? toSubscription(destinationDoc);
}

export type { Models };
