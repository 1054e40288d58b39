import { z } from 'zod';
import { BILLING_FREQUENCIES, ELIGIBILITY_CODES, TERMS, isIsoDate, isIsoInstant, isKnownCurrency } from '../domain';
import { UPGRADE_STATUSES } from '../../workflows/messages';

/**
 * Request and response bodies of the HTTP API, defined once: the routes validate with these and the OpenAPI
 * document is generated from them. Request objects are `.strict()`: an unknown field is a 400, so nothing the
 * schema doesn't name (a `$where`, a `lockedByUpgradeId`) can reach MongoDB.
 */

// ---------------------------------------------------------------------------------------------------------------------
// Building blocks

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
const signedMinorUnits = z.number().int().meta({ description: 'integer amount in minor units (negative = credit)' });
export const termSchema = z.enum(TERMS as unknown as ['P1M', 'P1Y', 'P3Y']);
export const billingFrequencySchema = z.enum(BILLING_FREQUENCIES as unknown as ['monthly', 'annual', 'triennial']);
export const upgradeStatusSchema = z.enum(UPGRADE_STATUSES);
const seatsSchema = z.number().int().min(1).max(1_000_000);

/** A percentage with at most two decimals (19, 19.5, 8.25), stored as basis points. */
const percentSchema = (min: number, max: number) =>
  z
    .number()
    .min(min)
    .max(max)
    .refine((value) => Math.abs(value * 100 - Math.round(value * 100)) < 1e-9, 'at most two decimals');

export const eligibilityReasonSchema = z.object({ code: z.enum(ELIGIBILITY_CODES), message: z.string() }).meta({ id: 'EligibilityReason' });
export const verdictSchema = z.object({ eligible: z.boolean(), reasons: z.array(eligibilityReasonSchema) });

// ---------------------------------------------------------------------------------------------------------------------
// Catalog

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

export const productSchema = z
  .object({
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
  })
  .strict()
  .refine((p) => p.maxQuantity >= p.minQuantity, { message: 'maxQuantity is below minQuantity', path: ['maxQuantity'] })
  .meta({ id: 'Product' });

export const catalogImportSchema = z
  .object({
    products: z.array(productSchema).min(1).max(2_000),
    /** Remove products that are not in this import (a full services definition). */
    replace: z.boolean().optional(),
  })
  .strict();
export const catalogImportResultSchema = z.object({ imported: z.number().int(), removed: z.number().int(), productIds: z.array(z.string()) });
export const catalogSyncResultSchema = catalogImportResultSchema.extend({
  skippedPrices: z.array(z.object({ productId: z.string(), reason: z.string() })),
});
export const productListSchema = z.object({ products: z.array(productSchema) });

// ---------------------------------------------------------------------------------------------------------------------
// API keys and accounts

export const apiKeyRoleSchema = z.enum(['operator', 'reseller', 'customer']);
export const apiKeyCreateSchema = z
  .object({
    role: apiKeyRoleSchema,
    accountIds: z.array(idSchema).max(1_000).default([]),
    label: z.string().max(200).optional(),
  })
  .strict()
  .superRefine((body, ctx) => {
    if (body.role === 'customer' && body.accountIds.length !== 1) {
      ctx.addIssue({ code: 'custom', path: ['accountIds'], message: 'a customer key names exactly one account' });
    }
    if (body.role === 'reseller' && body.accountIds.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['accountIds'], message: 'a reseller key names at least one account' });
    }
  });
export const apiKeyCreatedSchema = z.object({
  id: z.string(),
  key: z.string().meta({ description: 'the secret, shown once; send it as `Authorization: Bearer <key>`' }),
  role: apiKeyRoleSchema,
  accountIds: z.array(z.string()),
  label: z.string().optional(),
});
export const apiKeyRevokedSchema = z.object({ id: z.string(), revokedAt: z.string() });

