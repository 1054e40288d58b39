import { z } from 'zod';
import { isIsoDate } from '../../domain';
import { billingFrequencySchema, currencySchema, isoDateSchema, minorUnitsSchema, productIdSchema, termSchema } from './common';

/** Catalog: products, prices, promotions, imports and syncs. */

export const priceSchema = z
  .object({
    term: termSchema,
    billingFrequency: billingFrequencySchema,
    currency: currencySchema,
    unitPrice: minorUnitsSchema.meta({ description: 'sell price per seat per billing cycle, minor units' }),
    unitCost: minorUnitsSchema.meta({ description: 'vendor cost per seat per billing cycle, minor units' }),
  })
  .strict();

export const promotionSchema = z
  .object({
    promotionId: z.string().min(1).max(128),
    description: z.string().max(500),
    discountBasisPoints: z.number().int().min(0).max(10_000),
    validFrom: isoDateSchema,
    validTo: isoDateSchema,
  })
  .strict()
  .refine((p) => !isIsoDate(p.validFrom) || !isIsoDate(p.validTo) || p.validFrom <= p.validTo, {
    message: 'validTo is before validFrom',
    path: ['validTo'],
  });

const productFields = {
  productId: productIdSchema,
  name: z.string().min(1).max(200),
  offerType: z.enum(['standard', 'specialized', 'trial']),
  segment: z.enum(['commercial', 'education', 'government', 'nonprofit']),
  minQuantity: z.number().int().min(1).max(1_000_000),
  maxQuantity: z.number().int().min(1).max(1_000_000),
  prices: z.array(priceSchema).max(100),
  promotion: promotionSchema.optional(),
  upgradePaths: z.array(productIdSchema).max(100),
  entraSkuId: z.string().min(1).max(64),
};

/** A product as an operator imports it: every price carries the vendor cost. */
export const productSchema = z
  .object(productFields)
  .strict()
  .refine((p) => p.maxQuantity >= p.minQuantity, { message: 'maxQuantity is below minQuantity', path: ['maxQuantity'] })
  .meta({ id: 'Product' });

/** A product as the API shows it: the vendor cost (our margin) only to operator keys. */
export const productViewSchema = z
  .object({
    ...productFields,
    prices: z.array(
      priceSchema.extend({
        unitCost: minorUnitsSchema.optional().meta({ description: 'vendor cost per seat per billing cycle, minor units; only for operator keys' }),
      }),
    ),
  })
  .meta({ id: 'ProductView' });

export const catalogImportSchema = z
  .object({
    products: z.array(productSchema).min(1).max(2_000),
    /** Remove products that are not in this import (a full services definition). */
    replace: z.boolean().optional(),
  })
  .strict();
export const catalogImportResultSchema = z.object({ imported: z.number().int(), removed: z.number().int(), productIds: z.array(z.string()) });
const priceListCountsSchema = z.object({
  pricesSet: z.number().int(),
  notInCatalog: z.number().int().meta({ description: 'product:sku pairs of the price list that no catalog item carries' }),
  unsupportedRows: z.number().int().meta({ description: 'rows with a term or billing plan the catalog cannot hold' }),
  notEffectiveRows: z.number().int(),
  otherTiers: z.number().int().meta({ description: 'pricing tiers beyond the first' }),
});
export const priceListImportResultSchema = priceListCountsSchema.extend({ productIds: z.array(z.string()) });
export const catalogSyncResultSchema = z.object({
  updated: z.array(z.string()),
  notSold: z.array(z.string()),
  availabilityChanged: z.array(z.object({ productId: z.string(), availableNow: z.array(z.string()) })),
  priceList: z.union([
    priceListCountsSchema.extend({ status: z.literal('applied'), market: z.string(), productsRepriced: z.number().int() }),
    z.object({ status: z.literal('not_configured') }),
  ]),
});
export const productListSchema = z.object({ products: z.array(productViewSchema) });

export const productParamsSchema = z.object({ productId: productIdSchema }).strict();
