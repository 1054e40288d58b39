import { z } from 'zod';
import { isIsoDate } from '../../domain';
import { billingFrequencySchema, currencySchema, idSchema, isoDateSchema, isoInstantSchema, minorUnitsSchema, productIdSchema, termSchema } from './common';

/** Subscriptions, their imports, listings and history. */

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
    billingAnchorDate: isoDateSchema.optional().meta({
      description: "day the charge cycles are counted from (default termStart); a subscription co-termed with another gives that one's anchor",
    }),
    autoRenew: z.boolean().optional().meta({ description: 'renews into a term of the same length at termEnd (default true); false = expired after termEnd' }),
    chargeStart: isoDateSchema.optional().meta({ description: 'optional hint: must be one of the cycles derived from the term and anchor (400 otherwise)' }),
    chargeEnd: isoDateSchema.optional().meta({ description: 'optional hint, with chargeStart' }),
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
    // The charge cycle hints are checked against the derived cycles by the import (cycleHintProblems).
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
    termStart: z.string().meta({ description: 'the term in force today (renewed automatically at termEnd when autoRenew)' }),
    termEnd: z.string(),
    billingAnchorDate: z.string().meta({ description: 'day the charge cycles are counted from' }),
    autoRenew: z.boolean(),
    chargeStart: z.string().meta({ description: 'the charge cycle that holds today, derived from the term and the anchor' }),
    chargeEnd: z.string(),
    cycleDays: z
      .number()
      .int()
      .optional()
      .meta({ description: 'days of the anchor period the cycle price pays for, when longer than the cycle (a co-termed first cycle)' }),
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
  upgradeId: z.string().nullable().meta({ description: 'the upgrade that made the change; null for a renewal or an expiry' }),
  event: z.string(),
  at: z.string(),
  description: z.string(),
  before: z.unknown(),
  after: z.unknown(),
});
export const historyListSchema = z.object({ entries: z.array(historyEntrySchema) });

export const subscriptionListQuerySchema = z
  .object({ accountId: idSchema.optional(), limit: z.coerce.number().int().min(1).max(500).optional(), cursor: z.string().max(200).optional() })
  .strict();
