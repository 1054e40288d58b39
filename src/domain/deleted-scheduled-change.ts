/**
 * What an immediate upgrade does with a change scheduled for its source's renewal at Microsoft, which the conversion
 * deletes (docs/scheduled-upgrades.md, "An immediate upgrade and scheduled changes"). One rule for the quote's warning
 * and for the activity that writes the change again after the conversion.
 */
import type { UpgradePlan } from './upgrade-plan';

export type DeletedScheduledChangeFate =
  /** A change that is not an upgrade (the source's own product), on a source that keeps its product: written again. */
  | 'reapplied'
  /** A change that is not an upgrade, but the source converted in full: nothing is left to carry it. */
  | 'source_converted'
  /** A change into another product (an upgrade at renewal): the immediate upgrade replaces it. */
  | 'replaced';

/** The catalog item (`productId:skuId:availabilityId`, lower case) a scheduled change renews into. */
export const scheduledCatalogItemIdOf = (instructions: { product: { productId: string; skuId: string; availabilityId: string } }) =>
  `${instructions.product.productId}:${instructions.product.skuId}:${instructions.product.availabilityId}`.toLowerCase();

export function fateOfDeletedScheduledChange(
  scheduledCatalogItemId: string,
  plan: Pick<UpgradePlan, 'sourceProductId' | 'kind' | 'destinationType'>,
): DeletedScheduledChangeFate {
  if (scheduledCatalogItemId.toLowerCase() !== plan.sourceProductId.toLowerCase()) return 'replaced';
  return plan.kind === 'partial' || plan.destinationType === 'existing' ? 'reapplied' : 'source_converted';
}
