import { z } from 'zod';

/** Operations: health. */

export const healthSchema = z.object({
  status: z.enum(['ok', 'degraded']),
  checks: z
    .object({
      temporal: z.object({ ok: z.boolean(), latencyMs: z.number(), error: z.string().optional() }),
      database: z.object({ ok: z.boolean(), latencyMs: z.number(), error: z.string().optional() }),
    })
    .optional()
    .meta({ description: 'only for the operator key: each check, its latency and the driver error' }),
});

export const livenessSchema = z.object({ status: z.literal('ok') });
