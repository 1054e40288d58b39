import { z } from 'zod';
import { idSchema } from './common';

/** Webhook deliveries (the outbox) and their redelivery. */

/**
 * A delivery's status as portals see it: `failed` is the outbox's `undeliverable` (the run's retries gave up; the
 * redelivery schedule keeps trying until `redelivery.endedAt`).
 */
export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed', 'no_webhook'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export const webhookDeliverySchema = z
  .object({
    id: z.string().meta({ description: 'the `webhook-id` (and `X-NCE-Delivery`) header: `<upgradeId>:<event>[:<n>]`' }),
    event: z.string(),
    upgradeId: z.string(),
    accountId: z.string(),
    status: z.enum(DELIVERY_STATUSES),
    webhookUrl: z.string().nullable().meta({ description: "where it was last sent (a redelivery goes to the account's current URL)" }),
    attempts: z.number().int().meta({ description: "every POST tried, the run's and the redeliveries'" }),
    lastError: z.string().nullable(),
    createdAt: z.string().optional(),
    deliveredAt: z.string().nullable(),
    failedAt: z.string().nullable().meta({ description: "when the run's own retries gave up" }),
    redelivery: z.object({
      attempts: z.number().int().meta({ description: 'scheduled redeliveries tried' }),
      nextAttemptAt: z.string().nullable().meta({ description: 'when the schedule tries it next (null: at its next run, or never once ended)' }),
      endedAt: z
        .string()
        .nullable()
        .meta({ description: 'when the schedule stopped trying (WEBHOOK_REDELIVERY_DAYS passed); only a redeliver request tries it after' }),
    }),
    payload: z.unknown().meta({ description: 'the JSON body that is POSTed' }),
  })
  .meta({ id: 'WebhookDelivery' });

export const webhookDeliveryListQuerySchema = z
  .object({
    status: z.enum(DELIVERY_STATUSES).optional(),
    accountId: idSchema.optional(),
    limit: z.coerce.number().int().min(1).max(500).optional(),
    cursor: z.string().max(200).optional(),
  })
  .strict();
export const webhookDeliveryListSchema = z.object({ deliveries: z.array(webhookDeliverySchema), nextCursor: z.string().optional() });
export const webhookRedeliverySchema = z.object({
  outcome: z.enum(['delivered', 'failed', 'running']).meta({ description: '`running`: not finished within 30 s; read the delivery later' }),
  delivery: webhookDeliverySchema,
});
