import { SingleBar } from 'cli-progress';
import type { Client } from '@temporalio/client';
import type { Models } from '../../db/models';
import { CampaignError } from '../../campaigns/errors';
import { controlCampaign, executeCampaign, type CampaignControl } from '../../campaigns/execution';
import { createCampaign, type CampaignActor, type CampaignRequest, type CampaignSummary } from '../../campaigns/plan';
import { readCampaign } from '../../campaigns/read';
import type { UpgradeUseCaseDeps } from '../../upgrades/deps';
import { UpgradeError } from '../../upgrades/errors';
import { campaignItemsDone, type CampaignCounts } from '../../../workflows/campaign-messages';
import type { UpgradeWhen } from '../../upgrades/schedule';
import { CliError } from '../errors';

/**
 * `upgrades campaign create|show|execute|pause|resume|cancel` (docs/campaigns.md): the same use cases as the
 * `/v1/campaigns` routes, as an operator. Campaigns the CLI creates start their upgrades as the key `cli-operator`
 * (the upgrade ids derive from it and the campaign, as a single start's do). `--watch` follows the counts with a
 * progress bar until the campaign ends.
 */
export const CLI_OPERATOR: CampaignActor = { keyId: 'cli-operator', accountIds: undefined, mayActOnAccount: () => true };

async function refusing<T>(what: string, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof CampaignError || error instanceof UpgradeError) throw new CliError(`${what} refused: ${error.code}: ${error.message}`);
    throw error;
  }
}

export function createCampaignFromCli(deps: UpgradeUseCaseDeps, request: CampaignRequest) {
  return refusing('campaign create', createCampaign(deps, CLI_OPERATOR, request));
}

export function showCampaign(models: Models, campaignId: string) {
  return refusing('campaign show', readCampaign(models, CLI_OPERATOR, campaignId));
}

export interface CampaignRunDeps {
  models: Models;
  temporalClient: Client;
  taskQueue: string;
}

export function executeCampaignFromCli(deps: CampaignRunDeps, campaignId: string) {
  return refusing('campaign execute', executeCampaign({ ...deps, clock: () => new Date(), updateTimeoutMs: 10_000 }, CLI_OPERATOR, campaignId));
}

export function controlCampaignFromCli(deps: CampaignRunDeps, campaignId: string, control: CampaignControl) {
  return refusing(`campaign ${control}`, controlCampaign({ ...deps, clock: () => new Date(), updateTimeoutMs: 10_000 }, CLI_OPERATOR, campaignId, control));
}

export const whenText = (when: UpgradeWhen | undefined): string =>
  when?.type === 'on_date' ? `, on ${when.date}` : when?.type === 'at_renewal' ? ", each at its source's renewal" : '';

export function formatSummary(campaignId: string, summary: CampaignSummary, when?: UpgradeWhen): string {
  const reasons = Object.entries(summary.byReason)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([code, n]) => `    ${code}: ${n}`);
  const totals = summary.totals.map(
    (total) =>
      `    ${total.currency}: credit ${total.credit}, debit ${total.debit} (minor units, tax included)` +
      (total.renewalFirstCycleCharge === undefined ? '' : `; renewed terms' first cycle ${total.renewalFirstCycleCharge} (before tax)`),
  );
  return [
    `Campaign ${campaignId}${whenText(when)}: ${summary.eligible} of ${summary.total} subscriptions eligible, ${summary.ineligible} not`,
    ...(reasons.length > 0 ? ['  not eligible, by reason:', ...reasons] : []),
    ...(totals.length > 0 ? ['  totals:', ...totals] : []),
  ].join('\n');
}

export function formatCounts(status: string, counts: CampaignCounts): string {
  const scheduled = counts.scheduled > 0 ? `${counts.scheduled} scheduled at renewal, ` : '';
  return `${status}: ${scheduled}${counts.completed} completed, ${counts.failed} failed, ${counts.skipped} skipped, ${counts.running} running, ${counts.pending} pending of ${counts.total}`;
}

const ENDED = new Set(['completed', 'cancelled']);

/**
 * Follows the campaign until it ends, drawing its progress (done: `campaignItemsDone`) with cli-progress
 * on `stream`; returns the last status and counts.
 */
export async function watchCampaign(
  models: Models,
  campaignId: string,
  options: { stream: NodeJS.WritableStream; intervalMs?: number; timeoutMs?: number },
): Promise<{ status: string; counts: CampaignCounts }> {
  const bar = new SingleBar({
    format: 'campaign {campaignId} |{bar}| {value}/{total} done · {running} running · {scheduled} scheduled · {failed} failed · {skipped} skipped · {status}',
    stream: options.stream,
    noTTYOutput: true,
    notTTYSchedule: 2_000,
    hideCursor: true,
  });
  const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
  let { campaign, counts } = await showCampaign(models, campaignId);
  const payload = () => ({
    campaignId,
    running: counts.running,
    scheduled: counts.scheduled,
    failed: counts.failed,
    skipped: counts.skipped,
    status: campaign.status,
  });
  bar.start(counts.total, campaignItemsDone(counts), payload());
  try {
    while (!ENDED.has(campaign.status) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 1_000));
      ({ campaign, counts } = await showCampaign(models, campaignId));
      bar.update(campaignItemsDone(counts), payload());
    }
  } finally {
    bar.stop();
  }
  return { status: campaign.status, counts };
}
