/**
 * The eligibility engine (docs/eligibility.md): one pure function over (source, target, quantity, destination,
 * account, now, policy) that returns EVERY failing rule with a stable code and a sentence naming the
 * values. Each rule is one entry in a table below, so a code lives in exactly one place per scope.
 *
 * Distributors disagree on a few rules; those differences are an `EligibilityPolicy` (`eligibility-policies.ts`).
 */
import { TERM_MONTHS, type Catalog, type Product } from './catalog';
import { instantMs, utcDateOf, type IsoDate, type IsoInstant } from './dates';
import { termAt } from './billing-cycle';
import { currentUnitPrice } from './pricing';
import { subscriptionOn } from './subscription-on-date';
import { DEFAULT_POLICY, type EligibilityPolicy } from './eligibility-policies';
import { ROLES_REQUIRING_PARTNER_ID, type Account, type Subscription } from './types';

export const ELIGIBILITY_CODES = [
  'SOURCE_NOT_ACTIVE',
  'SOURCE_IS_TRIAL',
  'SOURCE_IN_CANCELLATION_WINDOW',
  'TARGET_NOT_ON_UPGRADE_PATH',
  'DOWNGRADE_NOT_ALLOWED',
  'OFFER_TYPE_NOT_ALLOWED',
  'TARGET_PRICE_NOT_AVAILABLE',
  'QUANTITY_INVALID',
  'REMAINDER_BELOW_MINIMUM',
  'UPGRADE_IN_PROGRESS',
  'NOT_AUTHORIZED_FOR_ACCOUNT',
  'PARTNER_ID_REQUIRED',
  'DESTINATION_NOT_FOUND',
  'DESTINATION_NOT_ACTIVE',
  'DESTINATION_IS_TRIAL',
  'DESTINATION_PRODUCT_MISMATCH',
  'DESTINATION_DIFFERENT_ACCOUNT',
  'DESTINATION_IN_CANCELLATION_WINDOW',
  'DESTINATION_TERM_SHORTER',
  'DESTINATION_ENDS_EARLIER',
  'DESTINATION_PARTNER_MISMATCH',
  'DESTINATION_BILLING_MISMATCH',
  'CURRENCY_MISMATCH',
  /** Microsoft's own verdict (transition eligibilities) refuses the target or the existing destination. */
  'VENDOR_NOT_ELIGIBLE',
  /** An upgrade at renewal whose scheduled change at Microsoft was removed before the renewal (a mid-term change). */
  'SCHEDULED_CHANGE_REMOVED',
] as const;

export type EligibilityCode = (typeof ELIGIBILITY_CODES)[number];

export interface EligibilityReason {
  code: EligibilityCode;
  message: string;
  /** VENDOR_NOT_ELIGIBLE: Microsoft's own code and description. */
  details?: { microsoftCode?: string | number; description: string };
}

export interface Verdict {
  eligible: boolean;
  reasons: readonly EligibilityReason[];
}

// ---------------------------------------------------------------------------------------------------
// Inputs

/** Who asks: an object that answers per account, or the set of account ids it may act on. */
export type CallerScope = { mayActOnAccount(accountId: string): boolean } | ReadonlySet<string>;

export interface SourceContext {
  source: Subscription;
  sourceAccount: Account;
  catalog: Catalog;
  /** The upgrade date is this instant's UTC date. */
  now: IsoInstant;
  /** Defaults to `microsoft`. */
  policy?: EligibilityPolicy;
  /** Omitted = unrestricted (operator or internal call). */
  caller?: CallerScope;
  /** Subscriptions with a running upgrade (as source or destination). */
  busySubscriptionIds?: Iterable<string>;
}

export type DestinationChoice = 'new' | { subscriptionId: string; subscription: Subscription | undefined };

export interface EligibilityInput extends SourceContext {
  targetProductId: string;
  quantity: number;
  destination: DestinationChoice;
}

interface RuleContext {
  source: Subscription;
  sourceAccount: Account;
  sourceProduct: Product | undefined;
  targetProductId: string;
  targetProduct: Product | undefined;
  quantity: number;
  catalog: Catalog;
  upgradeDate: IsoDate;
  nowMs: number;
  policy: EligibilityPolicy;
  mayActOn: (accountId: string) => boolean;
  busy: ReadonlySet<string>;
}

/** A rule returns the failure sentence, or undefined when it passes. */
interface Rule<Extra = void> {
  code: EligibilityCode;
  check: (ctx: RuleContext, extra: Extra) => string | undefined;
}

