import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineUpdate } from '@temporalio/workflow';

/**
 * The campaign workflow's contract with the outside (docs/campaigns.md): its input, its messages and its search
 * attributes. The API, the CLI and the worker's activities import these, so each name exists once.
 */
export const CAMPAIGN_WORKFLOW_TYPE = 'CampaignWorkflow';

/** The campaign's workflow id: one run per campaign at a time, whoever asks to execute it. */
export const campaignWorkflowIdOf = (campaignId: string): string => `campaign:${campaignId}`;

export interface CampaignCounts {
  total: number;
  pending: number;
  running: number;
  completed: number;
  failed: number;
  skipped: number;
}

/** `scheduled`: executed, waiting for the campaign's day (`startAt`) before its first start. */
export type CampaignRunStatus = 'scheduled' | 'running' | 'paused' | 'completed' | 'cancelled';

export interface CampaignWorkflowInput {
  campaignId: string;
  /** A scheduled campaign's day (ISO instant, 00:00 UTC): no item starts before it (pause and cancel work meanwhile). */
  startAt?: string;
  /** Carried over a continue-as-new: where the previous run left off. */
  carried?: { paused: boolean; cancelled: boolean; counts: CampaignCounts };
  /** How often started upgrades are checked for their end (default 5 s). */
  followIntervalMs?: number;
  /** Items started at once when the campaign's queue for Partner Center has room (default 10). */
  startsInParallel?: number;
  /** History length after which the run continues as new (default 2 000; the history recorder makes it short). */
  eventsBeforeContinueAsNew?: number;
}

export interface CampaignProgress {
  campaignId: string;
  status: CampaignRunStatus;
  counts: CampaignCounts;
}

/** An item's start: its upgrade is running, or it was skipped (locked by another upgrade, no longer eligible). */
export interface CampaignItemStart {
  outcome: 'running' | 'skipped';
  upgradeId?: string;
  reason?: string;
}

/** How many of the starts asked for may go now (the campaign's queue has room), or how long to wait before asking again. */
export interface StartSlotGrant {
  granted: number;
  retryAfterMs: number;
}

/** The campaign's activities as the workflow calls them (activities/campaigns.ts implements them). */
export interface CampaignActivities {
  nextPendingCampaignItems(campaignId: string, limit: number): Promise<string[]>;
  takeCampaignStartSlots(wanted: number, campaignId?: string): Promise<StartSlotGrant>;
  startCampaignItem(campaignId: string, itemId: string): Promise<CampaignItemStart>;
  refreshCampaignItems(campaignId: string): Promise<CampaignCounts>;
  countCampaign(campaignId: string): Promise<CampaignCounts>;
  recordCampaignStatus(campaignId: string, status: CampaignRunStatus): Promise<void>;
  notifyCampaignCompleted(campaignId: string, status: CampaignRunStatus): Promise<number>;
  /** After the delivery retries ran out: the pending entries become `undeliverable`, for the redelivery schedule. */
  markCampaignNotificationsUndeliverable(campaignId: string): Promise<void>;
}

/** Live status and counts; `GET /v1/campaigns/:id` reads the stored items, the Temporal UI and the CLI may ask this. */
export const getCampaignProgressQuery = defineQuery<CampaignProgress>('getCampaignProgress');

/**
 * Pause (no new item is started; started upgrades go on), resume, and cancel (no new item is started, ever; the
 * started ones are followed to their end). Updates, so the caller learns at once that the run took them.
 */
export const pauseCampaignUpdate = defineUpdate<CampaignProgress>('pauseCampaign');
export const resumeCampaignUpdate = defineUpdate<CampaignProgress>('resumeCampaign');
export const cancelCampaignUpdate = defineUpdate<CampaignProgress>('cancelCampaign');

/**
 * Operators' view in the Temporal UI, e.g. `CampaignStatus = "paused"`. Integers are few on a SQL visibility store
 * (three per namespace), so the counts are the three an operator watches: total, done (completed, failed or
 * skipped) and failed. Registered with the upgrade attributes (src/temporal/search-attribute-registration.ts).
 */
export const CAMPAIGN_STATUS = defineSearchAttributeKey('CampaignStatus', SearchAttributeType.KEYWORD);
export const CAMPAIGN_ITEMS_TOTAL = defineSearchAttributeKey('CampaignItemsTotal', SearchAttributeType.INT);
export const CAMPAIGN_ITEMS_DONE = defineSearchAttributeKey('CampaignItemsDone', SearchAttributeType.INT);
export const CAMPAIGN_ITEMS_FAILED = defineSearchAttributeKey('CampaignItemsFailed', SearchAttributeType.INT);

export const CAMPAIGN_SEARCH_ATTRIBUTES = [CAMPAIGN_STATUS, CAMPAIGN_ITEMS_TOTAL, CAMPAIGN_ITEMS_DONE, CAMPAIGN_ITEMS_FAILED] as const;
