/**
 * Domain entities as plain, serialisable data (safe for JSON, Mongo documents and Temporal payloads).
 * Money fields are integer minor units in the entity's `currency`; billing dates are inclusive UTC
 * calendar dates; moments are ISO instants.
 */
import type { BillingFrequency, Term } from './catalog';
import type { IsoDate, IsoInstant } from './dates';

export type AccountRole = 'direct_reseller' | 'indirect_reseller' | 'standard_reseller' | 'end_customer';

/** Roles that trade with Microsoft under their own partner id (MPN) and so must have one. */
export const ROLES_REQUIRING_PARTNER_ID: readonly AccountRole[] = ['direct_reseller', 'indirect_reseller'];

export interface SpecialPrice {
  productId: string;
  term: Term;
  billingFrequency: BillingFrequency;
  /** Per seat per billing cycle, minor units, in the account's currency. */
  unitPrice: number;
}

export interface Account {
  id: string;
  name: string;
  /** Customer's Entra tenant. */
  tenantId: string;
  /**
   * Role of the party that trades this account. `end_customer` = an end customer of a standard
   * reseller buying through the storefront: priced with the reseller's markup/special prices, tax-free.
   */
  role: AccountRole;
  /** Partner of record (MPN id). */
  partnerId?: string;
  currency: string;
  /** 1950 = 19.50 %. */
  taxRateBasisPoints: number;
  webhookUrl?: string;
  /** End customers of standard resellers: markup on the list price, 1000 = +10.00 %. */
  markupBasisPoints?: number;
  specialPrices?: readonly SpecialPrice[];
  parentResellerId?: string;
}

export type SubscriptionStatus = 'active' | 'suspended' | 'cancelled' | 'expired';

export type InstallmentStatus = 'pending' | 'invoiced' | 'cancelled';

export interface Installment {
  periodStart: IsoDate;
  periodEnd: IsoDate;
  /** Whole installment for all seats, minor units. */
  amount: number;
  quantity: number;
  status: InstallmentStatus;
}

export interface InstallmentPlan {
  installments: readonly Installment[];
}

export interface ProtectedPrice {
  unitPrice: number;
  until: IsoDate;
}

export interface Subscription {
  id: string;
  /** Vendor (Partner Center) subscription id. */
  externalId: string;
  accountId: string;
  productId: string;
  quantity: number;
  status: SubscriptionStatus;
  isTrial: boolean;
  term: Term;
  billingFrequency: BillingFrequency;
  termStart: IsoDate;
  termEnd: IsoDate;
  /**
   * The charge (billing) cycle, inclusive. Derived: `subscriptionOn(subscription, date)` sets the cycle that holds the
   * date (billing-cycle.ts); a stored value is only read to find the anchor of subscriptions stored without one.
   */
  chargeStart: IsoDate;
  chargeEnd: IsoDate;
  /** Days of the anchor period the cycle's price pays for, when longer than the cycle (a co-termed first cycle). */
  cycleDays?: number;
  /** Day the charge cycles are counted from (default `termStart`). */
  billingAnchorDate?: IsoDate;
  /** Renews into a term of the same length at `termEnd` (absent = on, the NCE default); off = expired after `termEnd`. */
  autoRenew?: boolean;
  purchasedAt: IsoInstant;
  /** purchasedAt + 168 h. */
  cancellationWindowEndsAt: IsoInstant;
  /** Billed per seat per charge cycle, minor units. */
  unitPrice: number;
  currency: string;
  partnerId?: string;
  promotionId?: string;
  protectedPrice?: ProtectedPrice;
  installmentPlan?: InstallmentPlan;
  /**
   * An upgrade at renewal written to Microsoft as the subscription's scheduled change (docs/scheduled-upgrades.md):
   * the renewal waits for it and renews into its target when Microsoft's change still stands.
   */
  renewalUpgrade?: RenewalUpgradeMark;
}

export interface RenewalUpgradeMark {
  upgradeId: string;
  targetProductId: string;
  /** Seats of the next term. */
  quantity: number;
}

export type UpgradeDestination = { type: 'new' } | { type: 'existing'; subscriptionId: string };

export interface UpgradeRequest {
  sourceSubscriptionId: string;
  targetProductId: string;
  quantity: number;
  destination: UpgradeDestination;
}

/** NCE cancellation window: 7 days = 168 hours after purchase. */
export const CANCELLATION_WINDOW_HOURS = 168;
