import type { Command } from 'commander';
import type { Client } from '@temporalio/client';
import type { Database } from '../../db/connection';
import { createUpgradeUseCaseDeps } from '../../upgrades/deps';
import type { CliSettings } from '../context';
import { UsageError } from '../errors';
import { addScheduleOptions, scheduleOf, type ScheduleOptions } from '../schedule-options';
import type { UpgradeWhen } from '../../upgrades/schedule';
import {
  controlCampaignFromCli,
  createCampaignFromCli,
  executeCampaignFromCli,
  formatCounts,
  formatSummary,
  showCampaign,
  watchCampaign,
  whenText,
} from './campaign';

/** What the campaign commands need from the CLI's entry point (connections made on first use). */
export interface CampaignCommandContext {
  database(): Promise<Database>;
  temporal(): Promise<Client>;
  settings(): CliSettings;
  print(text: string): void;
  printJson(value: unknown): void;
}

/** `upgrades campaign …`: the sub-commands, parsed here; the work is in ./campaign.ts. */
export function registerCampaignCommands(program: Command, context: CampaignCommandContext): void {
  const { database, temporal, settings, print, printJson } = context;
  const campaign = program.command('campaign').description('upgrade campaigns: a dry run across many subscriptions, then a throttled, pausable run');
  const runDeps = async () => ({ models: (await database()).models, temporalClient: await temporal(), taskQueue: settings().useCases.TEMPORAL_TASK_QUEUE });
  const watchUntilEnd = async (campaignId: string) => {
    const { status, counts } = await watchCampaign((await database()).models, campaignId, { stream: process.stderr });
    print(formatCounts(status, counts));
  };

  const create = campaign
    .command('create')
    .description('plan a campaign (the dry run): every subscription of the source product, judged and quoted; nothing is started')
    .requiredOption('--name <name>', 'a name for people')
    .requiredOption('--source <productId>', 'the source catalog item id (product:sku:availability)')
    .requiredOption('--target <productId>', 'the target catalog item id')
    .option('--accounts <ids>', 'comma-separated account ids (default: every account)')
    .option('--json', 'print JSON instead of text');
  addScheduleOptions(create).action(async (options: { name: string; source: string; target: string; accounts?: string; json?: boolean } & ScheduleOptions) => {
    if (options.source === options.target) throw new UsageError('--target must differ from --source');
    const when = scheduleOf(options);
    const accountIds = options.accounts
      ?.split(',')
      .map((id) => id.trim())
      .filter((id) => id !== '');
    const useCases = createUpgradeUseCaseDeps({ models: (await database()).models, temporalClient: await temporal(), config: settings().useCases });
    const created = await createCampaignFromCli(useCases, {
      name: options.name,
      sourceProductId: options.source,
      targetProductId: options.target,
      destination: { type: 'new' },
      ...(accountIds && accountIds.length > 0 ? { accountIds } : {}),
      quantity: 'all',
      ...(when ? { when } : {}),
    });
    if (options.json) printJson(created);
    else print(`${formatSummary(created.campaignId, created.summary, when)}\nRun it with: upgrades campaign execute ${created.campaignId} --watch`);
  });

  campaign
    .command('show')
    .description("a campaign's status, dry-run summary and counts")
    .argument('<campaignId>')
    .option('--watch', 'follow it with a progress bar until it ends')
    .option('--json', 'print JSON instead of text')
    .action(async (campaignId: string, options: { watch?: boolean; json?: boolean }) => {
      if (options.watch) return watchUntilEnd(campaignId);
      const { campaign: stored, counts } = await showCampaign((await database()).models, campaignId);
      if (options.json) printJson({ campaignId, name: stored.name, status: stored.status, when: stored.when, summary: stored.summary, counts });
      else
        print(
          `${stored.name} (${stored.sourceProductId} → ${stored.targetProductId}${whenText((stored.when as UpgradeWhen | null) ?? undefined)})\n${formatCounts(stored.status, counts)}`,
        );
    });

  campaign
    .command('execute')
    .description("run it: each eligible item's upgrade is started at the partner's shared rate; idempotent")
    .argument('<campaignId>')
    .option('--watch', 'follow it with a progress bar until it ends')
    .action(async (campaignId: string, options: { watch?: boolean }) => {
      const result = await executeCampaignFromCli(await runDeps(), campaignId);
      print(`Campaign ${campaignId} ${result.status}.`);
      if (options.watch) await watchUntilEnd(campaignId);
    });

  for (const [control, description] of [
    ['pause', 'no new item is started; started upgrades go on'],
    ['resume', 'resume a paused campaign'],
    ['cancel', 'no further item is started, ever; started upgrades are followed to their end'],
  ] as const) {
    campaign
      .command(control)
      .description(description)
      .argument('<campaignId>')
      .option('--watch', 'follow it with a progress bar until it ends')
      .action(async (campaignId: string, options: { watch?: boolean }) => {
        const progress = await controlCampaignFromCli(await runDeps(), campaignId, control);
        print(formatCounts(progress.status, progress.counts));
        if (options.watch) await watchUntilEnd(campaignId);
      });
  }
}
