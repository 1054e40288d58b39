/**
 * The data types of an upgrade plan (what `planUpgrade` returns and the activities apply), and the contract between
 * the planner and its two destination halves (`upgrade-plan-new-destination.ts`, `upgrade-plan-existing-destination.ts`).
 */
import type { BillingFrequency, Catalog, Term } from './catalog';
import type { IsoDate, IsoInstant } from './dates';
import type { CallerScope, EligibilityReason } from './eligibility';
import type { EligibilityPolicy } from './eligibility-policies';
import type { InvoiceDraft } from './proration';
import type { Account, Installment, Subscription, UpgradeRequest } from './types';
import type { DestinationType, UpgradeKind } from './upgrade-shape';

export type { DestinationType, UpgradeKind } from './upgrade-shape';

/** Partner Center reconciliation charge type. */
export type VendorChargeType = 'convert' | 'moveQuantity';
export type VendorTransitionType = 'transition_only' | 'transition_with_license_transfer';

/** A change to one stored subscription: `$set` these, `$unset` those; `before` holds the old values (history). */
export interface SubscriptionChange {
  subscriptionId: string;
  set: Partial<Subscription>;
  unset: readonly (keyof Subscription)[];
  before: Partial<Subscription>;
}

/** The subscription a partial → new upgrade creates; id, vendor id and purchase time come from the transition. */
export type NewSubscriptionFields = Omit<Subscription, 'id' | 'externalId' | 'purchasedAt'>;

export interface InstallmentPlanChange {
  subscriptionId: string;
  /** Pending future installments to mark cancelled (matched by periodStart). */
  cancel: readonly Installment[];
  /** Installments to add, status pending. */
  add: readonly Installment[];
}

export interface SeatReassignmentDecision {
  mode: 'automatic' | 'manual';
  reason: string;
}

export interface VendorTransitionParameters {
  /** The customer's tenant the transition is asked for (absent from plans frozen before it was added: read the account). */
  customerTenantId?: string;
  chargeType: VendorChargeType;
  transitionType: VendorTransitionType;
  fromCatalogItemId: string;
  toCatalogItemId: string;
  fromSubscriptionId: string;
  /** Vendor id of an existing destination; absent for new (the vendor returns it for a partial). */
  toSubscriptionId?: string;
  quantity: number;
  termDuration: Term;
  billingCycle: BillingFrequency;
  promotionId?: string;
}

/** The breakdown portals show (Infinigate's checkout): fees incl. tax, of which tax, refund, net total. */
export interface UpgradeQuote {
  currency: string;
  /** Debit invoice total, tax included. */
  totalFees: number;
  /** Tax included in totalFees. */
  taxTotal: number;
  /** Credit invoice total, tax included (≤ 0). */
  refund: number;
  /** totalFees + refund. */
  total: number;
}

export interface UpgradePlan {
  /** The source's account (absent from plans frozen before it was added: read the upgrade record). */
  accountId?: string;
  upgradeDate: IsoDate;
  kind: UpgradeKind;
  destinationType: DestinationType;
  quantity: number;
  sourceSubscriptionId: string;
  sourceProductId: string;
  targetProductId: string;
  /** Existing destination; for full → new it is the source itself. */
  destinationSubscriptionId?: string;
  vendor: VendorTransitionParameters;
  sourceChange: SubscriptionChange;
  destinationChange?: SubscriptionChange;
  newSubscription?: NewSubscriptionFields;
  credit: InvoiceDraft;
  debit: InvoiceDraft;
  installmentChanges: readonly InstallmentPlanChange[];
  seatReassignment: SeatReassignmentDecision;
  seatConservation: { leavingSource: number; arrivingAtDestination: number };
  quote: UpgradeQuote;
  /** One line for operators (Temporal UI summary, logs). */
  summary: string;
}

export interface UpgradePlanInput {
  request: UpgradeRequest;
  source: Subscription;
  sourceAccount: Account;
  /** The existing destination named by the request, as loaded (undefined if not found). */
  destination?: Subscription;
  /** The account's subscriptions; more than one of the source's product makes seat reassignment manual. */
  accountSubscriptions?: readonly Subscription[];
  catalog: Catalog;
  /** Frozen quote time; the upgrade date is its UTC date. */
  now: IsoInstant;
  policy?: EligibilityPolicy;
  caller?: CallerScope;
  busySubscriptionIds?: Iterable<string>;
}

export type UpgradePlanResult = { ok: true; plan: UpgradePlan } | { ok: false; reasons: readonly EligibilityReason[] };

/** What both destination halves of the planner are given: an eligible request and the figures already decided. */
export interface DestinationPlanContext {
  source: Subscription;
  sourceAccount: Account;
  catalog: Catalog;
  targetProductId: string;
  /** Seats that move. */
  quantity: number;
  kind: UpgradeKind;
  upgradeDate: IsoDate;
  taxRateBasisPoints: number;
}

/** What a destination half decides: the subscription changes, the debit invoice and the installment re-schedules. */
export interface DestinationPlan {
  sourceChange: SubscriptionChange;
  destinationChange?: SubscriptionChange;
  newSubscription?: NewSubscriptionFields;
  debit: InvoiceDraft;
  installmentChanges: InstallmentPlanChange[];
  /** The target price's promotion (new destination only). */
  promotionId?: string;
}
