/**
 * planUpgrade: from a request and the current data, every change an upgrade intends — subscription changes, the
 * co-termed new subscription, invoices, installment changes, vendor transition parameters and seat reassignment — as
 * data the activities apply idempotently. Eligibility is decided by the eligibility engine only; this module never
 * re-states a rule. What differs by destination is planned in `upgrade-plan-new-destination.ts` and
 * `upgrade-plan-existing-destination.ts`; the types are in `upgrade-plan-types.ts`.
 */
import type { Catalog } from './catalog';
import { utcDateOf } from './dates';
import { checkEligibility } from './eligibility';
import { formatMoney, sumMinor } from './money';
import { taxRateFor } from './pricing';
import { chargeCycleOf, draftInvoice, prorateLine } from './proration';
import { subscriptionOn } from './subscription-on-date';
import type { Subscription } from './types';
import { planIntoExistingSubscription } from './upgrade-plan-existing-destination';
import { planToNewSubscription } from './upgrade-plan-new-destination';
import type {
  DestinationType,
  NewSubscriptionFields,
  SeatReassignmentDecision,
  SubscriptionChange,
  UpgradeKind,
  UpgradePlan,
  UpgradePlanInput,
  UpgradePlanResult,
  UpgradeQuote,
} from './upgrade-plan-types';
import { upgradeKindOf } from './upgrade-shape';

export type * from './upgrade-plan-types';

/** The part of a plan portals see, kept on the upgrade record (and, for a re-planned retry, the plan it replaced). */
export type PlanSummary = Pick<UpgradePlan, 'summary' | 'quote' | 'kind' | 'upgradeDate'>;
export const planSummaryOf = (plan: UpgradePlan): PlanSummary => ({ summary: plan.summary, quote: plan.quote, kind: plan.kind, upgradeDate: plan.upgradeDate });

function decideSeatReassignment(
  kind: UpgradeKind,
  source: Subscription,
  destination: Subscription | undefined,
  accountSubscriptions: readonly Subscription[],
  catalog: Catalog,
): SeatReassignmentDecision {
  if (kind === 'partial') {
    return { mode: 'manual', reason: 'partial upgrade: the partner chooses which users move to the new product' };
  }
  const sameProductElsewhere = accountSubscriptions.filter(
    (s) => s.id !== source.id && s.productId === source.productId && (s.status === 'active' || s.status === 'suspended'),
  ).length;
  if (sameProductElsewhere > 0) {
    return {
      mode: 'manual',
      reason: `the account holds ${sameProductElsewhere} other subscription(s) of ${catalog.nameOf(source.productId)}, so Microsoft cannot tell whose licences to move`,
    };
  }
  // Normally refused earlier by DESTINATION_PARTNER_MISMATCH; stated here because distributors give it as the reason licences were not moved (docs/upgrade-kinds.md).
  if (destination && (destination.partnerId ?? '') !== (source.partnerId ?? '')) {
    return { mode: 'manual', reason: 'the destination was bought from another partner; licences must be assigned by hand' };
  }
  return { mode: 'automatic', reason: 'full upgrade: Microsoft moves the licence assignments (transition_with_license_transfer)' };
}

/** Seats of the source product that leave, and seats of the target product that arrive, per the changes. */
function countSeatMovement(
  source: Subscription,
  sourceChange: SubscriptionChange,
  destinationChange: SubscriptionChange | undefined,
  newSubscription: NewSubscriptionFields | undefined,
): UpgradePlan['seatConservation'] {
  const sourceAfterQuantity = sourceChange.set.quantity ?? source.quantity;
  const sourceSwitchedProduct = sourceChange.set.productId !== undefined && sourceChange.set.productId !== source.productId;
  const leavingSource = source.quantity - (sourceSwitchedProduct ? 0 : sourceAfterQuantity);
  const arrivingAtDestination = sourceSwitchedProduct
    ? sourceAfterQuantity
    : newSubscription
      ? newSubscription.quantity
      : (destinationChange?.set.quantity ?? 0) - (destinationChange?.before.quantity ?? 0);
  return { leavingSource, arrivingAtDestination };
}