export const accountRoleSchema = z.enum(['direct_reseller', 'indirect_reseller', 'standard_reseller', 'end_customer']);
export const specialPriceSchema = z
  .object({ productId: productIdSchema, term: termSchema, billingFrequency: billingFrequencySchema, unitPrice: minorUnitsSchema })
  .strict();
export const accountUpsertSchema = z
  .object({
    id: idSchema.optional(),
    name: z.string().min(1).max(200),
    tenantId: z.string().min(1).max(100),
    role: accountRoleSchema,
    partnerId: z.string().min(1).max(64).optional(),
    currency: currencySchema,
    taxRate: percentSchema(0, 100).optional().meta({ description: 'percent, e.g. 19 or 8.25 (at most two decimals)' }),
    webhookUrl: z
      .url({ protocol: /^https?$/ })
      .max(2_000)
      .optional(),
    markupPercent: percentSchema(-100, 1_000).optional().meta({ description: 'end customers of standard resellers: markup on list price, percent' }),
    specialPrices: z.array(specialPriceSchema).max(500).optional(),
    parentResellerId: idSchema.optional(),
  })
  .strict();
export const accountSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    tenantId: z.string(),
    role: accountRoleSchema,
    partnerId: z.string().optional(),
    currency: z.string(),
    taxRateBasisPoints: z.number().int(),
    webhookUrl: z.string().optional(),
    markupBasisPoints: z.number().int().optional(),
    specialPrices: z.array(specialPriceSchema).optional(),
    parentResellerId: z.string().optional(),
  })
  .meta({ id: 'Account' });

// ---------------------------------------------------------------------------------------------------------------------
// Subscriptions

export const subscriptionStatusSchema = z.enum(['active', 'suspended', 'cancelled', 'expired']);
export const subscriptionImportItemSchema = z
  .object({
    id: idSchema.optional(),
    externalId: z.string().min(1).max(128).optional(),
    accountId: idSchema,
    productId: productIdSchema,
    quantity: z.number().int().min(0).max(1_000_000),
    status: subscriptionStatusSchema,
    isTrial: z.boolean(),
    term: termSchema,
    billingFrequency: billingFrequencySchema,
    termStart: isoDateSchema,
    termEnd: isoDateSchema,
    chargeStart: isoDateSchema,
    chargeEnd: isoDateSchema,
    purchasedAt: isoInstantSchema,
    unitPrice: minorUnitsSchema.meta({ description: 'billed per seat per charge cycle, minor units' }),
    currency: currencySchema,
    partnerId: z.string().min(1).max(64).optional(),
    promotionId: z.string().min(1).max(128).optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    const ordered = (from: string, to: string, path: string, message: string) => {
      if (isIsoDate(from) && isIsoDate(to) && to < from) ctx.addIssue({ code: 'custom', path: [path], message });
    };
    ordered(s.termStart, s.termEnd, 'termEnd', 'termEnd is before termStart');
    ordered(s.chargeStart, s.chargeEnd, 'chargeEnd', 'chargeEnd is before chargeStart');
    ordered(s.termStart, s.chargeStart, 'chargeStart', 'the charge cycle starts before the term');
    ordered(s.chargeEnd, s.termEnd, 'chargeEnd', 'the charge cycle ends after the term');
  });
export const subscriptionImportSchema = z.object({ subscriptions: z.array(subscriptionImportItemSchema).min(1).max(1_000) }).strict();

export const subscriptionSchema = z
  .object({
    id: z.string(),
    externalId: z.string(),
    accountId: z.string(),
    productId: z.string(),
    quantity: z.number().int(),
    status: subscriptionStatusSchema,
    isTrial: z.boolean(),
    term: termSchema,
    billingFrequency: billingFrequencySchema,
    termStart: z.string(),
    termEnd: z.string(),
    chargeStart: z.string(),
    chargeEnd: z.string(),
    purchasedAt: z.string(),
    cancellationWindowEndsAt: z.string(),
    unitPrice: z.number().int(),
    currency: z.string(),
    partnerId: z.string().optional(),
    promotionId: z.string().optional(),
    protectedPrice: z.object({ unitPrice: z.number().int(), until: z.string() }).optional(),
    installmentPlan: z
      .object({
        installments: z.array(
          z.object({ periodStart: z.string(), periodEnd: z.string(), amount: z.number().int(), quantity: z.number().int(), status: z.string() }),
        ),
      })
      .optional(),
    lockedByUpgradeId: z.string().nullable().meta({ description: 'the upgrade running on this subscription, if any' }),
  })
  .meta({ id: 'Subscription' });
