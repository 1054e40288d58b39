/**
 * An upgrade at renewal (docs/scheduled-upgrades.md, "At renewal"): the subscription renews into the target instead of
 * its own product, through Microsoft's scheduled change. Nothing is prorated: the new term starts on the renewal day
 * (00:00 UTC the day after the term's last day) at the target's price on that day, as any renewal is priced
 * (subscription-on-date.ts); the current term is untouched. Pure: the use case (src/upgrades/schedule.ts) loads the
 * inputs and asks Microsoft.
 */
import { renewedTerm } from './billing-cycle';
import { addDays, type IsoDate } from './dates';
import { checkEligibility, type EligibilityCode, type EligibilityReason, type SourceContext } from './eligibility';
import { currentUnitPrice } from './pricing';
import type { Subscription, UpgradeRequest } from './types';

/** What the renewal will be: the next term, in the target, at the target's price on the renewal day. */
export interface RenewalUpgradeQuote {
  sourceSubscriptionId: string;
  sourceProductId: string;
  targetProductId: string;
  /** 00:00 UTC of this day the renewal starts (the day after the current term's last day). */
  renewalDate: IsoDate;
  termStart: IsoDate;
  termEnd: IsoDate;
  term: Subscription['term'];
  billingFrequency: Subscription['billingFrequency'];
  quantity: number;
  currency: string;
  /** Per seat per charge cycle, minor units, before tax: the target's price for the account on the renewal day. */
  unitPrice: number;
  /** The first charge cycle of the new term, before tax (unitPrice × quantity), as the renewal bills it. */
  firstCycleCharge: number;
  promotionId?: string;
  /** Auto-renew is off today: scheduling turns it on at Microsoft and here (the portal is told). */
  turnsAutoRenewOn: boolean;
  summary: string;
}

export interface RenewalUpgradeInput extends SourceContext {
  request: UpgradeRequest;
  /** Microsoft lists the target among the source's scheduled eligibilities (undefined: Partner Center not configured). */
  microsoftSchedulesTarget?: boolean;
}

/** A request that cannot be made at renewal whatever the subscription: the field and the rule. */
export interface RenewalRequestProblem {
  field: string;
  rule: 'new_destination_only';
  message: string;
}

/** The renewal day: 00:00 UTC after the term's last day. */
export const renewalDateOf = (source: Pick<Subscription, 'termEnd'>): IsoDate => addDays(source.termEnd, 1);

/** Scheduled changes never go into an existing subscription (Microsoft's scheduled eligibilities list none). */
export function renewalRequestProblem(request: UpgradeRequest): RenewalRequestProblem | undefined {
  if (request.destination.type === 'new') return undefined;
  return {
    field: 'destination.type',
    rule: 'new_destination_only',
    message: 'an upgrade at renewal renews the source itself into the target: destination.type must be "new" (an existing subscription cannot receive it)',
  };
}

/** Mid-term rules that do not apply to a change that starts with the next term. */
const NOT_AT_RENEWAL: ReadonlySet<EligibilityCode> = new Set(['SOURCE_IN_CANCELLATION_WINDOW', 'QUANTITY_INVALID', 'REMAINDER_BELOW_MINIMUM']);

/**
 * Our rules for the upgrade at renewal (the source as it stands today, the whole subscription renewing), the next
 * term's seats within the target's limits, the target's price on the renewal day; Microsoft's scheduled eligibilities
 * decide the upgrade path when they were asked (some upgrades exist only at renewal).
 */
export function planRenewalUpgrade(input: RenewalUpgradeInput): { ok: true; quote: RenewalUpgradeQuote } | { ok: false; reasons: EligibilityReason[] } {
  const { request, microsoftSchedulesTarget: _microsoft, ...context } = input;
  const { source, sourceAccount, catalog } = context;
  const verdict = checkEligibility({ ...context, targetProductId: request.targetProductId, quantity: source.quantity, destination: 'new' });
  const reasons = verdict.reasons.filter(
    (reason) => !NOT_AT_RENEWAL.has(reason.code) && !(reason.code === 'TARGET_NOT_ON_UPGRADE_PATH' && input.microsoftSchedulesTarget === true),
  );
  if (input.microsoftSchedulesTarget === false) {
    reasons.push({
      code: 'VENDOR_NOT_ELIGIBLE',
      message: `Microsoft refuses this upgrade: ${request.targetProductId} is not among Microsoft's scheduled (at renewal) targets for this subscription`,
      details: { description: 'not among the scheduled transition eligibilities' },
    });
  }
  const target = catalog.get(request.targetProductId);
  if (target && (request.quantity < target.minQuantity || request.quantity > target.maxQuantity)) {
    reasons.push({
      code: 'QUANTITY_INVALID',
      message: `the next term's quantity must be between ${target.minQuantity} and ${target.maxQuantity} seats of ${target.name}`,
    });
  }
  const renewalDate = renewalDateOf(source);
  const price = currentUnitPrice({
    catalog,
    account: sourceAccount,
    productId: request.targetProductId,
    term: source.term,
    billingFrequency: source.billingFrequency,
    currency: source.currency,
    date: renewalDate,
  });
  if (!price && !reasons.some((reason) => reason.code === 'TARGET_PRICE_NOT_AVAILABLE')) {
    reasons.push({
      code: 'TARGET_PRICE_NOT_AVAILABLE',
      message: `no ${source.currency} price of ${request.targetProductId} for ${source.term} billed ${source.billingFrequency}`,
    });
  }
  if (reasons.length > 0 || !price) return { ok: false, reasons };
  const { termStart, termEnd } = renewedTerm(source, 1);
  return {
    ok: true,
    quote: {
      sourceSubscriptionId: source.id,
      sourceProductId: source.productId,
      targetProductId: request.targetProductId,
      renewalDate,
      termStart,
      termEnd,
      term: source.term,
      billingFrequency: source.billingFrequency,
      quantity: request.quantity,
      currency: source.currency,
      unitPrice: price.unitPrice,
      firstCycleCharge: price.unitPrice * request.quantity,
      ...(price.promotion ? { promotionId: price.promotion.promotionId } : {}),
      turnsAutoRenewOn: source.autoRenew === false,
      summary: `At renewal on ${renewalDate}: ${request.quantity} × ${catalog.nameOf(source.productId)} → ${catalog.nameOf(request.targetProductId)}, ${termStart} – ${termEnd}`,
    },
  };
}

/** The subscription renewed into its upgrade's target: the new term, product, seats and price, the mark removed. */
export function renewedIntoTarget(
  source: Subscription,
  quote: Pick<RenewalUpgradeQuote, 'targetProductId' | 'quantity' | 'unitPrice' | 'promotionId'>,
): Subscription {
  const { termStart, termEnd } = renewedTerm(source, 1);
  const { renewalUpgrade: _mark, promotionId: _oldPromotion, protectedPrice: _oldProtection, cycleDays: _days, ...kept } = source;
  return {
    ...kept,
    productId: quote.targetProductId,
    quantity: quote.quantity,
    termStart,
    termEnd,
    unitPrice: quote.unitPrice,
    autoRenew: true,
    ...(quote.promotionId ? { promotionId: quote.promotionId } : {}),
  };
}
