import { stringify } from 'csv-stringify/sync';
import type { Model } from 'mongoose';
import { campaignModelsOf, type CampaignDocument, type CampaignItemDocument, type CampaignModels } from '../db/campaign-models';
import type { Models } from '../db/models';
import type { CampaignCounts } from '../../workflows/campaign-messages';
import type { CampaignActor } from './plan';
import { CampaignError } from './errors';

/**
 * Reading campaigns: the campaign, its counts (queries on the items' indexed outcome), its items page by page and
 * its report. Outside the caller's scope a campaign is "not found".
 */
export type StoredCampaign = CampaignDocument & { _id: string };
export type StoredCampaignItem = CampaignItemDocument & { _id: string };

/** Operators see every campaign; a reseller key those whose every account is its own. */
export function mayActOnCampaign(actor: CampaignActor, campaign: Pick<StoredCampaign, 'scopeAccountIds'>): boolean {
  if (!actor.accountIds) return true;
  const scope = campaign.scopeAccountIds as string[] | null;
  return scope !== null && scope.every((accountId) => actor.mayActOnAccount(accountId));
}

export async function loadVisibleCampaign(models: Models, actor: CampaignActor, campaignId: string): Promise<{ campaign: StoredCampaign } & CampaignModels> {
  const campaignModels = await campaignModelsOf(models);
  const campaign = (await campaignModels.campaigns.findById(campaignId).lean()) as StoredCampaign | null;
  if (!campaign || !mayActOnCampaign(actor, campaign)) throw new CampaignError('NOT_FOUND', `Campaign ${campaignId} not found`);
  return { campaign, ...campaignModels };
}

/** Every item counted by outcome: the counts add up to the total by construction. */
export async function countCampaignItems(campaignItems: CampaignModels['campaignItems'], campaignId: string): Promise<CampaignCounts> {
  const [pending, running, completed, failed, skipped] = await Promise.all(
    (['pending', 'running', 'completed', 'failed', 'skipped'] as const).map((outcome) => campaignItems.countDocuments({ campaignId, outcome })),
  );
  return {
    total: pending! + running! + completed! + failed! + skipped!,
    pending: pending!,
    running: running!,
    completed: completed!,
    failed: failed!,
    skipped: skipped!,
  };
}

export async function readCampaign(models: Models, actor: CampaignActor, campaignId: string): Promise<{ campaign: StoredCampaign; counts: CampaignCounts }> {
  const { campaign, campaignItems } = await loadVisibleCampaign(models, actor, campaignId);
  return { campaign, counts: await countCampaignItems(campaignItems, campaignId) };
}

export async function listCampaigns(
  models: Models,
  actor: CampaignActor,
  query: { cursor?: string; limit?: number },
): Promise<{ page: StoredCampaign[]; nextCursor?: string }> {
  const { campaigns } = await campaignModelsOf(models);
  return pageById<StoredCampaign>(campaigns, actor.accountIds ? { requestedByKeyId: actor.keyId } : {}, query);
}

export async function listCampaignItems(
  models: Models,
  actor: CampaignActor,
  campaignId: string,
  query: { eligible?: boolean; outcome?: string; cursor?: string; limit?: number },
): Promise<{ page: StoredCampaignItem[]; nextCursor?: string }> {
  const { campaignItems } = await loadVisibleCampaign(models, actor, campaignId);
  const filter: Record<string, unknown> = { campaignId };
  if (query.eligible !== undefined) filter.eligible = query.eligible;
  if (query.outcome !== undefined) filter.outcome = query.outcome;
  return pageById<StoredCampaignItem>(campaignItems, filter, query);
}

/** One page of `filter` in `_id` order, after `cursor` (the list endpoints' cursor paging, as src/db/listing.ts). */
async function pageById<T extends { _id: string }>(
  collection: Model<any>,
  filter: Record<string, unknown>,
  query: { cursor?: string; limit?: number },
): Promise<{ page: T[]; nextCursor?: string }> {
  const limit = query.limit ?? 100;
  const docs = (await collection
    .find({ ...filter, ...(query.cursor ? { _id: { $gt: query.cursor } } : {}) })
    .sort({ _id: 1 })
    .limit(limit + 1)
    .lean()) as T[];
  const page = docs.slice(0, limit);
  return { page, ...(docs.length > limit ? { nextCursor: page[page.length - 1]!._id } : {}) };
}

export const CAMPAIGN_REPORT_COLUMNS = [
  'subscriptionId',
  'accountId',
  'quantity',
  'eligible',
  'reasons',
  'currency',
  'credit',
  'debit',
  'outcome',
  'outcomeReason',
  'upgradeId',
  'seatReassignment',
] as const;

/** What the report says of an item's seats: `manual_pending` lists the reassignments still to be done by hand. */
function seatColumn(item: StoredCampaignItem): string {
  if (item.seatReassignmentPending) return 'manual_pending';
  return item.seatReassignmentMode ?? '';
}

/** Every item with its verdict and outcome, one CSV row each (RFC 4180, header first), in item order. */
export async function campaignReportCsv(models: Models, actor: CampaignActor, campaignId: string): Promise<string> {
  const { campaignItems } = await loadVisibleCampaign(models, actor, campaignId);
  const rows: string[][] = [];
  // One query read through (FerretDB sorts in its own process and pages by `_id` would each read the campaign again).
  for await (const item of campaignItems.find({ campaignId }).sort({ _id: 1 }).lean().cursor() as AsyncIterable<StoredCampaignItem>) {
    rows.push([
      item.subscriptionId,
      item.accountId,
      String(item.quantity),
      String(item.eligible),
      (item.reasons as Array<{ code: string }>).map((reason) => reason.code).join(' '),
      item.currency ?? '',
      item.credit === null || item.credit === undefined ? '' : String(item.credit),
      item.debit === null || item.debit === undefined ? '' : String(item.debit),
      item.outcome,
      item.outcomeReason ?? '',
      item.upgradeId ?? '',
      seatColumn(item),
    ]);
  }
  return stringify([[...CAMPAIGN_REPORT_COLUMNS], ...rows]);
}