export const subscriptionListSchema = z.object({ subscriptions: z.array(subscriptionSchema), nextCursor: z.string().optional() });
export const subscriptionImportResultSchema = z.object({ subscriptions: z.array(subscriptionSchema) });

export const historyEntrySchema = z.object({
  id: z.string(),
  subscriptionId: z.string(),
  upgradeId: z.string(),
  event: z.string(),
  at: z.string(),
  description: z.string(),
  before: z.unknown(),
  after: z.unknown(),
});
export const historyListSchema = z.object({ entries: z.array(historyEntrySchema) });

// ---------------------------------------------------------------------------------------------------------------------
// Upgrades

export const upgradeDestinationSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('new') }).strict(),
  z.object({ type: z.literal('existing'), subscriptionId: idSchema }).strict(),
]);
export const upgradeRequestSchema = z
  .object({
    sourceSubscriptionId: idSchema,
    targetProductId: productIdSchema,
    quantity: seatsSchema,
    destination: upgradeDestinationSchema,
  })
  .strict()
  .meta({ id: 'UpgradeRequest' });

export const idempotencyHeadersSchema = z.object({
  'idempotency-key': z
    .string({ error: 'the Idempotency-Key header is required' })
    .min(1, 'must be 1–200 characters')
    .max(200, 'must be 1–200 characters')
    .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces only'),
});

export const upgradeAcceptedSchema = z.object({ upgradeId: z.string(), status: upgradeStatusSchema });

