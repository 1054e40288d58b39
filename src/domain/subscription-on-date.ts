/**
 * A stored subscription as it stands on a date: its term rolled forward by automatic renewals (priced as a new
 * purchase on the renewal date), `expired` after a term that does not renew, and the charge cycle that holds the date.
 * Every reader — eligibility, plans, quotes, the API views, the CLI through the API — goes through this one function
 * with the same clock, so they all show the same cycle on the same day. Idempotent: projecting a projection on the
 * same date changes nothing.
 */
import { billingAnchorOf, cycleAt, renewedTerm, type CycleOnDate } from './billing-cycle';
import type { Catalog } from './catalog';
import { daysInclusive, type IsoDate } from './dates';
import { currentUnitPrice } from './pricing';
import type { Account, Subscription } from './types';

/** What a renewal is priced from: the catalog's list price for the subscription's account, as for a new purchase. */
export interface RenewalPricing {
  catalog: Catalog;
  account: Account;
}

/** One renewal the projection applied: the history entry the subscription gets once. */
export interface Renewal {
  termStart: IsoDate;
  termEnd: IsoDate;
  unitPrice: number;
  promotionId?: string;
}

export interface SubscriptionOnDate {
  subscription: Subscription;
  cycle: CycleOnDate;
  /** The renewals between the stored term and the term on the date (empty when none). */
  renewals: Renewal[];
}

function renewalPrice(subscription: Subscription, termStart: IsoDate, pricing: RenewalPricing | undefined): Pick<Renewal, 'unitPrice' | 'promotionId'> {
  const quote = pricing
    ? currentUnitPrice({
        catalog: pricing.catalog,
        account: pricing.account,
        productId: subscription.productId,
        term: subscription.term,
        billingFrequency: subscription.billingFrequency,
        currency: subscription.currency,
        date: termStart,
      })
    : undefined;
  // No catalog price (product withdrawn, currency dropped): the renewal keeps the price it had.
  if (!quote) return { unitPrice: subscription.unitPrice };
  return { unitPrice: quote.unitPrice, ...(quote.promotion ? { promotionId: quote.promotion.promotionId } : {}) };
}

/** The subscription on `date`, with the cycle and the renewals that got it there. */
export function projectSubscription(subscription: Subscription, date: IsoDate, pricing?: RenewalPricing): SubscriptionOnDate {
  // An upgrade at renewal is pending: the renewal waits (hours at most) for its workflow to check Microsoft's scheduled
  // change and renew into the target, or to end the upgrade and let the ordinary renewal happen (renewal-upgrade.ts).
  const renewalWaits = subscription.renewalUpgrade !== undefined && subscription.status === 'active' && date > subscription.termEnd;
  const cycle = cycleAt(subscription, renewalWaits ? subscription.termEnd : date);
  const renewals: Renewal[] = [];
  for (let k = 1; k <= cycle.term.renewals; k++) {
    const term = renewedTerm(subscription, k);
    renewals.push({ ...term, ...renewalPrice(subscription, term.termStart, pricing) });
  }
  const latest = renewals.at(-1);
  // A renewal is a new purchase: the old term's promotion and price protection end with it.
  const { promotionId: _promotion, protectedPrice: _protection, cycleDays: _days, ...unpriced } = subscription;
  const { cycleDays: _storedDays, ...base } = latest
    ? {
        ...unpriced,
        termStart: latest.termStart,
        termEnd: latest.termEnd,
        unitPrice: latest.unitPrice,
        ...(latest.promotionId ? { promotionId: latest.promotionId } : {}),
      }
    : subscription;
  const expired = cycle.term.state === 'expired' && subscription.status === 'active';
  const projected: Subscription = {
    ...base,
    billingAnchorDate: billingAnchorOf(subscription),
    autoRenew: subscription.autoRenew !== false,
    chargeStart: cycle.chargeStart,
    chargeEnd: cycle.chargeEnd,
    ...(cycle.cycleDays !== daysInclusive(cycle.chargeStart, cycle.chargeEnd) ? { cycleDays: cycle.cycleDays } : {}),
    ...(expired ? { status: 'expired' as const } : {}),
  };
  return { subscription: projected, cycle, renewals };
}

/** Shorthand: the subscription as it stands on `date`. */
export function subscriptionOn(subscription: Subscription, date: IsoDate, pricing?: RenewalPricing): Subscription {
  return projectSubscription(subscription, date, pricing).subscription;
}
