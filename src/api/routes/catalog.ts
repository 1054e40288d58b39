import type { Request } from 'express';
import { syncCatalog, type CatalogSyncReport } from '../../catalog/catalog-sync';
import { importPriceList, PriceListError } from '../../catalog/price-list';
import { fromProduct, toProduct } from '../../db/mappers';
import type { Models, ProductDocument } from '../../db/models';
import { Catalog, type Product } from '../../domain';
import type { Caller } from '../auth';
import type { ResolvedDeps } from '../deps';
import { ApiError, notFound, validationError } from '../errors';
import { defineRoute, type AnyRoute } from '../routing';
import {
  catalogImportResultSchema,
  catalogImportSchema,
  catalogSyncResultSchema,
  priceListImportResultSchema,
  productListSchema,
  productParamsSchema,
  productViewSchema,
} from '../schemas/catalog';
import { emptyQuerySchema } from '../schemas/common';

type LeanProduct = ProductDocument & { _id: unknown };

/** The vendor cost is the partner's margin: operators see it, resellers and customers never do. */
function productFor(caller: Caller, doc: LeanProduct) {
  const product = toProduct(doc);
  if (caller.role === 'operator') return product;
  return { ...product, prices: product.prices.map(({ unitCost: _cost, ...price }) => price) };
}

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

const PRICE_LIST_MAX_BYTES = 50 * 1024 * 1024;

/** The request body as text, refused when it is not CSV or too large (a price list is a few MB). */
async function readCsvBody(req: Request): Promise<string> {
  if (!req.is('text/csv')) throw new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', "Content-Type must be text/csv (Microsoft's licence-based price list)");
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > PRICE_LIST_MAX_BYTES) throw new ApiError(413, 'PAYLOAD_TOO_LARGE', `a price list of at most ${PRICE_LIST_MAX_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
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
      summary: 'Refresh the catalog from Microsoft: products, SKUs, availabilities and the licence-based price sheet',
      description:
        "Names, seat limits and availabilities from Partner Center's catalog, prices from the market's NCE price sheet (when a token for it is configured). Upgrade paths, Entra SKU ids and promotions stay as `PUT /v1/catalog` set them. 503 when no vendor is configured or Microsoft does not answer.",
      access: 'operator',
      responses: { 200: { description: 'Synced', schema: catalogSyncResultSchema } },
      errors: [503],
      async handler() {
        if (!deps.vendor) throw new ApiError(503, 'VENDOR_NOT_CONFIGURED', 'No Partner Center client is configured for this API');
        let report: CatalogSyncReport;
        try {
          report = await syncCatalog({
            vendor: deps.vendor,
            models,
            country: deps.catalogSync?.country ?? 'US',
            readPriceSheet: deps.catalogSync?.readPriceSheet ?? true,
            asOf: deps.clock(),
          });
        } catch (error) {
          if (error instanceof PriceListError) throw new ApiError(503, 'VENDOR_UNAVAILABLE', `Microsoft's price sheet is not readable: ${error.message}`);
          deps.logger.warn({ err: error }, 'catalog sync: vendor call failed');
          throw new ApiError(503, 'VENDOR_UNAVAILABLE', `Microsoft's catalog could not be read: ${(error as Error).name}`);
        }
        deps.catalog.invalidate();
        return { status: 200, body: report };
      },
    }),
    defineRoute({
      method: 'put',
      path: '/v1/catalog/price-list',
      operationId: 'importPriceList',
      tag: 'Catalog',
      summary: "Import Microsoft's NCE licence-based price list (CSV)",
      description:
        "Body: the price list CSV as Partner Center exports it (`Content-Type: text/csv`, the documented columns). `UnitPrice` becomes the cost, `ERP Price` the sell price, for every catalog item of the row's product and SKU; rows not effective now are skipped. A bad file answers 400 naming the line and column, and changes nothing.",
      access: 'operator',
      responses: { 200: { description: 'Imported', schema: priceListImportResultSchema } },
      errors: [413, 415],
      async handler({ req }) {
        const csv = await readCsvBody(req);
        try {
          const result = await importPriceList(models, csv, deps.clock());
          deps.catalog.invalidate();
          return { status: 200, body: result };
        } catch (error) {
          if (error instanceof PriceListError) throw validationError([{ path: error.path, message: error.message }]);
          throw error;
        }
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/catalog/products',
      operationId: 'listProducts',
      tag: 'Catalog',
      summary: 'The catalog with prices and upgrade paths',
      description: "Each price's `unitCost` (the vendor cost) is shown to operator keys only.",
      access: 'authenticated',
      query: emptyQuerySchema,
      responses: { 200: { description: 'Products', schema: productListSchema } },
      async handler({ caller }) {
        const docs = await models.products.find().sort({ _id: 1 }).lean();
        return { status: 200, body: { products: docs.map((doc) => productFor(caller, doc as LeanProduct)) } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/catalog/products/:productId',
      operationId: 'getProduct',
      tag: 'Catalog',
      summary: 'One product with its prices and upgrade paths',
      description: "Each price's `unitCost` (the vendor cost) is shown to operator keys only.",
      access: 'authenticated',
      params: productParamsSchema,
      responses: { 200: { description: 'The product', schema: productViewSchema } },
      errors: [404],
      async handler({ params, caller }) {
        const doc = await models.products.findById(params.productId).lean();
        if (!doc) throw notFound(`Product ${params.productId}`);
        return { status: 200, body: productFor(caller, doc as LeanProduct) };
      },
    }),
  ];
}
