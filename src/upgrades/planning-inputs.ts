import { loadAccount, loadAccountSubscriptions, loadSubscription } from '../db/mappers';
import type { Models } from '../db/models';
import { lockHoldersInAccount, lockHoldersOf } from '../db/subscription-locks';
import { subscriptionsOnDate } from '../db/subscriptions-on-date';
import { subscriptionOn, subscriptionsHeldBy, utcDateOf, type Account, type Catalog, type Subscription, type UpgradeRequest } from '../domain';
import { planUpgrade } from '../domain/upgrade-plan';
import type { UpgradePlanInput, UpgradePlanResult } from '../domain/upgrade-plan-types';

/**
 * The one loader of what the planner (`planUpgrade`) judges a request on: the source, its account, the named existing
 * destination, the account's subscriptions, the catalog, and which of the source and destination another upgrade
 * holds. The API (quote, start) and the worker's validation activity both read through it.
 *
 * Reads go out together: the catalog and the lock holders always in the first round; with `accountId` (the account
 * the request was accepted for) that account and its subscriptions too, which normally hold the source and an
 * existing destination, so one round suffices; without it the source, whose account the second round reads. Either is
 * read on its own only when it is not there.
 */
export interface PlanningInputs {
  source: Subscription;
  sourceAccount: Account;
  /** The existing destination the request names, as loaded; undefined when missing or outside `mayActOnAccount`. */
  destination: Subscription | undefined;
  accountSubscriptions: Subscription[];
  catalog: Catalog;
  /** The upgrade holding each of the source and destination that an upgrade other than `ownUpgradeId` holds, source first. */
  heldByOthers: Map<string, string>;
}

export type PlanningInputsResult =
  | ({ found: true } & PlanningInputs)
  /** No such source (or, with `mayActOnAccount`, one the caller may not see); or its account is missing. */
  | { found: false; missing: 'source' }
  | { found: false; missing: 'sourceAccount'; source: Subscription };

export interface PlanningStore {
  models: Models;
  /** The catalog as this process reads it (the API's cached source, or a fresh read). */
  catalog: () => Promise<Catalog>;
}

export interface PlanningScope {
  /** The account the request was accepted for: read first, with everything else. */
  accountId?: string;
  /** Who asks: a source outside it is missing; an existing destination outside it is presented as not found. */
  mayActOnAccount?: (accountId: string) => boolean;
  /** This upgrade's own locks don't make its subscriptions busy (a re-validation, a repeated start). */
  ownUpgradeId?: string;
  /**
   * The API's clock: the subscriptions come back as they stand on its date, and a renewal or expiry they went through
   * is written once (db/subscriptions-on-date.ts). Without it they come back as stored; `planUpgrade` judges them on
   * the upgrade date either way.
   */
  now?: Date;
}

