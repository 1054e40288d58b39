/**
 * Microsoft's catalog as the simulator serves it: products, SKUs and availabilities derived from the seeded catalog
 * items (`product:sku:availability`), in the shapes of https://learn.microsoft.com/en-us/partner-center/developer/product-resources ,
 * and the NCE licence-based price sheet as a CSV with the columns of
 * https://learn.microsoft.com/en-us/partner-center/developer/get-a-price-sheet .
 */
import { PRICE_SHEET_COLUMNS } from '../price-sheet-columns';
import { idKey, type SimulatedProduct, type SimulatorState } from './state';

/** The currency each market's price sheet is in (the markets the demo and tests use). */
const MARKET_CURRENCY: Readonly<Record<string, string>> = { US: 'USD', CA: 'CAD', GB: 'GBP', DE: 'EUR', FR: 'EUR', NL: 'EUR', IE: 'EUR', AU: 'AUD' };

interface CatalogItemParts {
  productId: string;
  skuId: string;
  availabilityId: string;
  product: SimulatedProduct;
}

function catalogItems(state: SimulatorState): CatalogItemParts[] {
  return [...state.products.values()].map((product) => {
    const [productId = '', skuId = '', availabilityId = ''] = product.catalogItemId.split(':');
    return { productId, skuId, availabilityId, product };
  });
}

const productToWire = (item: CatalogItemParts, country: string) => ({
  id: item.productId,
  title: item.product.title,
  description: item.product.description ?? item.product.title,
  productType: { id: 'OnlineServicesNCE', displayName: 'OnlineServicesNCE' },
  isMicrosoftProduct: true,
  publisherName: 'Microsoft Corporation',
  links: { skus: { uri: `/products/${item.productId}/skus?country=${country}`, method: 'GET', headers: [] } },
  attributes: { objectType: 'Product' },
});

export function nceProducts(state: SimulatorState, country: string) {
  const byProduct = new Map<string, CatalogItemParts>();
  for (const item of catalogItems(state)) if (!byProduct.has(idKey(item.productId))) byProduct.set(idKey(item.productId), item);
  return [...byProduct.values()].map((item) => productToWire(item, country));
}

export function skusOf(state: SimulatorState, productId: string, country: string) {
  const seen = new Set<string>();
  return catalogItems(state)
    .filter((item) => idKey(item.productId) === idKey(productId) && !seen.has(idKey(item.skuId)) && seen.add(idKey(item.skuId)))
    .map((item) => ({
      id: item.skuId,
      productId: item.productId,
      title: item.product.title,
      description: item.product.description ?? item.product.title,
      minimumQuantity: item.product.minimumQuantity,
      maximumQuantity: item.product.maximumQuantity,
      isTrial: item.product.offerType === 'trial',
      supportedBillingCycles: [...new Set(item.product.prices.map((price) => price.billingCycle.toLowerCase()))],
      purchasePrerequisites: [],
      inventoryVariables: [],
      provisioningVariables: [],
      actions: [],
      dynamicAttributes: { isAddon: false },
      links: { availabilities: { uri: `/products/${item.productId}/skus/${item.skuId}/availabilities?country=${country}`, method: 'GET', headers: [] } },
      attributes: { objectType: 'Sku' },
    }));
}

const TERM_DESCRIPTIONS: Readonly<Record<string, string>> = { P1M: 'One-Month commitment', P1Y: 'One-Year commitment', P3Y: 'Three-Year commitment' };

export function availabilitiesOf(state: SimulatorState, productId: string, skuId: string, country: string) {
  const currency = MARKET_CURRENCY[country.toUpperCase()] ?? 'USD';
  return catalogItems(state)
    .filter((item) => idKey(item.productId) === idKey(productId) && idKey(item.skuId) === idKey(skuId))
    .map((item) => ({
      id: item.availabilityId,
      productId: item.productId,
      skuId: item.skuId,
      catalogItemId: item.product.catalogItemId,
      defaultCurrency: { code: currency, symbol: currency === 'USD' ? '$' : currency },
      segment: item.product.segment,
      country: country.toUpperCase(),
      isPurchasable: true,
      isRenewable: true,
      terms: item.product.prices.map((price) => ({
        duration: price.termDuration,
        description: TERM_DESCRIPTIONS[price.termDuration.toUpperCase()] ?? price.termDuration,
        billingCycle: price.billingCycle.toLowerCase(),
      })),
      attributes: { objectType: 'Availability' },
    }));
}

const csvField = (value: string) => (/[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);
const capitalized = (text: string) => text.charAt(0).toUpperCase() + text.slice(1).toLowerCase();

/** The current month's price sheet of a market: the prices seeded in that market's currency, valid all month. */
export function priceSheetCsv(state: SimulatorState, market: string, now: number): string {
  const currency = MARKET_CURRENCY[market.toUpperCase()] ?? 'USD';
  const today = new Date(now);
  const monthStart = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), 1)).toISOString();
  const nextMonthStart = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth() + 1, 1) - 1000).toISOString();
  const rows = catalogItems(state).flatMap((item) =>
    item.product.prices
      .filter((price) => price.currency.toUpperCase() === currency)
      .map((price) =>
        [
          item.product.title,
          item.productId,
          item.skuId,
          item.product.title,
          'Microsoft Corporation',
          item.product.description ?? item.product.title,
          'Licenses',
          price.termDuration,
          capitalized(price.billingCycle),
          market.toUpperCase(),
          currency,
          price.unitPrice,
          '0',
          '',
          monthStart,
          nextMonthStart,
          '',
          price.erpPrice ?? price.unitPrice,
        ]
          .map(csvField)
          .join(','),
      ),
  );
  return `${[PRICE_SHEET_COLUMNS.join(','), ...rows].join('\r\n')}\r\n`;
}
