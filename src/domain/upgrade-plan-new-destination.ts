/**
 * The half of the planner for an upgrade into a new subscription, co-termed with the source: the source's cycle and
 * term, the target's current price. A full upgrade converts the source in place; a partial one leaves the remaining
 * seats on the source and creates the new subscription.
 */
import { hasInstallments } from './catalog';
import { currentUnitPrice } from './pricing';
import { billingAnchorOf, cyclesAfter } from './billing-cycle';
import { toBigInt, toMinorUnits } from './money';
import { chargeCycleOf, draftInvoice, futurePendingInstallments, prorateLine } from './proration';
import type { Installment, Subscription } from './types';
import type { DestinationPlan, DestinationPlanContext, InstallmentPlanChange, SubscriptionChange } from './upgrade-plan-types';

/**
 * The remaining installments of `subscription`'s term (projected on the upgrade date) for `quantity` seats at
 * `unitPrice`, all pending: its cycles after the current one (billing-cycle.ts), each unitPrice × quantity.
 */
export function pendingInstallments(subscription: Subscription, unitPrice: number, quantity: number): Installment[] {
  const amount = toMinorUnits(toBigInt(unitPrice) * toBigInt(quantity));
  return cyclesAfter(subscription, subscription.chargeEnd, subscription.chargeEnd).map((cycle) => ({
    periodStart: cycle.chargeStart,
    periodEnd: cycle.chargeEnd,
    amount,
    quantity,
    status: 'pending',
  }));
}

/** `seats` leave the source, which keeps the rest. */
export function sourceLosesSeats(source: Subscription, seats: number): SubscriptionChange {
  return { subscriptionId: source.id, set: { quantity: source.quantity - seats }, unset: [], before: { quantity: source.quantity } };
}

export function planToNewSubscription(context: DestinationPlanContext): DestinationPlan {
  const { source, sourceAccount, catalog, targetProductId, quantity: n, kind, upgradeDate, taxRateBasisPoints } = context;
  const sourceHasInstallments = hasInstallments(source.term, source.billingFrequency);
  const price = currentUnitPrice({
    catalog,
    account: sourceAccount,
    productId: targetProductId,
    term: source.term,
    billingFrequency: source.billingFrequency,
    currency: source.currency,
    date: upgradeDate,
  });
  if (!price) throw new Error(`eligibility passed but ${targetProductId} has no price`); // TARGET_PRICE_NOT_AVAILABLE guards this
  const promotionId = price.promotion?.promotionId;
  const protectedPrice = { unitPrice: price.unitPrice, until: source.termEnd };
  const debitLine = prorateLine('debit', {
    productId: targetProductId,
    ...(kind === 'full' ? { subscriptionId: source.id } : {}),
    unitPrice: price.unitPrice,
    quantity: n,
    upgradeDate,
    ...chargeCycleOf(source),
  });
  const debit = draftInvoice('debit', source.currency, [debitLine], taxRateBasisPoints);
  const installmentChanges: InstallmentPlanChange[] = [];
  const promotion = promotionId ? { promotionId } : {};

  if (kind === 'full') {
    // Converted in place: same ids, anchor and end date; start date = upgrade date. The anchor is written so the cycles
    // stay the source's (a later proration in this cycle still divides by the whole anchor period that was billed),
    // and the term as it stands today (a renewal not yet written is written now).
    const sourceChange: SubscriptionChange = {
      subscriptionId: source.id,
      set: {
        productId: targetProductId,
        termStart: upgradeDate,
        termEnd: source.termEnd,
        billingAnchorDate: billingAnchorOf(source),
        chargeStart: upgradeDate,
        chargeEnd: source.chargeEnd,
        unitPrice: price.unitPrice,
        protectedPrice,
        ...promotion,
      },
      unset: promotionId || source.promotionId === undefined ? [] : ['promotionId'],
      before: {
        productId: source.productId,
        termStart: source.termStart,
        termEnd: source.termEnd,
        billingAnchorDate: billingAnchorOf(source),
        chargeStart: source.chargeStart,
        chargeEnd: source.chargeEnd,
        unitPrice: source.unitPrice,
        ...(source.protectedPrice ? { protectedPrice: source.protectedPrice } : {}),
        ...(source.promotionId ? { promotionId: source.promotionId } : {}),
      },
    };
    if (sourceHasInstallments) {
      installmentChanges.push({ subscriptionId: source.id, cancel: futurePendingInstallments(source), add: pendingInstallments(source, price.unitPrice, n) });
    }
    return { sourceChange, debit, installmentChanges, ...promotion };
  }

  const newSubscription = {
    accountId: source.accountId,
    productId: targetProductId,
    quantity: n,
    status: 'active' as const,
    isTrial: false,
    term: source.term,
    billingFrequency: source.billingFrequency,
    // Co-termed with the source: its anchor and end date; its first cycle runs from the upgrade date to the end of the
    // source's current cycle, and the later ones are the source's.
    termStart: upgradeDate,
    termEnd: source.termEnd,
    billingAnchorDate: billingAnchorOf(source),
    autoRenew: source.autoRenew !== false,
    chargeStart: upgradeDate,
    chargeEnd: source.chargeEnd,
    cancellationWindowEndsAt: source.cancellationWindowEndsAt,
    unitPrice: price.unitPrice,
    currency: source.currency,
    protectedPrice,
    ...(source.partnerId ? { partnerId: source.partnerId } : {}),
    ...promotion,
    ...(sourceHasInstallments ? { installmentPlan: { installments: pendingInstallments(source, price.unitPrice, n) } } : {}),
  };
  if (sourceHasInstallments) {
    // The source's remaining seats keep being billed, at their own price, on a re-issued schedule.
    installmentChanges.push({
      subscriptionId: source.id,
      cancel: futurePendingInstallments(source),
      add: pendingInstallments(source, source.unitPrice, source.quantity - n),
    });
  }
  return { sourceChange: sourceLosesSeats(source, n), newSubscription, debit, installmentChanges, ...promotion };
}
