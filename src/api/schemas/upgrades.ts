import { z } from 'zod';
import { UPGRADE_STATUSES } from '../../../workflows/messages';
import { invoiceLineSchema } from './billing';
import { idSchema, isoDateSchema, productIdSchema, seatsSchema, signedMinorUnits, verdictSchema } from './common';

/** Upgrades: the request, quotes, upgrade options, the upgrade record and its listing. */

export const upgradeStatusSchema = z.enum(UPGRADE_STATUSES);

export const upgradeDestinationSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('new') }).strict(),
  z.object({ type: z.literal('existing'), subscriptionId: idSchema }).strict(),
]);
const upgradeRequestShape = {
  sourceSubscriptionId: idSchema,
  targetProductId: productIdSchema,
  quantity: seatsSchema,
  destination: upgradeDestinationSchema,
};
/** The upgrade as recorded: what moves where (when it runs is `when`, beside it). */
export const upgradeRequestSchema = z.object(upgradeRequestShape).strict().meta({ id: 'UpgradeRequest' });

/** When an upgrade runs: now (the default), or on a later day of the source's term (docs/scheduled-upgrades.md). */
export const upgradeWhenSchema = z
  .discriminatedUnion('type', [
    z.object({ type: z.literal('now') }).strict(),
    z
      .object({
        type: z.literal('on_date'),
        date: isoDateSchema.meta({
          description: "the UTC day it runs on, 00:00 UTC: after today and on or before the source's term end (422 INVALID_SCHEDULE otherwise)",
        }),
      })
      .strict(),
    z
      .object({ type: z.literal('at_renewal') })
      .strict()
      .meta({
        description:
          "at the source's renewal, through Microsoft's scheduled change: the source renews into the target (destination `new` only, `quantity` = the next term's seats), no proration",
      }),
  ])
  .meta({ id: 'UpgradeWhen' });

/** A start or a quote: the request, and when it runs. */
export const upgradeStartSchema = z
  .object({ ...upgradeRequestShape, when: upgradeWhenSchema.optional() })
  .strict()
  .meta({ id: 'UpgradeStart' });

export const idempotencyHeadersSchema = z.object({
  'idempotency-key': z
    .string({ error: 'the Idempotency-Key header is required' })
    .min(1, 'must be 1–200 characters')
    .max(200, 'must be 1–200 characters')
    .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces only'),
});

export const upgradeAcceptedSchema = z.object({
  upgradeId: z.string(),
  status: upgradeStatusSchema,
  dueDate: z.string().optional().meta({ description: 'a scheduled upgrade: the day it runs (status `scheduled`)' }),
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
/** The next term an upgrade at renewal renews the source into (no proration: the renewal bills it). */
export const renewalQuoteSchema = z
  .object({
    renewalDate: z.string().meta({ description: "00:00 UTC of this day the renewal starts (the day after the term's last day): the upgrade's dueDate" }),
    termStart: z.string(),
    termEnd: z.string(),
    term: z.string(),
    billingFrequency: z.string(),
    quantity: z.number().int(),
    currency: z.string(),
    unitPrice: z.number().int().meta({ description: "the target's price per seat per charge cycle on the renewal day, minor units, before tax" }),
    firstCycleCharge: z.number().int().meta({ description: 'unitPrice × quantity: the first charge cycle of the new term, before tax' }),
    promotionId: z.string().optional(),
    turnsAutoRenewOn: z
      .boolean()
      .meta({ description: 'auto-renew is off today: scheduling turns it on (the account is told by the `auto_renew_enabled` webhook)' }),
  })
  .meta({ id: 'RenewalQuote' });

const scheduledChangeSchema = z.object({ catalogItemId: z.string(), quantity: z.number().int(), termDuration: z.string(), billingCycle: z.string() });
const quoteWarningSchema = z.discriminatedUnion('code', [
  z.object({ code: z.literal('SCHEDULED_UPGRADE_PENDING'), message: z.string(), upgradeId: z.string(), dueDate: z.string() }),
  z.object({
    code: z.literal('MICROSOFT_SCHEDULED_CHANGE_DELETED'),
    message: z.string(),
    scheduledChange: scheduledChangeSchema,
    fate: z.enum(['reapplied', 'source_converted', 'replaced']),
  }),
  z.object({ code: z.literal('MICROSOFT_SCHEDULED_CHANGES_UNKNOWN'), message: z.string() }),
]);
export type QuoteWarning = z.infer<typeof quoteWarningSchema>;

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
    renewal: renewalQuoteSchema.optional().meta({ description: 'an upgrade at renewal: the next term (credit and debit are empty: nothing is prorated)' }),
    warnings: z.array(quoteWarningSchema).optional().meta({
      description:
        'an immediate upgrade of a source with an upgrade scheduled (re-checked on its day, may be rejected), or with a change scheduled for its renewal at Microsoft, which the conversion deletes (`fate`: written again on the source, not written again because the source converts in full, or replaced by this upgrade); `MICROSOFT_SCHEDULED_CHANGES_UNKNOWN` when Partner Center did not say',
    }),
  })
  .meta({ id: 'UpgradeQuote' });

export const upgradeOptionsQuerySchema = z
  .object({
    quantity: z.coerce.number().int().min(1).max(1_000_000).optional(),
    date: isoDateSchema
      .optional()
      .meta({ description: "verdicts and prices for an upgrade scheduled on this UTC day (after today, on or before the source's term end)" }),
    when: z.enum(['at_renewal']).optional().meta({
      description:
        "`at_renewal`: verdicts for an upgrade at the source's renewal (Microsoft's scheduled eligibilities, no existing destinations) with the next term's price in `pricePreview.renewal`",
    }),
  })
  .strict();
