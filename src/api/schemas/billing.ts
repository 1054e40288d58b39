import { z } from 'zod';
import { billingFrequencySchema, currencySchema, idSchema, isoDateSchema, minorUnitsSchema, seatsSchema, signedMinorUnits } from './common';

/** Invoices and the proration preview. */

export const invoiceLineSchema = z.object({
  subscriptionId: z.string().optional(),
  productId: z.string(),
  description: z.string().optional(),
  periodStart: z.string(),
  periodEnd: z.string(),
  days: z.number().int(),
  cycleDays: z.number().int(),
  quantity: z.number().int(),
  unitPrice: z.number().int(),
  amount: signedMinorUnits,
});
export const invoiceSchema = z
  .object({
    id: z.string(),
    upgradeId: z.string(),
    accountId: z.string(),
    subscriptionId: z.string(),
    type: z.enum(['credit', 'debit']),
    status: z.enum(['pending', 'issued']),
    currency: z.string(),
    lines: z.array(invoiceLineSchema),
    subtotal: signedMinorUnits,
    taxBasisPoints: z.number().int(),
    tax: signedMinorUnits,
    total: signedMinorUnits,
    createdAt: z.string().optional(),
  })
  .meta({ id: 'Invoice' });
export const invoiceListQuerySchema = z
  .object({ subscriptionId: idSchema.optional(), upgradeId: idSchema.optional(), limit: z.coerce.number().int().min(1).max(500).optional() })
  .strict();
export const invoiceListSchema = z.object({ invoices: z.array(invoiceSchema) });

const cycleFields = { chargeStart: isoDateSchema, chargeEnd: isoDateSchema };
/** Documents docs/proration.md, "`POST /v1/billing/proration-preview`"; the domain's `previewProration` does the validation (field-named). */
export const prorationPreviewRequestSchema = z
  .object({
    currency: currencySchema,
    upgradeDate: isoDateSchema,
    quantity: seatsSchema,
    source: z
      .object({ quantity: seatsSchema, unitPrice: minorUnitsSchema, ...cycleFields, termStart: isoDateSchema.optional(), termEnd: isoDateSchema.optional() })
      .strict(),
    destination: z.discriminatedUnion('type', [
      z.object({ type: z.literal('new'), unitPrice: minorUnitsSchema }).strict(),
      z.object({ type: z.literal('existing'), unitPrice: minorUnitsSchema, ...cycleFields, termEnd: isoDateSchema.optional() }).strict(),
    ]),
    billingFrequency: billingFrequencySchema.optional(),
  })
  .strict();
const previewLineSchema = z.object({
  amount: signedMinorUnits,
  quantity: z.number().int(),
  periodStart: z.string(),
  periodEnd: z.string(),
  days: z.number().int(),
  cycleDays: z.number().int(),
});
export const prorationPreviewResponseSchema = z.object({
  currency: z.string(),
  credit: previewLineSchema,
  debit: previewLineSchema,
  net: signedMinorUnits,
  destinationInstallments: z
    .array(z.object({ periodStart: z.string(), periodEnd: z.string(), amount: z.number().int(), quantity: z.number().int() }))
    .optional(),
});
