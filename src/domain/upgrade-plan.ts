/**
 * planUpgrade: from a request and the current data, every change an upgrade intends (SPEC §4) —
 * subscription changes, the co-termed new subscription, invoices, installment changes, vendor
 * transition parameters and seat reassignment — as data the activities apply idempotently.
 * Eligibility is decided by the eligibility engine only; this module never re-states a rule.
 */
import { hasInstallments, type BillingFrequency, type Catalog, type Term } from './catalog';
import { utcDateOf, type IsoDate, type IsoInstant } from './dates';
import { checkEligibility, type CallerScope, type EligibilityPolicy, type EligibilityReason } from './eligibility';
import { formatMoney, sumMinor } from './money';
import { currentUnitPrice, taxRateFor } from './pricing';
import { draftInvoice, futurePendingInstallments, prorateLine, remainingInstallments, type InvoiceDraft, type ScheduledInstallment } from './proration';
import type { Account, Installment, Subscription, UpgradeRequest } from './types';

export type UpgradeKind = 'full' | 'partial';
export type DestinationType = 'new' | 'existing';
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

const toPending = (scheduled: readonly ScheduledInstallment[]): Installment[] => scheduled.map((installment) => ({ ...installment, status: 'pending' }));

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
  // Normally refused earlier by DESTINATION_PARTNER_MISMATCH; stated here because it is the seeds' FAQ rule.
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
  const { request, source, sourceAccount, catalog } = input;
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

  const upgradeDate = utcDateOf(input.now);
  const n = request.quantity;
  const kind: UpgradeKind = n === source.quantity ? 'full' : 'partial';
  const destination = existing ? input.destination : undefined;
  const targetProductId = request.targetProductId;
  const taxRate = taxRateFor(sourceAccount);
  const sourceHasInstallments = hasInstallments(source.term, source.billingFrequency);

  const creditLine = prorateLine('credit', {
    productId: source.productId,
    subscriptionId: source.id,
    unitPrice: source.unitPrice,
    quantity: n,
    upgradeDate,
    chargeStart: source.chargeStart,
    chargeEnd: source.chargeEnd,
  });
  const credit = draftInvoice('credit', source.currency, [creditLine], taxRate);

  const installmentChanges: InstallmentPlanChange[] = [];
  let sourceChange: SubscriptionChange;
  let destinationChange: SubscriptionChange | undefined;
  let newSubscription: NewSubscriptionFields | undefined;
  let debit: InvoiceDraft;
  let promotionId: string | undefined;

  if (!destination) {
    // To a new subscription, co-termed with the source: the source's cycle, the target's current price.
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
    promotionId = price.promotion?.promotionId;
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
    debit = draftInvoice('debit', source.currency, [debitLine], taxRate);
    const schedule = (unitPrice: number, quantity: number): Installment[] =>
      toPending(
        remainingInstallments({
          currentChargeEnd: source.chargeEnd,
          termEnd: source.termEnd,
          billingFrequency: source.billingFrequency,
          unitPrice,
          quantity,
        }),
      );

    if (kind === 'full') {
      // Converted in place: same ids and end date; start date = upgrade date; the charge cycle is kept
      // so a later proration in this cycle still divides by the cycle that was billed.
      sourceChange = {
        subscriptionId: source.id,
        set: {
          productId: targetProductId,
          termStart: upgradeDate,
          unitPrice: price.unitPrice,
          protectedPrice,
          ...(promotionId ? { promotionId } : {}),
        },
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
        installmentChanges.push({ subscriptionId: source.id, cancel: futurePendingInstallments(source), add: schedule(price.unitPrice, n) });
      }
    } else {
      sourceChange = { subscriptionId: source.id, set: { quantity: source.quantity - n }, unset: [], before: { quantity: source.quantity } };
      newSubscription = {
        accountId: source.accountId,
        productId: targetProductId,
        quantity: n,
        status: 'active',
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
        ...(promotionId ? { promotionId } : {}),
        ...(sourceHasInstallments ? { installmentPlan: { installments: schedule(price.unitPrice, n) } } : {}),
      };
      if (sourceHasInstallments) {
        // The source's remaining seats keep being billed, at their own price, on a re-issued schedule.
        installmentChanges.push({
          subscriptionId: source.id,
          cancel: futurePendingInstallments(source),
          add: schedule(source.unitPrice, source.quantity - n),
        });
      }
    }
  } else {
    // Into an existing subscription: the destination's own cycle and locked price.
    const debitLine = prorateLine('debit', {
      productId: destination.productId,
      subscriptionId: destination.id,
      unitPrice: destination.unitPrice,
      quantity: n,
      upgradeDate,
      chargeStart: destination.chargeStart,
      chargeEnd: destination.chargeEnd,
    });
    debit = draftInvoice('debit', destination.currency, [debitLine], taxRate);
    sourceChange =
      kind === 'full'
        ? {
            subscriptionId: source.id,
            set: { status: 'cancelled', quantity: 0 },
            unset: [],
            before: { status: source.status, quantity: source.quantity },
          }
        : { subscriptionId: source.id, set: { quantity: source.quantity - n }, unset: [], before: { quantity: source.quantity } };
    destinationChange = {
      subscriptionId: destination.id,
      set: { quantity: destination.quantity + n },
      unset: [],
      before: { quantity: destination.quantity },
    };
    if (sourceHasInstallments) {
      const keptSeats = source.quantity - n;
      installmentChanges.push({
        subscriptionId: source.id,
        cancel: futurePendingInstallments(source),
        add:
          keptSeats > 0
            ? toPending(
                remainingInstallments({
                  currentChargeEnd: source.chargeEnd,
                  termEnd: source.termEnd,
                  billingFrequency: source.billingFrequency,
                  unitPrice: source.unitPrice,
                  quantity: keptSeats,
                }),
              )
            : [],
      });
    }
    if (hasInstallments(destination.term, destination.billingFrequency)) {
      installmentChanges.push({
        subscriptionId: destination.id,
        cancel: [],
        add: toPending(
          remainingInstallments({
            currentChargeEnd: destination.chargeEnd,
            termEnd: destination.termEnd,
            billingFrequency: destination.billingFrequency,
            unitPrice: destination.unitPrice,
            quantity: n,
          }),
        ),
      });
    }
  }

  const seatReassignment = decideSeatReassignment(kind, source, destination, input.accountSubscriptions ?? [], catalog);
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