const pricePreviewSchema = z.object({
  credit: signedMinorUnits,
  debit: signedMinorUnits,
  quote: quoteBreakdownSchema,
  renewal: renewalQuoteSchema.optional().meta({ description: 'at renewal: the next term' }),
});
export const upgradeOptionsSchema = z.object({
  sourceSubscriptionId: z.string(),
  sourceProductId: z.string(),
  quantityRange: z
    .object({ min: z.number().int(), max: z.number().int(), maxPartial: z.number().int() })
    .nullable()
    .meta({ description: 'any n in [min, maxPartial], or exactly max (full); null when the source product is unknown' }),
  evaluatedQuantity: z.number().int(),
  scheduledUpgrade: z.object({ upgradeId: z.string(), dueDate: z.string() }).nullable().meta({
    description: 'the upgrade scheduled on this source, if one waits for its day (a second one is refused; an immediate one may make it rejected on its day)',
  }),
  scheduledChangeAtMicrosoft: z
    .object({
      read: z.enum(['read', 'unavailable', 'not_configured']),
      change: scheduledChangeSchema.nullable(),
    })
    .meta({
      description:
        "the change scheduled for this source's renewal at Microsoft, read from Partner Center (null: none); an immediate upgrade (now or on a date) makes Microsoft delete it — the quote says whether the upgrade writes it again. `unavailable` = Partner Center did not answer (not a sign that none exists); omitted for upgrades at renewal",
    })
    .optional(),
  microsoftVerdict: z.enum(['applied', 'unavailable', 'not_configured']).meta({
    description:
      "whether Microsoft's transition eligibilities are part of the verdicts: `unavailable` = Partner Center did not answer, the verdicts are ours alone (a start is refused with 503 until it answers)",
  }),
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

const planSummarySchema = z
  .object({ summary: z.string().optional(), quote: quoteBreakdownSchema.optional(), kind: z.string().optional(), upgradeDate: z.string().optional() })
  .passthrough();
export const upgradeRetrySchema = upgradeAcceptedSchema.extend({
  plan: z.object({
    replanned: z.boolean().meta({ description: 'true when Microsoft never converted and the plan was re-frozen on the retry date' }),
    reason: z.string().optional().meta({ description: 'why the frozen plan stays' }),
    previous: planSummarySchema.nullable().optional().meta({ description: 'the plan the retry replaced' }),
    current: planSummarySchema.nullable(),
  }),
});
const replanSchema = z.object({ at: z.string(), previous: planSummarySchema.nullable(), current: planSummarySchema });

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
    when: upgradeWhenSchema.optional().meta({ description: 'absent: it ran when started' }),
    dueDate: z.string().optional().meta({ description: 'a scheduled upgrade: the UTC day it runs (or was to run) on' }),
    renewal: renewalQuoteSchema.partial().optional().meta({ description: 'an upgrade at renewal: the next term it renews the source into' }),
    steps: z.array(stepRecordSchema),
    currentDetails: z.string().optional(),
    subscriptionsTouched: z.array(z.string()),
    invoices: z.array(z.object({ id: z.string(), type: z.enum(['credit', 'debit']), status: z.string(), currency: z.string(), total: signedMinorUnits })),
    seatReassignment: z.record(z.string(), z.unknown()).nullable().meta({ description: 'manual or automatic, why, and its progress' }),
    vendor: z.record(z.string(), z.unknown()).nullable().meta({ description: 'the Partner Center transition: request id, state, result' }),
    error: z.object({ code: z.string(), message: z.string() }).passthrough().nullable(),
    attention: z
      .object({ code: z.string(), message: z.string(), during: z.string(), since: z.string() })
      .passthrough()
      .nullable()
      .meta({ description: 'why the upgrade waits (or waited) in needs_attention for an operator, and the resolution once given' }),
    plan: z
      .object({ summary: z.string().optional(), quote: quoteBreakdownSchema.optional() })
      .passthrough()
      .nullable()
      .meta({ description: 'the frozen quote, once the workflow validated the upgrade' }),
    retries: z.number().int(),
    replans: z.array(replanSchema).meta({ description: 'plans replaced by retries before Microsoft converted, oldest first' }),
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
export const upgradeCancelledSchema = z.object({ upgradeId: z.string(), status: z.literal('cancelled') });
export const seatReassignmentConfirmSchema = z.object({ note: z.string().max(1_000).optional() }).strict();
const resolutionNoteSchema = z.string().max(1_000).optional().meta({ description: 'what the operator saw at Partner Center (kept on the upgrade)' });
export const uncertainOutcomeResolutionSchema = z
  .discriminatedUnion(
    'outcome',
    [
      z
        .object({
          outcome: z.literal('converted'),
          toSubscriptionId: idSchema.optional().meta({
            description: "Microsoft's id of the subscription that received the seats, when Microsoft created one (partial upgrade to a new subscription)",
          }),
          operationId: idSchema.optional().meta({ description: "the transition's operation id as Partner Center shows it" }),
          note: resolutionNoteSchema,
        })
        .strict(),
      z.object({ outcome: z.literal('not_converted'), note: resolutionNoteSchema }).strict(),
    ],
    { error: 'outcome must be "converted" or "not_converted"' },
  )
  .meta({ id: 'UncertainOutcomeResolution' });
export const uncertainOutcomeResolvedSchema = upgradeSchema.pick({ upgradeId: true, status: true, attention: true });
