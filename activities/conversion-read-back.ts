import type { UpgradePlan } from '../src/domain/upgrade-plan';
import type { VendorSubscription } from '../src/partner-center/partner-center-schemas';

/**
 * The read-back after a conversion (docs/partner-center.md, "Read-back"): what Partner Center's subscriptions must show
 * once the transition completed, by the plan the upgrade is about to apply locally, and the differences found. A
 * difference is never overwritten silently: the upgrade waits in needs_attention with it.
 */
export interface ExpectedVendorSubscription {
  role: 'source' | 'destination';
  vendorSubscriptionId: string;
  /** Seats the subscription holds after the conversion (absent: not compared). */
  quantity?: number;
  /** The offer's product and SKU (`product:sku`, lower case); the availability may change. */
  productAndSku: string;
}

export interface ReadBackMismatch {
  role: 'source' | 'destination';
  vendorSubscriptionId: string;
  field: 'quantity' | 'offer' | 'missing';
  expected: string | number | null;
  found: string | number | null;
}

export const productAndSkuOf = (catalogItemId: string): string => catalogItemId.split(':').slice(0, 2).join(':').toLowerCase();

/**
 * What the plan says each vendor subscription holds after the conversion: the source (unless the upgrade empties it,
 * which Microsoft may show as cancelled or as 0 seats) and the destination (an existing one, or the subscription
 * Microsoft created for a partial upgrade). `toCatalogItemId`: what was asked of Microsoft.
 */
export function expectedAfterConversion(plan: UpgradePlan, toCatalogItemId: string, toSubscriptionId: string | undefined): ExpectedVendorSubscription[] {
  const expected: ExpectedVendorSubscription[] = [];
  const sourceSet = plan.sourceChange.set;
  const convertedInPlace = sourceSet.productId !== undefined && sourceSet.productId !== plan.sourceProductId;
  const sourceQuantity = sourceSet.quantity ?? (convertedInPlace ? plan.quantity : undefined);
  const sourceEmptied = (sourceSet.status !== undefined && sourceSet.status !== 'active') || sourceQuantity === 0;
  if (!sourceEmptied) {
    expected.push({
      role: 'source',
      vendorSubscriptionId: plan.vendor.fromSubscriptionId,
      ...(sourceQuantity === undefined ? {} : { quantity: sourceQuantity }),
      productAndSku: productAndSkuOf(convertedInPlace ? toCatalogItemId : plan.vendor.fromCatalogItemId),
    });
  }
  const target = productAndSkuOf(toCatalogItemId);
  if (plan.destinationChange && plan.vendor.toSubscriptionId) {
    const quantity = plan.destinationChange.set.quantity ?? plan.destinationChange.before.quantity;
    expected.push({
      role: 'destination',
      vendorSubscriptionId: plan.vendor.toSubscriptionId,
      ...(quantity === undefined ? {} : { quantity }),
      productAndSku: target,
    });
  } else if (plan.newSubscription && toSubscriptionId && toSubscriptionId.toLowerCase() !== plan.vendor.fromSubscriptionId.toLowerCase()) {
    expected.push({ role: 'destination', vendorSubscriptionId: toSubscriptionId, quantity: plan.newSubscription.quantity, productAndSku: target });
  }
  return expected;
}

/** The differences between what is expected and what Partner Center shows (`undefined`: it does not know the subscription). */
export function readBackMismatches(expected: readonly ExpectedVendorSubscription[], found: ReadonlyArray<VendorSubscription | undefined>): ReadBackMismatch[] {
  return expected.flatMap((wanted, index): ReadBackMismatch[] => {
    const shown = found[index];
    const at = { role: wanted.role, vendorSubscriptionId: wanted.vendorSubscriptionId };
    if (!shown) return [{ ...at, field: 'missing', expected: wanted.vendorSubscriptionId, found: null }];
    const mismatches: ReadBackMismatch[] = [];
    if (wanted.quantity !== undefined && shown.quantity !== wanted.quantity)
      mismatches.push({ ...at, field: 'quantity', expected: wanted.quantity, found: shown.quantity });
    if (productAndSkuOf(shown.offerId) !== wanted.productAndSku)
      mismatches.push({ ...at, field: 'offer', expected: wanted.productAndSku, found: shown.offerId });
    return mismatches;
  });
}
