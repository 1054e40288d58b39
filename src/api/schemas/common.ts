import { z } from 'zod';
import { BILLING_FREQUENCIES, ELIGIBILITY_CODES, TERMS, isIsoDate, isIsoInstant, isKnownCurrency } from '../../domain';

/**
 * Request and response bodies of the HTTP API, defined once per resource (this folder): the routes validate with
 * these and the OpenAPI document is generated from them. Request objects are `.strict()`: an unknown field is a 400,
 * so nothing the schema doesn't name (a `$where`, a `lockedByUpgradeId`) can reach MongoDB.
 *
 * This file: Building blocks every resource's schemas share: ids, dates, money, terms, eligibility verdicts, empty params.
 */

export const idSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:@-]*$/, 'letters, digits and . _ : @ - only, starting with a letter or digit');
export const productIdSchema = z
  .string()
  .max(128)
  .regex(/^[A-Za-z0-9._-]+:[A-Za-z0-9._-]+:[A-Za-z0-9._-]+$/, 'must be a catalog item id product:sku:availability');
export const isoDateSchema = z.string().refine(isIsoDate, 'must be a calendar date YYYY-MM-DD').meta({ format: 'date', example: '2025-04-12' });
export const isoInstantSchema = z
  .string()
  .refine(isIsoInstant, 'must be an ISO-8601 instant with a zone, e.g. 2025-04-12T09:30:00Z')
  .meta({ format: 'date-time' });
export const currencySchema = z.string().refine(isKnownCurrency, 'must be a known ISO 4217 currency code').meta({ example: 'EUR' });
/** Integer minor units (cents for EUR), never a float. */
export const minorUnitsSchema = z.number().int().min(0).meta({ description: 'integer amount in minor units' });
export const signedMinorUnits = z.number().int().meta({ description: 'integer amount in minor units (negative = credit)' });
export const termSchema = z.enum(TERMS as unknown as ['P1M', 'P1Y', 'P3Y']);
export const billingFrequencySchema = z.enum(BILLING_FREQUENCIES as unknown as ['monthly', 'annual', 'triennial']);
export const seatsSchema = z.number().int().min(1).max(1_000_000);

/** A percentage with at most two decimals (19, 19.5, 8.25), stored as basis points. */
export const percentSchema = (min: number, max: number) =>
  z
    .number()
    .min(min)
    .max(max)
    .refine((value) => Math.abs(value * 100 - Math.round(value * 100)) < 1e-9, 'at most two decimals');

export const eligibilityReasonSchema = z
  .object({
    code: z.enum(ELIGIBILITY_CODES),
    message: z.string(),
    details: z
      .object({ microsoftCode: z.union([z.string(), z.number()]).optional(), description: z.string() })
      .optional()
      .meta({ description: "VENDOR_NOT_ELIGIBLE: Microsoft's own error code and description" }),
  })
  .meta({ id: 'EligibilityReason' });
export const verdictSchema = z.object({ eligible: z.boolean(), reasons: z.array(eligibilityReasonSchema) });

export const idParamsSchema = z.object({ id: idSchema }).strict();
export const emptyQuerySchema = z.object({}).strict();
