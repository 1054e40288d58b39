import { Client, Connection, ScheduleAlreadyRunning, ScheduleOverlapPolicy } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Config } from '../config';
import type { TemporalTarget } from './connection-options';
import { WEBHOOK_REDELIVERY_WORKFLOW_TYPE } from '../../workflows/webhook-redelivery-workflow';
import { UPGRADE_SWEEPER_WORKFLOW_TYPE } from '../../workflows/upgrade-sweeper-workflow';

/**
 * Temporal Schedules that keep the system healthy without anyone watching: each starts a short workflow on the
 * upgrade task queue at a fixed interval. They are registered at worker start (the worker process and every system
 * with an in-process worker), idempotently: an existing schedule is updated to this configuration (the last worker
 * started wins), never duplicated. A run still going when the next is due makes that one skip (overlap SKIP), and a
 * schedule that missed runs while the cluster was down does not run them all at once (catch-up window one interval).
 */
export interface MaintenanceSchedule {
  /** `<name>:<task queue>`: several deployments (or test files) on one namespace keep their own. */
  scheduleId: string;
  workflowType: string;
  everyMs: number;
  args: unknown[];
  note: string;
}

export const scheduleIdFor = (name: string, taskQueue: string): string => `${name}:${taskQueue}`;

export function maintenanceSchedules(
  config: Pick<Config, 'TEMPORAL_TASK_QUEUE' | 'WEBHOOK_REDELIVERY_INTERVAL_MINUTES' | 'UPGRADE_SWEEPER_INTERVAL_MINUTES'>,
): MaintenanceSchedule[] {
  return [
    {
      scheduleId: scheduleIdFor('upgrade-sweeper', config.TEMPORAL_TASK_QUEUE),
      workflowType: UPGRADE_SWEEPER_WORKFLOW_TYPE,
      everyMs: config.UPGRADE_SWEEPER_INTERVAL_MINUTES * 60_000,
      args: [],
      note: 'Starts upgrades left accepted without a run and releases orphan locks (UPGRADE_SWEEPER_*); docs/runbook.md',
    },
    {
      scheduleId: scheduleIdFor('webhook-redelivery', config.TEMPORAL_TASK_QUEUE),
      workflowType: WEBHOOK_REDELIVERY_WORKFLOW_TYPE,
      everyMs: config.WEBHOOK_REDELIVERY_INTERVAL_MINUTES * 60_000,
      args: [{}],
      note: 'Redelivers undeliverable webhooks with backoff (WEBHOOK_REDELIVERY_INTERVAL_MINUTES, WEBHOOK_REDELIVERY_DAYS); docs/runbook.md',
    },
  ];
}

export async function ensureMaintenanceSchedules(client: Client, taskQueue: string, schedules: readonly MaintenanceSchedule[], logger: Logger): Promise<void> {
  for (const schedule of schedules) {
    const spec = { intervals: [{ every: schedule.everyMs }] };
    const action = {
      type: 'startWorkflow' as const,
      workflowType: schedule.workflowType,
      taskQueue,
      args: schedule.args,
      // The server appends the run's time, so each run has its own id and the schedule id finds them all.
      workflowId: schedule.scheduleId,
      workflowExecutionTimeout: schedule.everyMs * 4,
    };
    const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: Math.max(schedule.everyMs, 60_000) };
    try {
      await client.schedule.create({ scheduleId: schedule.scheduleId, spec, action, policies, state: { note: schedule.note } });
      logger.info({ scheduleId: schedule.scheduleId, everyMs: schedule.everyMs }, 'schedule created');
    } catch (error) {
      if (!(error instanceof ScheduleAlreadyRunning)) throw error;
      await client.schedule.getHandle(schedule.scheduleId).update((previous) => ({ ...previous, spec, action, policies }));
      logger.debug({ scheduleId: schedule.scheduleId }, 'schedule updated');
    }
  }
}

/**
 * The worker process's registration: its own short-lived client. A cluster that refuses (a missing permission) is
 * reported, not fatal: the upgrades run without it, and the operator creates the schedules or fixes the permission.
 */
export async function registerMaintenanceSchedules(target: TemporalTarget, config: Parameters<typeof maintenanceSchedules>[0], logger: Logger): Promise<void> {
  const connection = await Connection.connect(target.connectionOptions);
  try {
    await ensureMaintenanceSchedules(new Client({ connection, namespace: target.namespace }), config.TEMPORAL_TASK_QUEUE, maintenanceSchedules(config), logger);
  } catch (error) {
    logger.warn({ err: error }, 'could not register the maintenance schedules (upgrade sweeper, webhook redelivery); create them or fix the permission');
  } finally {
    await connection.close();
  }
}
