import { proxyActivities } from '@temporalio/workflow';

/**
 * Webhook redelivery (activities/webhook-redelivery.ts): started by the `webhook-redelivery` Schedule without a
 * delivery id (every due undeliverable entry), or by `POST /v1/webhooks/deliveries/:id/redeliver` with one.
 */
export const WEBHOOK_REDELIVERY_WORKFLOW_TYPE = 'WebhookRedeliveryWorkflow';

export interface WebhookRedeliveryInput {
  /** One entry, now (a manual redelivery); absent = the schedule's run over every due entry. */
  deliveryId?: string;
}

export interface RedeliveryReport {
  tried: number;
  delivered: number;
  failed: number;
  /** Entries whose window ended with this failure (the schedule stops trying them). */
  ended: number;
}

export type ManualRedeliveryOutcome = 'delivered' | 'failed' | 'not_failed' | 'not_found';

export interface WebhookRedeliveryActivities {
  redeliverDueWebhooks(): Promise<RedeliveryReport>;
  redeliverWebhook(deliveryId: string): Promise<ManualRedeliveryOutcome>;
}

/** A batch can take minutes (a 10 s timeout per unreachable receiver); it heartbeats after each slice. */
const scheduled = proxyActivities<WebhookRedeliveryActivities>({
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumAttempts: 3 },
});
/** Someone waits for the answer: one POST (10 s at most), database errors retried briefly. */
const manual = proxyActivities<WebhookRedeliveryActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 3 },
});

export async function WebhookRedeliveryWorkflow(
  input: WebhookRedeliveryInput = {},
): Promise<RedeliveryReport | { deliveryId: string; outcome: ManualRedeliveryOutcome }> {
  if (input.deliveryId !== undefined) return { deliveryId: input.deliveryId, outcome: await manual.redeliverWebhook(input.deliveryId) };
  return scheduled.redeliverDueWebhooks();
}
