import { stringify } from 'csv-stringify/sync';
import type { Model } from 'mongoose';
import { campaignModelsOf, type CampaignDocument, type CampaignItemDocument, type CampaignModels } from '../db/campaign-models';
import { findByIds } from '../db/find-by-ids';
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
  const [pending, running, scheduled, completed, failed, skipped] = await Promise.all(
    (['pending', 'running', 'scheduled', 'completed', 'failed', 'skipped'] as const).map((outcome) => campaignItems.countDocuments({ campaignId, outcome })),
  );
  return {
    total: pending! + running! + scheduled! + completed! + failed! + skipped!,
    pending: pending!,
    running: running!,
    scheduled: scheduled!,
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

/** An item's upgrade as it stands now: an upgrade at renewal ends months after its campaign did. */
export interface CurrentUpgrade {
  status: string;
  dueDate: string | null;
  error: { code?: string; details?: { reasons?: Array<{ code: string }> } } | null;
  /** At renewal: Microsoft holds its scheduled change (the step `written_to_microsoft`). */
  writtenAtMicrosoft: boolean;
}

/** Whether an upgrade at renewal's change is held by Microsoft: its step `written_to_microsoft` is recorded. */
export const changeWrittenAtMicrosoft = (upgrade: { steps?: unknown }): boolean =>
  Boolean((upgrade.steps as { written_to_microsoft?: unknown } | null | undefined)?.written_to_microsoft);

const CURRENT_UPGRADE_FIELDS = { status: 1, dueDate: 1, error: 1, 'steps.written_to_microsoft': 1 } as const;

function currentUpgradeOf(upgrade: { status: string; dueDate?: unknown; error?: unknown; steps?: unknown }): CurrentUpgrade {
  return {
    status: upgrade.status,
    dueDate: (upgrade.dueDate as string | null | undefined) ?? null,
    error: (upgrade.error as CurrentUpgrade['error'] | undefined) ?? null,
    writtenAtMicrosoft: changeWrittenAtMicrosoft(upgrade),
  };
}

/**
 * The current status and due date of the items' upgrades, by upgrade id (one exact `_id` lookup each: findByIds),
 * except those already in `known`.
 */
export async function currentUpgradesOf(
  models: Models,
  items: readonly Pick<StoredCampaignItem, 'upgradeId'>[],
  known: ReadonlyMap<string, CurrentUpgrade> = new Map(),
): Promise<Map<string, CurrentUpgrade>> {
  const current = new Map<string, CurrentUpgrade>();
  const unknown: string[] = [];
  for (const { upgradeId } of items) {
    if (!upgradeId) continue;
    const found = known.get(upgradeId);
    if (found) current.set(upgradeId, found);
    else unknown.push(upgradeId);
  }
  const { byId } = await findByIds(models.upgrades, unknown, CURRENT_UPGRADE_FIELDS);
  for (const [upgradeId, upgrade] of byId) current.set(upgradeId, currentUpgradeOf(upgrade));
  return current;
}

/**
 * Every upgrade the campaign started or scheduled, as it stands: one query on the upgrades' indexed `campaignId`
 * (upgrades started before they recorded their campaign are not in it; currentUpgradesOf reads those by id).
 */
export async function currentUpgradesOfCampaign(models: Models, campaignId: string): Promise<Map<string, CurrentUpgrade>> {
  const current = new Map<string, CurrentUpgrade>();
  for await (const upgrade of models.upgrades.find({ campaignId }, CURRENT_UPGRADE_FIELDS).lean().cursor()) {
    current.set(upgrade._id, currentUpgradeOf(upgrade));
  }
  return current;
}

export async function listCampaignItems(
  models: Models,
  actor: CampaignActor,
  campaignId: string,
  query: { eligible?: boolean; outcome?: string; cursor?: string; limit?: number },
): Promise<{ page: StoredCampaignItem[]; upgrades: Map<string, CurrentUpgrade>; nextCursor?: string }> {
  const { campaignItems } = await loadVisibleCampaign(models, actor, campaignId);
  const filter: Record<string, unknown> = { campaignId };
  if (query.eligible !== undefined) filter.eligible = query.eligible;
  if (query.outcome !== undefined) filter.outcome = query.outcome;
  const paged = await pageById<StoredCampaignItem>(campaignItems, filter, query);
  return { ...paged, upgrades: await currentUpgradesOf(models, paged.page.filter(mayStillChange)) };
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
  'dueDate',
  'upgradeStatus',
  'renewalUnitPrice',
  'renewalFirstCycleCharge',
] as const;

/** What the report says of an item's seats: `manual_pending` lists the reassignments still to be done by hand. */
function seatColumn(item: StoredCampaignItem): string {
  if (item.seatReassignmentPending) return 'manual_pending';
  return item.seatReassignmentMode ?? '';
}

/**
 * An item whose upgrade's status may differ from what the item recorded: one scheduled at renewal, running, failed
 * (an operator may retry it), or waiting for a manual seat reassignment. A completed upgrade stays completed, so a
 * report of a large campaign reads only the upgrades that may have moved (each read is one lookup by id).
 */
export const mayStillChange = (item: Pick<StoredCampaignItem, 'upgradeId' | 'outcome' | 'seatReassignmentPending'>): boolean =>
  Boolean(item.upgradeId) && !(item.outcome === 'completed' && !item.seatReassignmentPending);

/** The item's upgrade's status as it stands (read, or known final); null without an upgrade. */
export function itemUpgradeStatus(
  item: Pick<StoredCampaignItem, 'upgradeId' | 'outcome' | 'seatReassignmentPending'>,
  upgrades: ReadonlyMap<string, CurrentUpgrade>,
): string | null {
  if (!item.upgradeId) return null;
  return upgrades.get(item.upgradeId)?.status ?? (mayStillChange(item) ? null : 'completed');
}

/** The day an item's upgrade takes effect: its upgrade's (as scheduled), else the dry run's. */
export const itemDueDate = (item: Pick<StoredCampaignItem, 'dueDate' | 'upgradeId'>, upgrades: ReadonlyMap<string, CurrentUpgrade>): string | null =>
  (item.upgradeId ? upgrades.get(item.upgradeId)?.dueDate : undefined) ?? item.dueDate ?? null;

type RenewalPricing = { unitPrice: number; firstCycleCharge: number } | null | undefined;

function reportRow(item: StoredCampaignItem, upgrades: ReadonlyMap<string, CurrentUpgrade>): string[] {
  const renewal = item.renewal as RenewalPricing;
  return [
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
    itemDueDate(item, upgrades) ?? '',
    itemUpgradeStatus(item, upgrades) ?? '',
    renewal ? String(renewal.unitPrice) : '',
    renewal ? String(renewal.firstCycleCharge) : '',
  ];
}

/**
 * Whether an item of the campaign may have an upgrade that moved since its outcome (mayStillChange): one indexed
 * equality each (FerretDB answers `$in` by reading the whole collection).
 */
async function someItemMayStillChange(campaignItems: CampaignModels['campaignItems'], campaignId: string): Promise<boolean> {
  const found = await Promise.all([
    ...(['running', 'scheduled', 'failed'] as const).map((outcome) => campaignItems.exists({ campaignId, outcome })),
    campaignItems.exists({ campaignId, seatReassignmentPending: true }),
  ]);
  return found.some(Boolean);
}

/** Items whose upgrades are read together while the report is written. */
const REPORT_CHUNK = 200;

/**
 * Every item with its verdict and outcome, one CSV row each (RFC 4180, header first), in item order; each upgrade's
 * status is read as it stands at export (an upgrade at renewal is `completed` or `rejected` after the renewal day).
 */
export async function campaignReportCsv(models: Models, actor: CampaignActor, campaignId: string): Promise<string> {
  const { campaignItems } = await loadVisibleCampaign(models, actor, campaignId);
  // Read only when some item's upgrade may have moved: a campaign whose upgrades all completed reads none.
  const ofCampaign = (await someItemMayStillChange(campaignItems, campaignId)) ? await currentUpgradesOfCampaign(models, campaignId) : new Map();
  const rows: string[][] = [];
  let chunk: StoredCampaignItem[] = [];
  const flush = async () => {
    const upgrades = await currentUpgradesOf(models, chunk.filter(mayStillChange), ofCampaign);
    for (const item of chunk) rows.push(reportRow(item, upgrades));
    chunk = [];
  };
  // One query read through (FerretDB sorts in its own process and pages by `_id` would each read the campaign again).
  for await (const item of campaignItems.find({ campaignId }).sort({ _id: 1 }).lean().cursor() as AsyncIterable<StoredCampaignItem>) {
    chunk.push(item);
    if (chunk.length >= REPORT_CHUNK) await flush();
  }
  await flush();
  return stringify([[...CAMPAIGN_REPORT_COLUMNS], ...rows]);
}
