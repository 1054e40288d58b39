import { OpenTelemetryActivityInboundInterceptor, makeWorkflowExporter } from '@temporalio/interceptors-opentelemetry';
import { Resource } from '@opentelemetry/resources';
import { NoopSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Client } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Logger } from 'pino';
import { createUpgradeActivities, type UpgradeActivityDeps } from '../activities';
import { createCampaignActivities } from '../activities/campaigns';
import { deliverOutboxEntry } from '../activities/webhook-delivery';
import { fetchReportingThrottling, transitionLimitFromConfig } from './partner-center/transition-limit';
import { createMicrosoftEligibilitySource } from './partner-center/microsoft-eligibility';
import { createScheduledUpgradeActivities } from '../activities/scheduled-upgrades';
import { systemClock } from './clock';
import type { Config } from './config';
import type { Database } from './db/connection';
import { policyByName } from './domain/eligibility-policies';
import { ActivityMetricsInterceptor, type WorkerMetrics } from './observability/worker-metrics';
import type { Tracing } from './observability/tracing';
import { createVendorClient, createGraphClientFromConfig } from './partner-center-factory';
import { workflowCodeSource } from './temporal/workflow-bundle';

/**
 * Builds the upgrade worker: the bundled workflows of `workflows/` and the activities wired to their dependencies.
 * Used by the worker process, `npm start` and the integration tests (which pass a prebuilt bundle to save time).
 */
export interface UpgradeWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: UpgradeActivityDeps;
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Defaults sized for the 2-core machines we run on; raise them on bigger workers. */
  maxConcurrentActivityTaskExecutions?: number;
  maxConcurrentWorkflowTaskExecutions?: number;
  /** How long a stopping worker lets running activities finish (default 10 s; the worker process uses its config). */
  shutdownGraceSeconds?: number;
  /** Our Prometheus series for activity outcomes and webhook deliveries (src/observability/worker-metrics.ts). */
  metrics?: WorkerMetrics;
  /** Traces through the workflow to the activities and their outbound calls (src/observability/tracing.ts). */
  tracing?: Tracing;
  /**
   * Worker Deployment versioning: with a build id (the git commit), the server routes each workflow to the build it
   * started on (pinned) until it ends, so a release never replays old runs on new code; README "Releases".
   */
  deployment?: { name: string; buildId: string };
  /** Items a campaign keeps started but not yet sent to Partner Center (CAMPAIGN_MAX_QUEUED_ITEMS, default 50). */
  campaignMaxQueuedItems?: number;
}

export const WORKFLOWS_PATH = require.resolve('../workflows');

export async function createUpgradeWorker(options: UpgradeWorkerOptions): Promise<Worker> {
  // A bundle given by the caller (tests) has no interceptor modules; ours are bundled in (src/temporal/workflow-bundle.ts).
  const source = options.workflowBundle ? { workflowBundle: options.workflowBundle } : workflowCodeSource();
  const workflowModules = 'workflowInterceptorModules' in source ? source.workflowInterceptorModules : [];
  const workflowCode = 'workflowBundle' in source ? { workflowBundle: source.workflowBundle } : { workflowsPath: source.workflowsPath };
  const { metrics, tracing } = options;
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    ...workflowCode,
    activities: {
      // Both workflows' activities; the scheduled one's webhook is the UpgradeWorkflow's notification activity.
      ...createUpgradeActivities(options.deps),
      ...createScheduledUpgradeActivities(options.deps),
      // A campaign starts its items through the start use case, as the API does, with the worker's own connection.
      ...createCampaignActivities({
        models: options.deps.models,
        temporalClient: new Client({ connection: options.connection, namespace: options.namespace }),
        taskQueue: options.taskQueue,
        policy: options.deps.policy,
        clock: options.deps.clock,
        logger: options.deps.logger,
        microsoftEligibility: createMicrosoftEligibilitySource(options.deps.vendor, 60_000),
        maxQueuedItems: options.campaignMaxQueuedItems ?? 50,
        deliverWebhook: (entry) => deliverOutboxEntry(options.deps, entry),
      }),
    },
    interceptors: {
      workflowModules,
      activity: [
        (ctx) => ({ inbound: new OpenTelemetryActivityInboundInterceptor(ctx) }),
        (ctx) => ({ inbound: metrics ? new ActivityMetricsInterceptor(ctx, metrics) : {} }),
      ],
    },
    // The workflow interceptors export their spans through this sink; a no-op processor when tracing is off.
    sinks: { exporter: makeWorkflowExporter(tracing?.spanProcessor ?? new NoopSpanProcessor(), tracing?.resource ?? Resource.default()) },
    ...(options.deployment
      ? {
          workerDeploymentOptions: {
            version: { deploymentName: options.deployment.name, buildId: options.deployment.buildId },
            useWorkerVersioning: true,
            defaultVersioningBehavior: 'PINNED' as const,
          },
        }
      : {}),
    maxConcurrentActivityTaskExecutions: options.maxConcurrentActivityTaskExecutions ?? 100,
    maxConcurrentWorkflowTaskExecutions: options.maxConcurrentWorkflowTaskExecutions ?? 40,
    // A graceful shutdown lets running activities finish their current write before the process exits.
    shutdownGraceTime: `${options.shutdownGraceSeconds ?? 10} seconds`,
  });
}

/** The activities' dependencies as the worker process builds them from its configuration (`fetchImpl`: an observed fetch). */
export function activityDepsFromConfig(
  config: Config,
  database: Database,
  vendorBaseUrl: string,
  logger: Logger,
  fetchImpl?: typeof fetch,
): UpgradeActivityDeps {
  const transitionLimit = transitionLimitFromConfig(config);
  return {
    models: database.models,
    // Every 429 from Partner Center holds back the tenant's transition POSTs, in every process.
    vendor: createVendorClient(config, vendorBaseUrl, logger, fetchReportingThrottling(database.models, transitionLimit.key, systemClock, fetchImpl ?? fetch)),
    transitionLimit,
    graph: createGraphClientFromConfig(config, vendorBaseUrl, logger),
    clock: systemClock,
    logger,
    policy: policyByName(config.ELIGIBILITY_POLICY),
    webhooks: {
      signingSecret: config.WEBHOOK_SIGNING_SECRET,
      secretsKey: config.WEBHOOK_SECRETS_KEY,
      timeoutMs: 10_000,
      destinations: { allowPrivateNetworks: config.WEBHOOK_ALLOW_PRIVATE_NETWORKS, requireHttps: config.NODE_ENV === 'production' },
      redelivery: { intervalMs: config.WEBHOOK_REDELIVERY_INTERVAL_MINUTES * 60_000, windowDays: config.WEBHOOK_REDELIVERY_DAYS },
    },
    sweeper: {
      graceMs: config.UPGRADE_SWEEPER_GRACE_MINUTES * 60_000,
      useCaseConfig: {
        ELIGIBILITY_POLICY: config.ELIGIBILITY_POLICY,
        SEAT_REMINDER_INTERVAL_HOURS: config.SEAT_REMINDER_INTERVAL_HOURS,
        SEAT_ESCALATION_DAYS: config.SEAT_ESCALATION_DAYS,
      },
    },
    vendorPolling: {
      initialIntervalMs: config.VENDOR_POLL_INITIAL_MS,
      maxIntervalMs: config.VENDOR_POLL_MAX_MS,
      settlingDelayMs: config.VENDOR_SETTLING_DELAY_MS,
    },
  };
}
