import { z } from 'zod';
import { CAMPAIGN_ITEM_OUTCOMES, CAMPAIGN_STATUSES } from '../../db/campaign-models';
import { idSchema, productIdSchema, signedMinorUnits } from './common';
import { upgradeWhenSchema } from './upgrades';

/** Upgrade campaigns (docs/campaigns.md): the request, the dry run's summary, the campaign with its counts, its items. */

export const campaignRequestSchema = z
  .object({
    name: z.string().trim().min(1, 'must not be empty').max(200, 'at most 200 characters'),
    sourceProductId: productIdSchema,
    targetProductId: productIdSchema,
    destination: z.object({ type: z.literal('new') }).strict(),
    accountIds: z.array(idSchema).min(1, 'name at least one account, or leave it out for every account').max(10_000).optional(),
    quantity: z.literal('all', { error: 'must be "all" (every seat of each subscription)' }),
    // A single upgrade's `when`, the same schema: absent or `now` runs once executed, `on_date` waits for the day.
    when: upgradeWhenSchema.optional(),
  })
  .strict()
  .refine((request) => request.sourceProductId !== request.targetProductId, { path: ['targetProductId'], message: 'must differ from sourceProductId' })
  .meta({ id: 'CampaignRequest' });

export const campaignSummarySchema = z
  .object({
    total: z.number().int(),
    eligible: z.number().int(),
    ineligible: z.number().int(),
    byReason: z.record(z.string(), z.number().int()).meta({ description: 'ineligible items per reason code' }),
    totals: z.array(
      z.object({
        currency: z.string(),
        credit: signedMinorUnits.meta({ description: 'sum of the credits (refunds, ≤ 0), tax included' }),
        debit: signedMinorUnits.meta({ description: 'sum of the debits (fees), tax included' }),
        renewalFirstCycleCharge: signedMinorUnits.optional().meta({
          description:
            "at renewal only (credit and debit are 0: nothing is prorated): the sum of the renewed terms' first charge cycle, before tax, at the target's price on each renewal day",
        }),
      }),
    ),
  })
  .meta({ id: 'CampaignSummary' });

export const campaignCountsSchema = z
  .object({
    total: z.number().int(),
    pending: z.number().int(),
    running: z.number().int().meta({ description: 'started; at renewal, until Microsoft holds the scheduled change' }),
    scheduled: z.number().int().meta({
      description:
        "at renewal: Microsoft's scheduled change is written and the upgrade waits for the source's renewal (the campaign's part is done; the item's `upgradeStatus` says how the upgrade ended)",
    }),
    completed: z.number().int(),
    failed: z.number().int(),
    skipped: z.number().int().meta({ description: 'ineligible at the dry run, or refused at the start (reason in the item)' }),
  })
  .meta({ id: 'CampaignCounts' });

export const campaignCreatedSchema = z.object({ campaignId: z.string(), status: z.literal('planned'), summary: campaignSummarySchema });

export const campaignSchema = z
  .object({
    campaignId: z.string(),
    name: z.string(),
    sourceProductId: z.string(),
    targetProductId: z.string(),
    destination: z.object({ type: z.literal('new') }),
    accountIds: z.array(z.string()).optional(),
    status: z.enum(CAMPAIGN_STATUSES),
    when: upgradeWhenSchema.nullable().meta({
      description: "null: it runs once executed; on_date: `scheduled` until its day; at_renewal: each source's upgrade scheduled for its own renewal",
    }),
    summary: campaignSummarySchema,
    counts: campaignCountsSchema.optional(),
    plannedAt: z.string(),
    executedAt: z.string().nullable(),
    endedAt: z.string().nullable(),
  })
  .meta({ id: 'Campaign' });

export const campaignListSchema = z.object({ campaigns: z.array(campaignSchema), nextCursor: z.string().optional() });

const pagingQuery = {
  limit: z.coerce.number().int().min(1).max(500).optional(),
  cursor: z.string().max(300).optional(),
};
export const campaignListQuerySchema = z.object(pagingQuery).strict();
export const campaignItemsQuerySchema = z
  .object({
    eligible: z.enum(['true', 'false'], { error: 'must be true or false' }).optional(),
    outcome: z.enum(CAMPAIGN_ITEM_OUTCOMES).optional(),
    ...pagingQuery,
  })
  .strict();

export const campaignItemSchema = z
  .object({
    subscriptionId: z.string(),
    accountId: z.string(),
    quantity: z.number().int(),
    eligible: z.boolean(),
    reasons: z.array(z.object({ code: z.string(), message: z.string() })),
    currency: z.string().nullable(),
    credit: signedMinorUnits.nullable(),
    debit: signedMinorUnits.nullable(),
    seatReassignmentMode: z.enum(['automatic', 'manual']).nullable(),
    outcome: z.enum(CAMPAIGN_ITEM_OUTCOMES),
    outcomeReason: z.string().nullable(),
    upgradeId: z.string().nullable(),
    upgradeStatus: z
      .string()
      .nullable()
      .meta({ description: "the upgrade's status as it stands now (an upgrade at renewal: `completed` or `rejected` after the renewal day)" }),
    dueDate: z
      .string()
      .nullable()
      .meta({ description: "the UTC day its upgrade takes effect: the campaign's day, or the source's renewal day; null: when executed" }),
    renewal: z
      .object({
        termStart: z.string(),
        termEnd: z.string(),
        unitPrice: signedMinorUnits.meta({ description: "the target's price for the account on the renewal day, per seat per charge cycle, before tax" }),
        firstCycleCharge: signedMinorUnits.meta({ description: 'unitPrice × quantity, before tax' }),
        turnsAutoRenewOn: z.boolean(),
      })
      .nullable()
      .meta({ description: 'at renewal: the next term as the at-renewal quote prices it; null otherwise' }),
    seatReassignmentPending: z.boolean().meta({ description: 'upgraded and invoiced; the licences still wait for a manual reassignment' }),
  })
  .meta({ id: 'CampaignItem' });
export const campaignItemsSchema = z.object({ items: z.array(campaignItemSchema), nextCursor: z.string().optional() });

export const campaignProgressSchema = z.object({
  campaignId: z.string(),
  status: z.enum(CAMPAIGN_STATUSES),
  counts: campaignCountsSchema,
});
export const campaignExecutedSchema = z.object({ campaignId: z.string(), status: z.enum(CAMPAIGN_STATUSES) });