/** Undefined when the subscription is active and its term holds the date (stored status, renewals and expiry considered). */
function notActiveOn(subscription: Subscription, date: IsoDate, role: 'source' | 'destination'): string | undefined {
  const term = termAt(subscription, date);
  if (subscription.status === 'expired' || (subscription.status === 'active' && term.state === 'expired')) {
    return `${role} subscription ${subscription.id} is expired: its term ended ${subscription.termEnd}${subscription.autoRenew === false ? ' without auto-renew' : ''}`;
  }
  if (subscription.status !== 'active') return `${role} subscription ${subscription.id} is ${subscription.status}, not active`;
  return term.state === 'not_started' ? `${role} subscription ${subscription.id} has not started: its term starts ${term.termStart}` : undefined;
}

const isValidQuantity = (quantity: number): boolean => Number.isInteger(quantity) && quantity >= 1;
const seats = (n: number): string => `${n} seat${n === 1 ? '' : 's'}`;
const named = (catalog: Catalog, productId: string): string => `${catalog.nameOf(productId)} (${productId})`;

// ---------------------------------------------------------------------------------------------------
// Rules on the source and the request (apply to every destination)

const SOURCE_RULES: readonly Rule[] = [
  {
    code: 'SOURCE_NOT_ACTIVE',
    check: ({ source, upgradeDate }) => notActiveOn(source, upgradeDate, 'source'),
  },
  {
    code: 'SOURCE_IS_TRIAL',
    check: ({ source }) => (source.isTrial ? `source subscription ${source.id} is a trial; trials are converted, not upgraded` : undefined),
  },
  {
    code: 'SOURCE_IN_CANCELLATION_WINDOW',
    check: ({ source, policy, nowMs }) =>
      policy.sourceInCancellationWindow === 'refused' && nowMs < instantMs(source.cancellationWindowEndsAt)
        ? `source subscription ${source.id} is inside its cancellation window until ${source.cancellationWindowEndsAt}; the ${policy.name} policy refuses upgrades inside it`
        : undefined,
  },
  {
    code: 'TARGET_NOT_ON_UPGRADE_PATH',
    check: ({ source, sourceProduct, targetProductId, targetProduct, catalog }) => {
      if (!sourceProduct) return `the source's product ${source.productId} is not in the catalog`;
      if (!targetProduct) return `target product ${targetProductId} is not in the catalog`;
      return catalog.isOnUpgradePath(source.productId, targetProductId)
        ? undefined
        : `${named(catalog, targetProductId)} is not on the upgrade path of ${named(catalog, source.productId)}`;
    },
  },
  {
    code: 'DOWNGRADE_NOT_ALLOWED',
    check: ({ source, targetProductId, catalog }) =>
      catalog.isDowngrade(source.productId, targetProductId)
        ? `${named(catalog, targetProductId)} is below ${named(catalog, source.productId)} on an upgrade path; NCE never downgrades`
        : undefined,
  },
  {
    code: 'OFFER_TYPE_NOT_ALLOWED',
    check: ({ sourceProduct, targetProduct }) => {
      if (!sourceProduct || !targetProduct) return undefined; // reported as TARGET_NOT_ON_UPGRADE_PATH
      const allowed = targetProduct.offerType === 'standard' && sourceProduct.offerType !== 'trial';
      return allowed
        ? undefined
        : `a ${sourceProduct.offerType} offer cannot be upgraded to a ${targetProduct.offerType} offer; only standard→standard and specialized→standard are allowed`;
    },
  },
  {
    code: 'QUANTITY_INVALID',
    check: ({ quantity, source }) => {
      if (!isValidQuantity(quantity)) return `quantity ${quantity} is invalid: an upgrade moves a whole number of seats, at least 1`;
      return quantity > source.quantity
        ? `quantity ${quantity} is above the source's ${seats(source.quantity)}; seats can't be added during an upgrade`
        : undefined;
    },
  },
  {
    code: 'REMAINDER_BELOW_MINIMUM',
    check: ({ quantity, source, sourceProduct }) => {
      const isPartial = isValidQuantity(quantity) && quantity < source.quantity;
      if (!isPartial || !sourceProduct) return undefined;
      const remainder = source.quantity - quantity;
      return remainder < sourceProduct.minQuantity
        ? `upgrading ${quantity} of ${source.quantity} seats would leave ${seats(remainder)} on the source, below ${sourceProduct.name}'s minimum of ${sourceProduct.minQuantity}`
        : undefined;
    },
  },
  {
    code: 'UPGRADE_IN_PROGRESS',
    check: ({ source, busy }) => (busy.has(source.id) ? `source subscription ${source.id} already has an upgrade running` : undefined),
  },
  {
    code: 'NOT_AUTHORIZED_FOR_ACCOUNT',
    check: ({ source, mayActOn }) => (mayActOn(source.accountId) ? undefined : `the caller may not act on account ${source.accountId}`),
  },
  {
    code: 'PARTNER_ID_REQUIRED',
    check: ({ sourceAccount }) =>
      ROLES_REQUIRING_PARTNER_ID.includes(sourceAccount.role) && !sourceAccount.partnerId?.trim()
        ? `account ${sourceAccount.id} trades as ${sourceAccount.role} and needs a partner id (MPN), but has none`
        : undefined,
  },
];

