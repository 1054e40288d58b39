import type { ActivityInboundCallsInterceptor, ActivityExecuteInput, Next } from '@temporalio/worker';
import type { Context as ActivityContext } from '@temporalio/activity';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Models } from '../db/models';
import { outboundCallMetrics, type OutboundCallMetrics } from './observed-fetch';

/**
 * The worker's own Prometheus series, served beside the Temporal SDK's on the worker's HTTP port (worker-http.ts):
 * outbound calls (Partner Center, Graph) with latency and 429s, webhook deliveries, activity outcomes, and the manual
 * seat reassignments and the upgrades in needs_attention waiting for someone (read from the database at scrape time, so every worker reports the same
 * number and a restart loses nothing). Upgrades by kind and outcome are counted by the workflow through the SDK's
 * metric meter (workflows/upgrade-workflow.ts), so they are exported once, not once per replay.
 */
export interface WorkerMetrics {
  registry: Registry;
  outbound: OutboundCallMetrics;
  activityOutcomes: Counter<'activity' | 'outcome'>;
  webhookDeliveries: Counter<'event' | 'outcome'>;
}

export function createWorkerMetrics(models?: Pick<Models, 'upgrades'>): WorkerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'nce_worker_' });
  if (models) {
    new Gauge({
      name: 'nce_manual_seat_reassignments_pending',
      help: 'Upgrades waiting for someone to confirm a manual seat reassignment',
      registers: [registry],
      async collect() {
        this.set(await models.upgrades.countDocuments({ status: 'awaiting_manual_seat_reassignment' }));
      },
    });
    new Gauge({
      name: 'nce_upgrades_needing_attention',
      help: 'Upgrades waiting in needs_attention for an operator to say whether Microsoft converted (docs/runbook.md); alert when above 0',
      registers: [registry],
      async collect() {
        this.set(await models.upgrades.countDocuments({ status: 'needs_attention' }));
      },
    });
  }
  return {
    registry,
    outbound: outboundCallMetrics(registry),
    activityOutcomes: new Counter({
      name: 'nce_activity_executions_total',
      help: 'Activity executions on this worker by activity and outcome (completed, failed, cancelled)',
      labelNames: ['activity', 'outcome'],
      registers: [registry],
    }),
    webhookDeliveries: new Counter({
      name: 'nce_webhook_deliveries_total',
      help: 'Webhook delivery attempts by event and outcome (delivered, no_webhook, failed)',
      labelNames: ['event', 'outcome'],
      registers: [registry],
    }),
  };
}

const NOTIFICATION_ACTIVITY = 'sendUpgradeNotification';

/** Counts every activity's outcome, and webhook deliveries from the notification activity's argument and result. */
export class ActivityMetricsInterceptor implements ActivityInboundCallsInterceptor {
  constructor(
    private readonly ctx: ActivityContext,
    private readonly metrics: WorkerMetrics,
  ) {}

  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const activity = this.ctx.info.activityType;
    const event = activity === NOTIFICATION_ACTIVITY ? String(input.args[1]) : undefined;
    try {
      const result = await next(input);
      this.metrics.activityOutcomes.inc({ activity, outcome: 'completed' });
      if (event) this.metrics.webhookDeliveries.inc({ event, outcome: String(result) });
      return result;
    } catch (error) {
      const cancelled = this.ctx.cancellationSignal.aborted;
      this.metrics.activityOutcomes.inc({ activity, outcome: cancelled ? 'cancelled' : 'failed' });
      if (event) this.metrics.webhookDeliveries.inc({ event, outcome: 'failed' });
      throw error;
    }
  }
}
