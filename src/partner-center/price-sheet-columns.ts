/**
 * The columns of Microsoft's NCE licence-based price sheet (`PricesheetView='updatedlicensebased'`), in Microsoft's
 * order: https://learn.microsoft.com/en-us/partner-center/developer/get-a-price-sheet . A fact about Microsoft's file,
 * shared by our parser (src/catalog/price-list.ts) and the simulator that writes it; the catalog integration test
 * spells the header out on its own, so a change here cannot go unnoticed.
 */
export const PRICE_SHEET_COLUMNS = [
  'ProductTitle',
  'ProductId',
  'SkuId',
  'SkuTitle',
  'Publisher',
  'SkuDescription',
  'UnitOfMeasure',
  'TermDuration',
  'BillingPlan',
  'Market',
  'Currency',
  'UnitPrice',
  'PricingTierRangeMin',
  'PricingTierRangeMax',
  'EffectiveStartDate',
  'EffectiveEndDate',
  'Tags',
  'ERP Price',
] as const;
export type PriceSheetColumn = (typeof PRICE_SHEET_COLUMNS)[number];