export async function loadPlanningInputs(store: PlanningStore, request: UpgradeRequest, scope: PlanningScope = {}): Promise<PlanningInputsResult> {
  const { models } = store;
  const visible = (subscription: Subscription | undefined): Subscription | undefined =>
    subscription && (!scope.mayActOnAccount || scope.mayActOnAccount(subscription.accountId)) ? subscription : undefined;

  const [accountOfScope, subscriptionsOfScope, catalog, lockHolders, sourceAlone] = await Promise.all([
    scope.accountId ? loadAccount(models, scope.accountId) : undefined,
    scope.accountId ? loadAccountSubscriptions(models, scope.accountId) : undefined,
    store.catalog(),
    lockHoldersOf(models, subscriptionsHeldBy(request)),
    // Without an account to read, the source is read in the first round too (its account is known only after it).
    scope.accountId ? undefined : loadSubscription(models, request.sourceSubscriptionId),
  ]);
  const source = visible(
    sourceAlone ??
      subscriptionsOfScope?.find((subscription) => subscription.id === request.sourceSubscriptionId) ??
      (await loadSubscription(models, request.sourceSubscriptionId)),
  );
  if (!source) return { found: false, missing: 'source' };

  const [sourceAccount, accountSubscriptions] =
    subscriptionsOfScope && source.accountId === scope.accountId
      ? [accountOfScope, subscriptionsOfScope]
      : await Promise.all([loadAccount(models, source.accountId), loadAccountSubscriptions(models, source.accountId)]);
  if (!sourceAccount) return { found: false, missing: 'sourceAccount', source };

  const destinationId = request.destination.type === 'existing' ? request.destination.subscriptionId : undefined;
  const destination = destinationId
    ? visible(accountSubscriptions.find((subscription) => subscription.id === destinationId) ?? (await loadSubscription(models, destinationId)))
    : undefined;

  const heldByOthers = new Map<string, string>();
  for (const subscription of [source, destination]) {
    const holder = subscription && lockHolders.get(subscription.id);
    if (holder && holder !== scope.ownUpgradeId) heldByOthers.set(subscription.id, holder);
  }
  if (!scope.now) return { found: true, source, sourceAccount, destination, accountSubscriptions, catalog, heldByOthers };
  // Only the source and the destination are written (their locks were read); the others are only projected.
  const read = { now: scope.now, catalog, accountsById: new Map([[sourceAccount.id, sourceAccount]]), lockedBy: lockHolders };
  const [sourceOnDate, destinationOnDate] = await subscriptionsOnDate(models, [source, ...(destination ? [destination] : [])], read);
  const today = utcDateOf(scope.now);
  return {
    found: true,
    source: sourceOnDate!,
    sourceAccount,
    destination: destinationOnDate,
    accountSubscriptions: accountSubscriptions.map((subscription) => subscriptionOn(subscription, today, { catalog, account: sourceAccount })),
    catalog,
    heldByOthers,
  };
}

/** What `upgrade-options` judges every target on: the source's side of `PlanningInputs`, with every lock of its account. */
export type UpgradeOptionsInputs = Omit<PlanningInputs, 'destination'>;

/**
 * The inputs of the upgrade options of one source (every target, every existing candidate): as `loadPlanningInputs`,
 * but with no request yet, so no destination, and the lock holders of the whole account (each candidate may be busy).
 */
export async function loadUpgradeOptionsInputs(
  store: PlanningStore,
  sourceSubscriptionId: string,
  scope: Pick<PlanningScope, 'mayActOnAccount' | 'now'> = {},
): Promise<UpgradeOptionsInputs | undefined> {
  const { models } = store;
  const [source, catalog] = await Promise.all([loadSubscription(models, sourceSubscriptionId), store.catalog()]);
  if (!source || (scope.mayActOnAccount && !scope.mayActOnAccount(source.accountId))) return undefined;
  const [sourceAccount, accountSubscriptions, heldByOthers] = await Promise.all([
    loadAccount(models, source.accountId),
    loadAccountSubscriptions(models, source.accountId),
    lockHoldersInAccount(models, source.accountId),
  ]);
  if (!sourceAccount) return undefined;
  if (!scope.now) return { source, sourceAccount, accountSubscriptions, catalog, heldByOthers };
  // Every candidate as it stands today; the account's locks are all known, so renewals are written here too.
  const onDate = await subscriptionsOnDate(models, accountSubscriptions, {
    now: scope.now,
    catalog,
    accountsById: new Map([[sourceAccount.id, sourceAccount]]),
    lockedBy: heldByOthers,
  });
  const sourceOnDate =
    onDate.find((subscription) => subscription.id === source.id) ?? subscriptionOn(source, utcDateOf(scope.now), { catalog, account: sourceAccount });
  return { source: sourceOnDate, sourceAccount, accountSubscriptions: onDate, catalog, heldByOthers };
}

/**
 * The planner run on loaded inputs: the one call shared by the start, the retry's re-plan and the worker's validation,
 * so all three judge a request on the same subscriptions, the same locks held by others and the same policy.
 */
export function planFromInputs(
  request: UpgradeRequest,
  inputs: PlanningInputs,
  judged: Pick<UpgradePlanInput, 'now' | 'policy' | 'caller'>,
): UpgradePlanResult {
  return planUpgrade({
    request,
    source: inputs.source,
    sourceAccount: inputs.sourceAccount,
    ...(inputs.destination ? { destination: inputs.destination } : {}),
    accountSubscriptions: inputs.accountSubscriptions,
    catalog: inputs.catalog,
    ...judged,
    busySubscriptionIds: [...inputs.heldByOthers.keys()],
  });
}