export function planUpgrade(input: UpgradePlanInput): UpgradePlanResult {
  const { request, sourceAccount, catalog } = input;
  // Every cycle, term and price below is the one on the upgrade date (billing-cycle.ts), never a stored cycle.
  const upgradeDate = utcDateOf(input.now);
  const onUpgradeDate = (subscription: Subscription) => subscriptionOn(subscription, upgradeDate, { catalog, account: sourceAccount });
  const source = onUpgradeDate(input.source);
  if (request.sourceSubscriptionId !== source.id) {
    throw new RangeError(`request is for subscription ${request.sourceSubscriptionId} but source ${source.id} was given`);
  }
  const existing = request.destination.type === 'existing' ? request.destination : undefined;
  if (existing && input.destination && input.destination.id !== existing.subscriptionId) {
    throw new RangeError(`request names destination ${existing.subscriptionId} but ${input.destination.id} was given`);
  }

  const verdict = checkEligibility({
    source,
    sourceAccount,
    catalog,
    now: input.now,
    ...(input.policy ? { policy: input.policy } : {}),
    ...(input.caller ? { caller: input.caller } : {}),
    ...(input.busySubscriptionIds ? { busySubscriptionIds: input.busySubscriptionIds } : {}),
    targetProductId: request.targetProductId,
    quantity: request.quantity,
    destination: existing ? { subscriptionId: existing.subscriptionId, subscription: input.destination } : 'new',
  });
  if (!verdict.eligible) return { ok: false, reasons: verdict.reasons };

  const n = request.quantity;
  const kind = upgradeKindOf(n, source.quantity);
  const destination = existing && input.destination ? onUpgradeDate(input.destination) : undefined;
  const targetProductId = request.targetProductId;
  const taxRateBasisPoints = taxRateFor(sourceAccount);

  const creditLine = prorateLine('credit', {
    productId: source.productId,
    subscriptionId: source.id,
    unitPrice: source.unitPrice,
    quantity: n,
    upgradeDate,
    ...chargeCycleOf(source),
  });
  const credit = draftInvoice('credit', source.currency, [creditLine], taxRateBasisPoints);

  const context = { source, sourceAccount, catalog, targetProductId, quantity: n, kind, upgradeDate, taxRateBasisPoints };
  const { sourceChange, destinationChange, newSubscription, debit, installmentChanges, promotionId } = destination
    ? planIntoExistingSubscription(context, destination)
    : planToNewSubscription(context);

  const accountSubscriptions = (input.accountSubscriptions ?? []).map((subscription) => subscriptionOn(subscription, upgradeDate));
  const seatReassignment = decideSeatReassignment(kind, source, destination, accountSubscriptions, catalog);
  const seatConservation = countSeatMovement(source, sourceChange, destinationChange, newSubscription);
  if (seatConservation.leavingSource !== n || seatConservation.arrivingAtDestination !== n) {
    throw new Error(`seat conservation violated: ${JSON.stringify(seatConservation)} for ${n} seats`);
  }

  const quote: UpgradeQuote = {
    currency: source.currency,
    totalFees: debit.total,
    taxTotal: debit.tax,
    refund: credit.total,
    total: sumMinor([debit.total, credit.total]),
  };
  const destinationType: DestinationType = destination ? 'existing' : 'new';
  const summary =
    `${kind} upgrade of ${n}/${source.quantity} seats of ${source.id} from ${catalog.nameOf(source.productId)} ` +
    `to ${catalog.nameOf(targetProductId)} (${destination ? `into ${destination.id}` : kind === 'full' ? 'in place' : 'new subscription'}) ` +
    `on ${upgradeDate}: credit ${formatMoney(credit.total, credit.currency)}, debit ${formatMoney(debit.total, debit.currency)}`;

  return {
    ok: true,
    plan: {
      accountId: sourceAccount.id,
      upgradeDate,
      kind,
      destinationType,
      quantity: n,
      sourceSubscriptionId: source.id,
      sourceProductId: source.productId,
      targetProductId,
      ...(destination ? { destinationSubscriptionId: destination.id } : kind === 'full' ? { destinationSubscriptionId: source.id } : {}),
      vendor: {
        customerTenantId: sourceAccount.tenantId,
        chargeType: destination ? 'moveQuantity' : 'convert',
        transitionType: seatReassignment.mode === 'automatic' ? 'transition_with_license_transfer' : 'transition_only',
        fromCatalogItemId: source.productId,
        toCatalogItemId: targetProductId,
        fromSubscriptionId: source.externalId,
        ...(destination ? { toSubscriptionId: destination.externalId } : {}),
        quantity: n,
        termDuration: source.term,
        billingCycle: source.billingFrequency,
        ...(promotionId ? { promotionId } : {}),
      },
      sourceChange,
      ...(destinationChange ? { destinationChange } : {}),
      ...(newSubscription ? { newSubscription } : {}),
      credit,
      debit,
      installmentChanges,
      seatReassignment,
      seatConservation,
      quote,
      summary,
    },
  };
}
