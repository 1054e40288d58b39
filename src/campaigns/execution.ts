import { WorkflowExecutionAlreadyStartedError, WorkflowIdConflictPolicy, WorkflowIdReusePolicy, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Models } from '../db/models';
import {
  CAMPAIGN_ITEMS_DONE,
  CAMPAIGN_ITEMS_FAILED,
  CAMPAIGN_ITEMS_TOTAL,
  CAMPAIGN_STATUS,
  CAMPAIGN_WORKFLOW_TYPE,
  campaignItemsDone,
  campaignWorkflowIdOf,
  cancelCampaignUpdate,
  pauseCampaignUpdate,
  resumeCampaignUpdate,
  type CampaignProgress,
  type CampaignWorkflowInput,
} from '../../workflows/campaign-messages';
import { dueInstantOf, type UpgradeWhen } from '../upgrades/schedule';
import { CampaignError } from './errors';
import type { CampaignActor } from './plan';
import { countCampaignItems, loadVisibleCampaign } from './read';

/**
 * The API's side of a campaign's run: `execute` starts its workflow (one per campaign: the workflow id is the
 * campaign's), pause, resume and cancel are updates the run answers once it took them.
 */
export interface CampaignExecutionDeps {
  models: Models;
  temporalClient: Client;
  taskQueue: string;
  clock: () => Date;
  /** How long pause, resume and cancel wait for the run's answer. */
  updateTimeoutMs: number;
  /** The workflow's tunables (tests shorten the follow interval). */
  workflowOptions?: Pick<CampaignWorkflowInput, 'followIntervalMs' | 'startsInParallel' | 'eventsBeforeContinueAsNew'>;
}

/**
 * Starts the campaign's run, or finds it running (USE_EXISTING): executing twice starts nothing twice. A run that
 * ended (an operator terminated it) may be started again (ALLOW_DUPLICATE): its items are keyed, so the new run
 * starts only those still pending and never upgrades a subscription twice.
 */
export async function executeCampaign(deps: CampaignExecutionDeps, actor: CampaignActor, campaignId: string): Promise<{ campaignId: string; status: string }> {
  const { campaign, campaigns, campaignItems } = await loadVisibleCampaign(deps.models, actor, campaignId);
  if (campaign.status === 'completed' || campaign.status === 'cancelled') {
    throw new CampaignError('CAMPAIGN_STATE_CONFLICT', `Campaign ${campaignId} is ${campaign.status}; it cannot be executed again`, {
      status: campaign.status,
    });
  }
  const counts = await countCampaignItems(campaignItems, campaignId);
  // A scheduled campaign's run waits for its day (00:00 UTC, as a single scheduled upgrade) before its first start.
  const when = campaign.when as UpgradeWhen | null;
  const startAt = when?.type === 'on_date' ? dueInstantOf(when.date) : undefined;
  const waitsForDay = startAt !== undefined && startAt.getTime() > deps.clock().getTime();
  const input: CampaignWorkflowInput = { campaignId, ...(startAt ? { startAt: startAt.toISOString() } : {}), ...deps.workflowOptions };
  try {
    await deps.temporalClient.workflow.start(CAMPAIGN_WORKFLOW_TYPE, {
      taskQueue: deps.taskQueue,
      workflowId: campaignWorkflowIdOf(campaignId),
      args: [input],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      typedSearchAttributes: [
        { key: CAMPAIGN_STATUS, value: waitsForDay ? 'scheduled' : 'running' },
        { key: CAMPAIGN_ITEMS_TOTAL, value: counts.total },
        { key: CAMPAIGN_ITEMS_DONE, value: campaignItemsDone(counts) },
        { key: CAMPAIGN_ITEMS_FAILED, value: counts.failed },
      ],
      staticSummary: `Campaign “${campaign.name}”: ${campaign.sourceProductId} → ${campaign.targetProductId}, ${campaign.summary.eligible as number} of ${counts.total} eligible`,
    });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) {
      throw new CampaignError('TEMPORAL_UNAVAILABLE', `The campaign's run could not be started (${(error as Error).message}); try again`);
    }
  }
  if (campaign.status === 'planned') {
    const status = waitsForDay ? 'scheduled' : 'running';
    await campaigns.updateOne({ _id: campaignId, status: 'planned' }, { $set: { status, executedAt: deps.clock() } });
    return { campaignId, status };
  }
  return { campaignId, status: campaign.status };
}

const CONTROL_UPDATES = { pause: pauseCampaignUpdate, resume: resumeCampaignUpdate, cancel: cancelCampaignUpdate } as const;
export type CampaignControl = keyof typeof CONTROL_UPDATES;

/** Pause, resume or cancel the campaign's run; 409 when it has no run (planned, or ended). */
export async function controlCampaign(
  deps: CampaignExecutionDeps,
  actor: CampaignActor,
  campaignId: string,
  control: CampaignControl,
): Promise<CampaignProgress> {
  const { campaign } = await loadVisibleCampaign(deps.models, actor, campaignId);
  if (campaign.status === 'planned' || campaign.status === 'completed' || campaign.status === 'cancelled') {
    throw new CampaignError(
      'CAMPAIGN_STATE_CONFLICT',
      `Campaign ${campaignId} is ${campaign.status}: only a running or paused campaign can be paused, resumed or cancelled`,
      {
        status: campaign.status,
      },
    );
  }
  const handle = deps.temporalClient.workflow.getHandle(campaignWorkflowIdOf(campaignId));
  try {
    return await deps.temporalClient.withDeadline(Date.now() + deps.updateTimeoutMs, () => handle.executeUpdate(CONTROL_UPDATES[control]));
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) {
      throw new CampaignError('CAMPAIGN_STATE_CONFLICT', `Campaign ${campaignId} has no running run; execute it first`, { status: campaign.status });
    }
    throw new CampaignError('TEMPORAL_UNAVAILABLE', `The campaign's run did not answer (${(error as Error).message}); try again`);
  }
}