// ---------------------------------------------------------------------------------------------------
// Rules for a new (co-termed) destination subscription

const NEW_DESTINATION_RULES: readonly Rule[] = [
  {
    code: 'TARGET_PRICE_NOT_AVAILABLE',
    check: ({ catalog, sourceAccount, source, targetProduct, upgradeDate }) => {
      if (!targetProduct) return undefined;
      const price = currentUnitPrice({
        catalog,
        account: sourceAccount,
        productId: targetProduct.productId,
        term: source.term,
        billingFrequency: source.billingFrequency,
        currency: source.currency,
        date: upgradeDate,
      });
      return price
        ? undefined
        : `${targetProduct.name} has no ${source.currency} price for a ${source.term} term billed ${source.billingFrequency}, so it cannot be co-termed with the source`;
    },
  },
  {
    code: 'QUANTITY_INVALID',
    check: ({ quantity, targetProduct }) => {
      if (!targetProduct || !isValidQuantity(quantity)) return undefined;
      const { minQuantity, maxQuantity, name } = targetProduct;
      return quantity < minQuantity || quantity > maxQuantity
        ? `a new ${name} subscription takes ${minQuantity} to ${maxQuantity} seats; quantity ${quantity} is outside that range`
        : undefined;
    },
  },
];

// ---------------------------------------------------------------------------------------------------
// Rules for an existing destination subscription (given that it exists)

const EXISTING_DESTINATION_RULES: readonly Rule<Subscription>[] = [
  {
    code: 'DESTINATION_NOT_ACTIVE',
    check: ({ upgradeDate }, dest) => notActiveOn(dest, upgradeDate, 'destination'),
  },
  {
    code: 'DESTINATION_IS_TRIAL',
    check: (_ctx, dest) => (dest.isTrial ? `destination subscription ${dest.id} is a trial` : undefined),
  },
  {
    code: 'DESTINATION_PRODUCT_MISMATCH',
    check: ({ catalog, targetProductId }, dest) =>
      dest.productId === targetProductId
        ? undefined
        : `destination subscription ${dest.id} is ${named(catalog, dest.productId)}, not the chosen target ${named(catalog, targetProductId)}`,
  },
  {
    code: 'DESTINATION_DIFFERENT_ACCOUNT',
    check: ({ source }, dest) =>
      dest.accountId === source.accountId
        ? undefined
        : `destination subscription ${dest.id} belongs to account ${dest.accountId}, the source to ${source.accountId}`,
  },
  {
    // One currency per quote: the credit is in the source's currency and the debit in the destination's.
    code: 'CURRENCY_MISMATCH',
    check: ({ source }, dest) =>
      dest.currency === source.currency
        ? undefined
        : `destination subscription ${dest.id} is billed in ${dest.currency}, the source in ${source.currency}; one upgrade's credit and debit must be in one currency`,
  },
  {
    code: 'DESTINATION_IN_CANCELLATION_WINDOW',
    check: ({ nowMs }, dest) =>
      nowMs < instantMs(dest.cancellationWindowEndsAt)
        ? `destination subscription ${dest.id} is inside its cancellation window until ${dest.cancellationWindowEndsAt}`
        : undefined,
  },
  {
    code: 'DESTINATION_TERM_SHORTER',
    check: ({ source }, dest) =>
      TERM_MONTHS[dest.term] < TERM_MONTHS[source.term]
        ? `destination subscription ${dest.id} has a ${dest.term} term, shorter than the source's ${source.term}`
        : undefined,
  },
  {
    code: 'DESTINATION_ENDS_EARLIER',
    check: ({ source, policy }, dest) => {
      if (policy.destinationEndDate === 'later') {
        return dest.termEnd > source.termEnd
          ? undefined
          : `destination subscription ${dest.id} ends ${dest.termEnd}, not after the source's ${source.termEnd} (the ${policy.name} policy requires a later end date)`;
      }
      return dest.termEnd >= source.termEnd ? undefined : `destination subscription ${dest.id} ends ${dest.termEnd}, before the source's ${source.termEnd}`;
    },
  },
  {
    code: 'DESTINATION_PARTNER_MISMATCH',
    check: ({ source }, dest) =>
      (dest.partnerId ?? '') === (source.partnerId ?? '')
        ? undefined
        : `destination subscription ${dest.id} has partner of record ${dest.partnerId ?? '(none)'}, the source ${source.partnerId ?? '(none)'}`,
  },
  {
    code: 'DESTINATION_BILLING_MISMATCH',
    check: ({ source, policy }, dest) => {
      if (policy.destinationBilling === 'ignored') return undefined;
      const frequencyDiffers = dest.billingFrequency !== source.billingFrequency;
      const termDiffers = policy.destinationBilling === 'sameFrequencyAndTerm' && dest.term !== source.term;
      return frequencyDiffers || termDiffers
        ? `destination subscription ${dest.id} is ${dest.term} billed ${dest.billingFrequency}, the source ${source.term} billed ${source.billingFrequency}; the ${policy.name} policy requires the same ${policy.destinationBilling === 'sameFrequency' ? 'billing frequency' : 'billing frequency and term'}`
        : undefined;
    },
  },
  {
    code: 'UPGRADE_IN_PROGRESS',
    check: ({ busy }, dest) => (busy.has(dest.id) ? `destination subscription ${dest.id} already has an upgrade running` : undefined),
  },
  {
    code: 'QUANTITY_INVALID',
    check: ({ quantity, targetProduct }, dest) => {
      if (!targetProduct || !isValidQuantity(quantity)) return undefined;
      const total = dest.quantity + quantity;
      return total > targetProduct.maxQuantity
        ? `moving ${seats(quantity)} would take destination subscription ${dest.id} to ${total} seats, above ${targetProduct.name}'s maximum of ${targetProduct.maxQuantity}`
        : undefined;
    },
  },
];

