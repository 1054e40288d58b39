/**
 * The half of the planner for an upgrade into an existing subscription of the target product: the seats move into
 * it and are charged on the destination's own cycle at its locked price. A full upgrade cancels the emptied source.
 */
import { hasInstallments } from './catalog';
import { chargeCycleOf, draftInvoice, futurePendingInstallments, prorateLine } from './proration';
import type { Subscription } from './types';
import { pendingInstallments, sourceLosesSeats } from './upgrade-plan-new-destination';
import type { DestinationPlan, DestinationPlanContext, InstallmentPlanChange, SubscriptionChange } from './upgrade-plan-types';

export function planIntoExistingSubscription(context: DestinationPlanContext, destination: Subscription): DestinationPlan {
  const { source, quantity: n, kind, upgradeDate, taxRateBasisPoints } = context;
  const debitLine = prorateLine('debit', {
    productId: destination.productId,
    subscriptionId: destination.id,
    unitPrice: destination.unitPrice,
    quantity: n,
    upgradeDate,
    ...chargeCycleOf(destination),
  });
  const debit = draftInvoice('debit', destination.currency, [debitLine], taxRateBasisPoints);
  const sourceChange: SubscriptionChange =
    kind === 'full'
      ? { subscriptionId: source.id, set: { status: 'cancelled', quantity: 0 }, unset: [], before: { status: source.status, quantity: source.quantity } }
      : sourceLosesSeats(source, n);
  const destinationChange: SubscriptionChange = {
    subscriptionId: destination.id,
    set: { quantity: destination.quantity + n },
    unset: [],
    before: { quantity: destination.quantity },
  };
  const installmentChanges: InstallmentPlanChange[] = [];
  if (hasInstallments(source.term, source.billingFrequency)) {
    const keptSeats = source.quantity - n;
    installmentChanges.push({
      subscriptionId: source.id,
      cancel: futurePendingInstallments(source),
      add: keptSeats > 0 ? pendingInstallments(source, source.unitPrice, keptSeats) : [],
    });
  }
  if (hasInstallments(destination.term, destination.billingFrequency)) {
    installmentChanges.push({ subscriptionId: destination.id, cancel: [], add: pendingInstallments(destination, destination.unitPrice, n) });
  }
  return { sourceChange, destinationChange, debit, installmentChanges };
}
