import { fromProduct, toProduct } from '../../db/mappers';
import type { Models, ProductDocument } from '../../db/models';
import {
  BILLING_FREQUENCIES,
  Catalog,
  TERMS,
  isKnownCurrency,
  parseDecimalToMinor,
  type BillingFrequency,
  type Price,
  type Product,
  type Term,
} from '../../domain';
import type { ServiceProduct } from '../../partner-center';
import type { ResolvedDeps } from '../deps';
import { ApiError, notFound, validationError } from '../errors';
import { defineRoute, type AnyRoute } from '../routing';
import {
  catalogImportResultSchema,
  catalogImportSchema,
  catalogSyncResultSchema,
  productListSchema,
  productParamsSchema,
  productSchema,
} from '../schemas/catalog';
import { emptyQuerySchema } from '../schemas/common';

type LeanProduct = ProductDocument & { _id: unknown };

/** Upserts products one document each (no transactions); with `replace`, removes the ones not listed. */
async function storeProducts(models: Models, products: readonly Product[], replace: boolean) {
  await Promise.all(
    products.map((product) => {
      const { _id, ...fields } = fromProduct(product);
      const unset = product.promotion ? {} : { $unset: { promotion: 1 } };
      return models.products.updateOne({ _id }, { $set: fields, ...unset }, { upsert: true });
    }),
  );
  const ids = products.map((p) => p.productId);
  const removed = replace ? (await models.products.deleteMany({ _id: { $nin: ids } })).deletedCount : 0;
  return { imported: products.length, removed, productIds: ids };
}

/**
 * The vendor's services definition → our catalog. Vendor prices are decimal strings in major units: `unitPrice` is
 * what the vendor charges us (cost), `erpPrice` the recommended retail price we sell at (falls back to the cost).
 */
export function productsFromServicesDefinition(definition: readonly ServiceProduct[]) {
  const skippedPrices: Array<{ productId: string; reason: string }> = [];
  const products = definition.map((item): Product => {
    const prices: Price[] = [];
    for (const price of item.prices) {
      const term = price.termDuration.toUpperCase() as Term;
      const billingFrequency = price.billingCycle.toLowerCase() as BillingFrequency;
      const currency = price.currency.toUpperCase();
      if (!TERMS.includes(term) || !BILLING_FREQUENCIES.includes(billingFrequency) || !isKnownCurrency(currency)) {
        skippedPrices.push({ productId: item.catalogItemId, reason: `unsupported ${price.termDuration}/${price.billingCycle}/${price.currency}` });
        continue;
      }
      try {
        const unitCost = parseDecimalToMinor(price.unitPrice, currency);
        const unitPrice = price.erpPrice ? parseDecimalToMinor(price.erpPrice, currency) : unitCost;
        prices.push({ term, billingFrequency, currency, unitPrice, unitCost });
      } catch (error) {
        skippedPrices.push({ productId: item.catalogItemId, reason: (error as Error).message });
      }
    }
    const offerType = (['standard', 'specialized', 'trial'] as const).find((t) => t === item.offerType.toLowerCase()) ?? 'standard';
    const segment = (['commercial', 'education', 'government', 'nonprofit'] as const).find((s) => s === item.segment?.toLowerCase()) ?? 'commercial';
    return {
      productId: item.catalogItemId,
      name: item.title,
      offerType,
      segment,
      minQuantity: Math.max(1, item.minimumQuantity),
      maxQuantity: Math.max(1, item.maximumQuantity, item.minimumQuantity),
      prices,
      upgradePaths: item.upgradeTargets.map((target) => target.catalogItemId),
      entraSkuId: item.entraSkuId,
    };
  });
  return { products, skippedPrices };
}

export function catalogRoutes(deps: ResolvedDeps): AnyRoute[] {
  const { models } = deps;
  return [
    defineRoute({
      method: 'put',
      path: '/v1/catalog',
      operationId: 'importCatalog',
      tag: 'Catalog',
      summary: 'Import products, prices, promotions and upgrade paths (the services definition)',
      access: 'operator',
      body: catalogImportSchema,
      responses: { 200: { description: 'Imported', schema: catalogImportResultSchema } },
      async handler({ body }) {
        try {
          new Catalog(body.products as Product[]);
        } catch (error) {
          throw validationError([{ path: 'products', message: (error as Error).message }]);
        }
        const result = await storeProducts(models, body.products as Product[], body.replace ?? false);
        deps.catalog.invalidate();
        return { status: 200, body: result };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/catalog/sync',
      operationId: 'syncCatalog',
      tag: 'Catalog',
      summary: "Pull the vendor's services definition into the catalog",
      description: 'Products are upserted; promotions set by `PUT /v1/catalog` are kept. 503 when no vendor is configured.',
      access: 'operator',
      responses: { 200: { description: 'Synced', schema: catalogSyncResultSchema } },
      errors: [503],
      async handler() {
        if (!deps.vendor) throw new ApiError(503, 'VENDOR_NOT_CONFIGURED', 'No Partner Center client is configured for this API');
        let definition: ServiceProduct[];
        try {
          definition = await deps.vendor.getServicesDefinition();
        } catch (error) {
          deps.logger.warn({ err: error }, 'catalog sync: vendor call failed');
          throw new ApiError(503, 'VENDOR_UNAVAILABLE', `The vendor's services definition could not be read: ${(error as Error).name}`);
        }
        const { products, skippedPrices } = productsFromServicesDefinition(definition);
        await Promise.all(
          products.map((product) => {
            const { _id, ...fields } = fromProduct(product);
            const { promotion, ...withoutPromotion } = fields as typeof fields & { promotion?: unknown };
            void promotion;
            return models.products.updateOne({ _id }, { $set: withoutPromotion }, { upsert: true });
          }),
        );
        deps.catalog.invalidate();
        return { status: 200, body: { imported: products.length, removed: 0, productIds: products.map((p) => p.productId), skippedPrices } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/catalog/products',
      operationId: 'listProducts',
      tag: 'Catalog',
      summary: 'The catalog with prices and upgrade paths',
      access: 'authenticated',
      query: emptyQuerySchema,
      responses: { 200: { description: 'Products', schema: productListSchema } },
      async handler() {
        const docs = await models.products.find().sort({ _id: 1 }).lean();
        return { status: 200, body: { products: docs.map((doc) => toProduct(doc as LeanProduct)) } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/catalog/products/:productId',
      operationId: 'getProduct',
      tag: 'Catalog',
      summary: 'One product with its prices and upgrade paths',
      access: 'authenticated',
      params: productParamsSchema,
      responses: { 200: { description: 'The product', schema: productSchema } },
      errors: [404],
      async handler({ params }) {
        const doc = await models.products.findById(params.productId).lean();
        if (!doc) throw notFound(`Product ${params.productId}`);
        return { status: 200, body: toProduct(doc as LeanProduct) };
      },
    }),
  ];
}