const invoiceLineSchema = z.object({
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
const invoiceDraftSchema = z.object({
  kind: z.enum(['credit', 'debit']).optional(),
  currency: z.string(),
  lines: z.array(invoiceLineSchema),
  subtotal: signedMinorUnits,
  taxBasisPoints: z.number().int(),
  tax: signedMinorUnits,
  total: signedMinorUnits,
});
export const quoteBreakdownSchema = z.object({
  currency: z.string(),
  totalFees: signedMinorUnits.meta({ description: 'debit total, tax included' }),
  taxTotal: signedMinorUnits,
  refund: signedMinorUnits.meta({ description: 'credit total, tax included (≤ 0)' }),
  total: signedMinorUnits,
});
export const quoteSchema = z
  .object({
    eligible: z.literal(true),
    upgradeDate: z.string(),
    kind: z.enum(['full', 'partial']),
    destinationType: z.enum(['new', 'existing']),
    quantity: z.number().int(),
    sourceSubscriptionId: z.string(),
    targetProductId: z.string(),
    destinationSubscriptionId: z.string().optional(),
    credit: invoiceDraftSchema,
    debit: invoiceDraftSchema,
    installmentChanges: z.array(z.unknown()),
    seatReassignment: z.object({ mode: z.enum(['automatic', 'manual']), reason: z.string() }),
    quote: quoteBreakdownSchema,
    summary: z.string(),
  })
  .meta({ id: 'UpgradeQuote' });

export const upgradeOptionsQuerySchema = z.object({ quantity: z.coerce.number().int().min(1).max(1_000_000).optional() }).strict();
const pricePreviewSchema = z.object({ credit: signedMinorUnits, debit: signedMinorUnits, quote: quoteBreakdownSchema });
export const upgradeOptionsSchema = z.object({
  sourceSubscriptionId: z.string(),
  sourceProductId: z.string(),
  quantityRange: z
    .object({ min: z.number().int(), max: z.number().int(), maxPartial: z.number().int() })
    .nullable()
    .meta({ description: 'any n in [min, maxPartial], or exactly max (full); null when the source product is unknown' }),
  evaluatedQuantity: z.number().int(),
  targets: z.array(
    z.object({
      productId: z.string(),
      name: z.string(),
      newSubscriptionUnitPrice: z.number().int().optional(),
      promotionId: z.string().optional(),
      toNewSubscription: verdictSchema.extend({ pricePreview: pricePreviewSchema.optional() }),
      existingDestinations: z.array(
        z.object({
          subscriptionId: z.string(),
          externalId: z.string(),
          quantity: z.number().int(),
          term: z.string(),
          billingFrequency: z.string(),
          termEnd: z.string(),
          unitPrice: z.number().int(),
          currency: z.string(),
          verdict: verdictSchema,
          pricePreview: pricePreviewSchema.optional(),
        }),
      ),
    }),
  ),
});

const stepRecordSchema = z.object({ name: z.string(), status: z.string(), at: z.string(), detail: z.string().optional() });
export const upgradeSchema = z
  .object({
    upgradeId: z.string(),
    status: upgradeStatusSchema,
    kind: z.enum(['full', 'partial']),
    destinationType: z.enum(['new', 'existing']),
    accountId: z.string(),
    request: upgradeRequestSchema,
    upgradeDate: z.string().optional(),
    steps: z.array(stepRecordSchema),
    currentDetails: z.string().optional(),
    subscriptionsTouched: z.array(z.string()),
    invoices: z.array(z.object({ id: z.string(), type: z.enum(['credit', 'debit']), status: z.string(), currency: z.string(), total: signedMinorUnits })),
    seatReassignment: z.record(z.string(), z.unknown()).nullable().meta({ description: 'manual or automatic, why, and its progress' }),
    vendor: z.record(z.string(), z.unknown()).nullable().meta({ description: 'the Partner Center transition: request id, state, result' }),
    error: z.object({ code: z.string(), message: z.string() }).passthrough().nullable(),
    plan: z
      .object({ summary: z.string().optional(), quote: quoteBreakdownSchema.optional() })
      .passthrough()
      .nullable()
      .meta({ description: 'the frozen quote, once the workflow validated the upgrade' }),
    retries: z.number().int(),
    createdAt: z.string().optional(),
    completedAt: z.string().nullable(),
    live: z.boolean().meta({ description: 'true when status/steps came from the running workflow' }),
  })
  .meta({ id: 'Upgrade' });
export const upgradeListQuerySchema = z
  .object({
    accountId: idSchema.optional(),
    status: upgradeStatusSchema.optional(),
    limit: z.coerce.number().int().min(1).max(500).optional(),
    cursor: z.string().max(200).optional(),
  })
  .strict();
export const upgradeListSchema = z.object({
  upgrades: z.array(upgradeSchema.omit({ live: true })),
  nextCursor: z.string().optional(),
});
export const seatReassignmentConfirmSchema = z.object({ note: z.string().max(1_000).optional() }).strict();

// ---------------------------------------------------------------------------------------------------------------------
// Invoices, billing

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
/** Documents PRORATION.md §4; the domain's `previewProration` does the validation (field-named). */
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

// ---------------------------------------------------------------------------------------------------------------------
// Operations

export const healthSchema = z.object({
  status: z.enum(['ok', 'degraded']),
  checks: z.object({
    temporal: z.object({ ok: z.boolean(), latencyMs: z.number(), error: z.string().optional() }),
    database: z.object({ ok: z.boolean(), latencyMs: z.number(), error: z.string().optional() }),
  }),
});

export const idParamsSchema = z.object({ id: idSchema }).strict();
export const productParamsSchema = z.object({ productId: productIdSchema }).strict();
export const subscriptionListQuerySchema = z
  .object({ accountId: idSchema.optional(), limit: z.coerce.number().int().min(1).max(500).optional(), cursor: z.string().max(200).optional() })
  .strict();
export const emptyQuerySchema = z.object({}).strict();
