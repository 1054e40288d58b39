import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/client';
import type { NotificationDocument } from '../../db/models';
import { WEBHOOK_REDELIVERY_WORKFLOW_TYPE, type ManualRedeliveryOutcome, type WebhookRedeliveryInput } from '../../../workflows/webhook-redelivery-workflow';
import type { Caller } from '../auth';
import type { ResolvedDeps } from '../deps';
import { ApiError } from '../errors';
import { listPage } from '../listing';
import { defineRoute, type AnyRoute } from '../routing';
import { idParamsSchema, emptyQuerySchema } from '../schemas/common';
import { webhookDeliveryListQuerySchema, webhookDeliveryListSchema, webhookRedeliverySchema, type DeliveryStatus } from '../schemas/webhooks';
import { ensureVisible } from '../views';

type LeanDelivery = NotificationDocument & { _id: string; createdAt?: Date };

/** The outbox's status names → the API's (`undeliverable` is `failed` to a portal). */
const OUTBOX_STATUS_OF: Record<DeliveryStatus, string> = { pending: 'pending', delivered: 'delivered', failed: 'undeliverable', no_webhook: 'no_webhook' };
const API_STATUS_OF: Record<string, DeliveryStatus> = Object.fromEntries(
  Object.entries(OUTBOX_STATUS_OF).map(([api, outbox]) => [outbox, api as DeliveryStatus]),
);

const iso = (date: Date | null | undefined) => (date ? date.toISOString() : null);

export function deliveryView(doc: LeanDelivery) {
  return {
    id: doc._id,
    event: doc.event,
    upgradeId: doc.upgradeId,
    accountId: doc.accountId,
    status: API_STATUS_OF[doc.status] ?? 'pending',
    webhookUrl: doc.webhookUrl ?? null,
    attempts: doc.attempts ?? 0,
    lastError: doc.lastError ?? null,
    ...(doc.createdAt ? { createdAt: doc.createdAt.toISOString() } : {}),
    deliveredAt: iso(doc.deliveredAt),
    failedAt: iso(doc.failedAt),
    redelivery: { attempts: doc.redeliveryAttempts ?? 0, nextAttemptAt: iso(doc.nextRedeliveryAt), endedAt: iso(doc.redeliveryEndedAt) },
    payload: doc.payload,
  };
}

/** How long a redeliver request waits for its one POST (10 s at most) before answering `running`. */
const REDELIVERY_WAIT_MS = 30_000;

export function webhookRoutes(deps: ResolvedDeps): AnyRoute[] {
  const { models } = deps;
  const loadVisible = async (caller: Caller, id: string) =>
    ensureVisible(caller, (await models.notifications.findById(id).lean()) as LeanDelivery | null, `Webhook delivery ${id}`);

  return [
    defineRoute({
      method: 'get',
      path: '/v1/webhooks/deliveries',
      operationId: 'listWebhookDeliveries',
      tag: 'Webhooks',
      summary: 'Webhook deliveries (the outbox), by status and account',
      description:
        '`status=failed`: deliveries the upgrade run gave up on; the redelivery schedule retries them with backoff for `WEBHOOK_REDELIVERY_DAYS` (`redelivery` says when next), then only `POST …/redeliver` does. Operator keys see every account, reseller keys theirs; by id, paged with `cursor`.',
      access: 'partner',
      query: webhookDeliveryListQuerySchema,
      responses: { 200: { description: 'Deliveries, by id', schema: webhookDeliveryListSchema } },
      errors: [404],
      async handler({ query, caller }) {
        const { page, nextCursor } = await listPage(
          models,
          models.notifications,
          caller,
          query,
          query.status ? { status: OUTBOX_STATUS_OF[query.status] } : {},
        );
        return { status: 200, body: { deliveries: (page as LeanDelivery[]).map(deliveryView), ...(nextCursor ? { nextCursor } : {}) } };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/webhooks/deliveries/:id/redeliver',
      operationId: 'redeliverWebhook',
      tag: 'Webhooks',
      summary: "Deliver a failed webhook again, now, to the account's current URL",
      description:
        "Only a `failed` delivery (409 `DELIVERY_NOT_FAILED` otherwise: a `pending` one is still retried by its run). One signed POST with the same `webhook-id`, by the worker; the answer says whether it was delivered. Concurrent requests for one delivery share one attempt. The schedule's backoff is left as it was.",
      access: 'partner',
      params: idParamsSchema,
      query: emptyQuerySchema,
      responses: { 200: { description: 'Tried: `outcome` and the delivery as it stands', schema: webhookRedeliverySchema } },
      errors: [404, 409, 503],
      async handler({ params, caller }) {
        const entry = await loadVisible(caller, params.id);
        if (entry.status !== 'undeliverable') {
          throw new ApiError(
            409,
            'DELIVERY_NOT_FAILED',
            `Webhook delivery ${params.id} is ${API_STATUS_OF[entry.status] ?? entry.status}; only a failed delivery is redelivered`,
          );
        }
        const input: WebhookRedeliveryInput = { deliveryId: params.id };
        let outcome: ManualRedeliveryOutcome | 'running';
        try {
          const handle = await deps.temporalClient.workflow.start(WEBHOOK_REDELIVERY_WORKFLOW_TYPE, {
            taskQueue: deps.config.TEMPORAL_TASK_QUEUE,
            workflowId: `webhook-redeliver:${params.id}`,
            args: [input],
            // A second request while one runs joins it; a later one starts afresh.
            workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
            workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
            staticSummary: `Redeliver webhook ${params.id}`,
          });
          let timer: NodeJS.Timeout | undefined;
          const waited = new Promise<'running'>((resolve) => (timer = setTimeout(() => resolve('running'), REDELIVERY_WAIT_MS)));
          const result = (await Promise.race([handle.result(), waited]).finally(() => clearTimeout(timer))) as { outcome: ManualRedeliveryOutcome } | 'running';
          outcome = result === 'running' ? 'running' : result.outcome;
        } catch (error) {
          deps.logger.error({ err: error, deliveryId: params.id }, 'webhook redelivery could not be run');
          throw new ApiError(503, 'TEMPORAL_UNAVAILABLE', 'The redelivery could not be run; try again');
        }
        if (outcome === 'not_found' || outcome === 'not_failed') {
          throw new ApiError(409, 'DELIVERY_NOT_FAILED', `Webhook delivery ${params.id} was delivered or changed meanwhile`);
        }
        return { status: 200, body: { outcome, delivery: deliveryView(await loadVisible(caller, params.id)) } };
      },
    }),
  ];
}
