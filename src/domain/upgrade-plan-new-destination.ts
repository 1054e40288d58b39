/**
 * The half of the planner for an upgrade into a new subscription, co-termed with the source: the source's cycle and
 * term, the target's current price. A full upgrade converts the source in place; a partial one leaves the remaining
 * seats on the source and creates the new subscription.
 */
import { hasInstallments } from './catalog';
import { currentUnitPrice } from './pricing';
import { draftInvoice, futurePendingInstallments, prorateLine, remainingInstallments } from './proration';
import type { Installment, Subscription } from './types';
import type { DestinationPlan, DestinationPlanContext, InstallmentPlanChange, SubscriptionChange } from './upgrade-plan-types';

/** The remaining installments of `subscription`'s term for `quantity` seats at `unitPrice`, all pending. */
export function pendingInstallments(
  subscription: Pick<Subscription, 'chargeEnd' | 'termEnd' | 'billingFrequency'>,
  unitPrice: number,
  quantity: number,
): Installment[] {
  return remainingInstallments({
    currentChargeEnd: subscription.chargeEnd,
    termEnd: subscription.termEnd,
    billingFrequency: subscription.billingFrequency,
    unitPrice,
    quantity,
  }).map((installment) => ({ ...installment, status: 'pending' }));
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
    chargeStart: source.chargeStart,
    chargeEnd: source.chargeEnd,
  });
  const debit = draftInvoice('debit', source.currency, [debitLine], taxRateBasisPoints);
  const installmentChanges: InstallmentPlanChange[] = [];
  const promotion = promotionId ? { promotionId } : {};

  if (kind === 'full') {
    // Converted in place: same ids and end date; start date = upgrade date; the charge cycle is kept
    // so a later proration in this cycle still divides by the cycle that was billed.
    const sourceChange: SubscriptionChange = {
      subscriptionId: source.id,
      set: { productId: targetProductId, termStart: upgradeDate, unitPrice: price.unitPrice, protectedPrice, ...promotion },
      unset: promotionId || source.promotionId === undefined ? [] : ['promotionId'],
      before: {
        productId: source.productId,
        termStart: source.termStart,
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
    termStart: upgradeDate,
    termEnd: source.termEnd,
    chargeStart: source.chargeStart,
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
