/**
 * What a source subscription may be upgraded to: every target on its upgrade path, with the eligibility engine's
 * verdict for a new subscription and for each existing candidate of the account, and the seat counts that may move.
 * The rules themselves live in `eligibility.ts`; this module only asks them.
 */
import type { Product } from './catalog';
import { utcDateOf, type IsoDate } from './dates';
import { checkEligibility, type SourceContext, type Verdict } from './eligibility';
import { currentUnitPrice } from './pricing';
import type { Subscription } from './types';

export interface QuantityRange {
  /** Smallest number of seats that can move (always 1). */
  min: number;
  /** A full upgrade: all the source's seats (always allowed, whatever the product minimum). */
  max: number;
  /** Largest partial upgrade that leaves the product's minimum on the source; 0 = no partial possible. */
  maxPartial: number;
}

/** Seats that may move: any n in [min, maxPartial], or exactly max (full). */
export function allowedQuantityRange(source: Subscription, sourceProduct: Product): QuantityRange {
  return { min: 1, max: source.quantity, maxPartial: Math.max(0, source.quantity - Math.max(1, sourceProduct.minQuantity)) };
}

export function isQuantityInRange(range: QuantityRange, quantity: number): boolean {
  return Number.isInteger(quantity) && quantity >= range.min && (quantity === range.max || quantity <= range.maxPartial);
}

export interface ExistingDestinationOption {
  subscriptionId: string;
  externalId: string;
  quantity: number;
  term: Subscription['term'];
  billingFrequency: Subscription['billingFrequency'];
  termEnd: IsoDate;
  unitPrice: number;
  currency: string;
  verdict: Verdict;
}

export interface UpgradeTargetOption {
  productId: string;
  name: string;
  /** Per seat per cycle for a new co-termed subscription (after promotion/markup), if priced. */
  newSubscriptionUnitPrice?: number;
  promotionId?: string;
  toNewSubscription: Verdict;
  existingDestinations: ExistingDestinationOption[];
}

export interface UpgradeOptions {
  sourceSubscriptionId: string;
  quantityRange: QuantityRange | undefined;
  /** Verdicts are for this many seats (default: a full upgrade). */
  evaluatedQuantity: number;
  targets: UpgradeTargetOption[];
}

export interface UpgradeOptionsInput extends SourceContext {
  /** All subscriptions of the source's account: candidates for "existing" destinations. */
  accountSubscriptions: readonly Subscription[];
  quantity?: number;
}

/** Every target on the source's path, with its verdicts for "new" and for each existing candidate. */
export function evaluateUpgradeOptions(input: UpgradeOptionsInput): UpgradeOptions {
  const { source, catalog } = input;
  const quantity = input.quantity ?? source.quantity;
  const sourceProduct = catalog.get(source.productId);
  const upgradeDate = utcDateOf(input.now);

  const targets = catalog.upgradeTargets(source.productId).map((target): UpgradeTargetOption => {
    const price = currentUnitPrice({
      catalog,
      account: input.sourceAccount,
      productId: target.productId,
      term: source.term,
      billingFrequency: source.billingFrequency,
      currency: source.currency,
      date: upgradeDate,
    });
    const existingDestinations = input.accountSubscriptions
      .filter((candidate) => candidate.productId === target.productId && candidate.id !== source.id)
      .map((candidate) => ({
        subscriptionId: candidate.id,
        externalId: candidate.externalId,
        quantity: candidate.quantity,
        term: candidate.term,
        billingFrequency: candidate.billingFrequency,
        termEnd: candidate.termEnd,
        unitPrice: candidate.unitPrice,
        currency: candidate.currency,
        verdict: checkEligibility({
          ...input,
          targetProductId: target.productId,
          quantity,
          destination: { subscriptionId: candidate.id, subscription: candidate },
        }),
      }));
    return {
      productId: target.productId,
      name: target.name,
      ...(price ? { newSubscriptionUnitPrice: price.unitPrice } : {}),
      ...(price?.promotion ? { promotionId: price.promotion.promotionId } : {}),
      toNewSubscription: checkEligibility({ ...input, targetProductId: target.productId, quantity, destination: 'new' }),
      existingDestinations,
    };
  });

  return {
    sourceSubscriptionId: source.id,
    quantityRange: sourceProduct ? allowedQuantityRange(source, sourceProduct) : undefined,
    evaluatedQuantity: quantity,
    targets,
  };
}