// ---------------------------------------------------------------------------------------------------
// Evaluation

function mayActOnFrom(caller: CallerScope | undefined): (accountId: string) => boolean {
  if (!caller) return () => true;
  if (caller instanceof Set) return (accountId) => caller.has(accountId);
  const scope = caller as { mayActOnAccount(accountId: string): boolean };
  return (accountId) => scope.mayActOnAccount(accountId);
}

function ruleContext(context: SourceContext, targetProductId: string, quantity: number): RuleContext {
  const { sourceAccount, catalog, now } = context;
  // Judged as it stands on the upgrade date (renewed, expired), whatever cycle was stored.
  const source = subscriptionOn(context.source, utcDateOf(now), { catalog, account: sourceAccount });
  return {
    source,
    sourceAccount,
    sourceProduct: catalog.get(source.productId),
    targetProductId,
    targetProduct: catalog.get(targetProductId),
    quantity,
    catalog,
    upgradeDate: utcDateOf(now),
    nowMs: instantMs(now),
    policy: context.policy ?? DEFAULT_POLICY,
    mayActOn: mayActOnFrom(context.caller),
    busy: new Set(context.busySubscriptionIds ?? []),
  };
}

function failures<Extra>(rules: readonly Rule<Extra>[], ctx: RuleContext, extra: Extra): EligibilityReason[] {
  return rules.flatMap(({ code, check }) => {
    const message = check(ctx, extra);
    return message === undefined ? [] : [{ code, message }];
  });
}

function destinationFailures(ctx: RuleContext, destination: DestinationChoice): EligibilityReason[] {
  if (destination === 'new') return failures(NEW_DESTINATION_RULES, ctx, undefined);
  if (!destination.subscription) {
    return [{ code: 'DESTINATION_NOT_FOUND', message: `destination subscription ${destination.subscriptionId} does not exist on this platform` }];
  }
  const onDate = subscriptionOn(destination.subscription, ctx.upgradeDate, { catalog: ctx.catalog, account: ctx.sourceAccount });
  return failures(EXISTING_DESTINATION_RULES, ctx, onDate);
}

function verdictOf(reasons: EligibilityReason[]): Verdict {
  return { eligible: reasons.length === 0, reasons };
}

/** All failing rules for one concrete request (source + target + quantity + destination). */
export function checkEligibility(input: EligibilityInput): Verdict {
  const ctx = ruleContext(input, input.targetProductId, input.quantity);
  return verdictOf([...failures(SOURCE_RULES, ctx, undefined), ...destinationFailures(ctx, input.destination)]);
}
