import { z } from 'zod';
import { billingFrequencySchema, currencySchema, idSchema, minorUnitsSchema, percentSchema, productIdSchema, termSchema } from './common';

/** API keys and accounts. */

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
    graphConsent: z
      .object({
        state: z.enum(['granted', 'missing']),
        code: z.string().optional().meta({ description: "Microsoft's code when missing: AADSTS65001, AADSTS700016 or Authorization_RequestDenied" }),
        detail: z.string().optional(),
        checkedAt: z.string().meta({ description: 'UTC instant (ISO 8601)' }),
      })
      .optional()
      .meta({
        description:
          "The partner's Microsoft Graph app in the customer's tenant, as the last automatic seat reassignment found it; `missing` means the customer's administrator must consent to it (README, customer onboarding)",
      }),
    webhookSigning: z
      .object({
        secret: z
          .enum(['own', 'shared'])
          .meta({ description: '`shared`: an account from before per-account secrets, signed with the shared secret until its first rotation' }),
        previousSecretsValidUntil: z
          .string()
          .nullable()
          .meta({ description: 'after a rotation, until when the previous secret still signs beside the new one' }),
      })
      .meta({ description: 'How its webhooks are signed (docs/http-api.md, "Signing secrets"); the secret itself is shown only at creation and rotation' }),
  })
  .meta({ id: 'Account' });

const webhookSecretField = z
  .string()
  .meta({ description: "the account's webhook signing secret (`whsec_…`, Standard Webhooks format), shown only in this answer: give it to the portal" });
export const accountCreatedSchema = accountSchema.extend({ webhookSecret: webhookSecretField }).meta({ id: 'AccountCreated' });
export const webhookSecretRotatedSchema = z.object({
  accountId: z.string(),
  webhookSecret: webhookSecretField,
  previousSecretsValidUntil: z.string().meta({ description: 'until when the previous secret still signs beside this one (WEBHOOK_SECRET_OVERLAP_HOURS)' }),
});
