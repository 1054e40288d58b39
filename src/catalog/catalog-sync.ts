/**
 * The catalog from Microsoft's own sources. Upgrade paths and Entra SKU ids stay the distributor's configuration
 * (`PUT /v1/catalog`): no Microsoft catalog or price list documents NCE upgrade paths (transition eligibilities are
 * Microsoft's only word on them). For each product of our catalog the sync reads:
 * - Partner Center's catalog: `GET /v1/products?country=&targetView=OnlineServices` (NCE products carry product type
 *   `OnlineServicesNCE`), then the product's SKUs and the SKU's availabilities — name, seat limits, and whether our
 *   catalog item (`product:sku:availability`) is still one of Microsoft's availabilities
 *   (https://learn.microsoft.com/en-us/partner-center/developer/get-a-list-of-products , …/get-a-list-of-skus-for-a-product ,
 *   …/get-a-list-of-availabilities-for-a-sku);
 * - the market's licence-based price sheet (price-list.ts), when an app + user token for it is configured.
 */
import { loadCatalog } from '../db/mappers';
import type { Models } from '../db/models';
import type { Product } from '../domain';
import type { PartnerCenterClient } from '../partner-center/partner-center-client';
import { applyPriceList, type PriceListApplication, parsePriceList } from './price-list';
import { storeSourcedFields } from './store-sourced-fields';

export type CatalogVendor = Pick<PartnerCenterClient, 'listProducts' | 'listSkus' | 'listAvailabilities' | 'getPriceSheet'>;

export const NCE_TARGET_VIEW = 'OnlineServices';
const NCE_PRODUCT_TYPE = 'OnlineServicesNCE';

export interface CatalogSyncReport {
  /** Catalog products whose name or seat limits changed. */
  updated: string[];
  /** Catalog products Microsoft no longer lists in this country. */
  notSold: string[];
  /** Catalog items whose availability Microsoft no longer offers, with the ones it offers now for that SKU. */
  availabilityChanged: Array<{ productId: string; availableNow: string[] }>;
  priceList: (Omit<PriceListApplication, 'products'> & { status: 'applied'; market: string; productsRepriced: number }) | { status: 'not_configured' };
}

const upper = (text: string) => text.toUpperCase();

export async function syncCatalog(options: {
  vendor: CatalogVendor;
  models: Models;
  country: string;
  readPriceSheet: boolean;
  asOf: Date;
}): Promise<CatalogSyncReport> {
  const { vendor, models, country } = options;
  const catalog = await loadCatalog(models);
  const listed = await vendor.listProducts(country, NCE_TARGET_VIEW);
  const nceProductIds = new Set(
    listed.filter((product) => product.productType?.id === undefined || product.productType.id === NCE_PRODUCT_TYPE).map((p) => upper(p.id)),
  );

  const report: CatalogSyncReport = { updated: [], notSold: [], availabilityChanged: [], priceList: { status: 'not_configured' } };
  const byId = new Map(catalog.products.map((product) => [product.productId, product]));
  const skusByProduct = new Map<string, Awaited<ReturnType<CatalogVendor['listSkus']>>>();
  for (const product of catalog.products) {
    const [productPart = '', skuPart = '', availabilityPart = ''] = product.productId.split(':');
    if (!nceProductIds.has(upper(productPart))) {
      report.notSold.push(product.productId);
      continue;
    }
    let skus = skusByProduct.get(upper(productPart));
    if (skus === undefined) {
      skus = await vendor.listSkus(productPart, country);
      skusByProduct.set(upper(productPart), skus);
    }
    const sku = skus.find((candidate) => upper(candidate.id) === upper(skuPart));
    if (sku === undefined) {
      report.notSold.push(product.productId);
      continue;
    }
    const availabilities = await vendor.listAvailabilities(productPart, skuPart, country);
    if (!availabilities.some((availability) => upper(availability.id) === upper(availabilityPart))) {
      report.availabilityChanged.push({ productId: product.productId, availableNow: availabilities.map((availability) => availability.catalogItemId) });
    }
    const minQuantity = Math.max(1, sku.minimumQuantity);
    const maxQuantity = Math.max(minQuantity, sku.maximumQuantity);
    if (sku.title !== product.name || minQuantity !== product.minQuantity || maxQuantity !== product.maxQuantity) {
      byId.set(product.productId, { ...product, name: sku.title, minQuantity, maxQuantity });
      report.updated.push(product.productId);
    }
  }

  let repriced: Product[] = [];
  if (options.readPriceSheet) {
    const csv = await vendor.getPriceSheet(country);
    const { products, ...counts } = applyPriceList([...byId.values()], parsePriceList(csv, options.asOf));
    repriced = products;
    report.priceList = { status: 'applied', market: country, productsRepriced: products.length, ...counts };
  }
  for (const product of repriced) byId.set(product.productId, product);
  const touched = new Set([...report.updated, ...repriced.map((product) => product.productId)]);
  await storeSourcedFields(
    models,
    [...touched].map((productId) => byId.get(productId)!),
  );
  return report;
}
