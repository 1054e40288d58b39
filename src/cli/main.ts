#!/usr/bin/env node
import { resolve } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import type { Client } from '@temporalio/client';
import type { Database } from '../db/connection';
import { exportHistory, fetchUpgradeHistory, readHistoryFile, upgradeIdOfHistory } from './commands/history';
import { formatUpgradeList, listUpgrades } from './commands/list';
import { formatReplayOutcome, quietReplayRuntime, replayHistory } from './commands/replay';
import { resolveUpgradeOutcome } from './commands/resolve';
import { retryFailedUpgrade } from './commands/retry';
import { registerCampaignCommands } from './commands/campaign-commands';
import { cancelUpgrade } from './commands/cancel';
import { formatUpgradeReport, showUpgrade } from './commands/show';
import { connectDb, connectTemporal, loadCliSettings } from './context';
import { CliError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError } from './errors';
import { UPGRADE_STATUSES } from '../../workflows/messages';
import { createUpgradeUseCaseDeps } from '../upgrades/deps';

/**
 * `npm run upgrades -- <command>` (or the `upgrades` bin): the engineers' and operators' tool for one upgrade at a
 * time. This file only parses arguments and prints; the work is in ./commands, which the tests call directly.
 * Exit codes: 0 done, 1 failed (or a replay found nondeterminism), 2 wrong usage.
 */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
}

const defaultIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
};

const ENVIRONMENT_HELP = `
Environment (same variables as the API and the worker):
  TEMPORAL_ADDRESS     Temporal front-end host:port (default localhost:7233)
  TEMPORAL_NAMESPACE   Temporal namespace (default "default")
  MONGODB_URI          the API's database (show, retry, cancel, resolve, campaign)
  MONGODB_DATABASE     database name (default nce_upgrades)
  TEMPORAL_TASK_QUEUE  the workers' task queue (retry, cancel; default nce-upgrades)

Exit codes: 0 ok, 1 failure (or nondeterminism found by replay), 2 usage error.`;

export async function runCli(argv: readonly string[], io: CliIo = defaultIo): Promise<number> {
  let exitCode = EXIT_OK;
  let client: Client | undefined;
  let db: Database | undefined;
  const settings = () => loadCliSettings(io.env);
  const temporal = async () => (client ??= await connectTemporal(settings()));
  const database = async () => (db ??= await connectDb(settings()));
  const print = (text: string) => io.stdout(`${text}\n`);
  const printJson = (value: unknown) => print(JSON.stringify(value, null, 2));

  const program = new Command()
    .name('upgrades')
    .description('Inspect, replay and retry NCE upgrades (Temporal workflows keyed by upgrade id).')
    .addHelpText('after', ENVIRONMENT_HELP)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });

  program
    .command('show')
    .description("an upgrade's state, timeline of steps, subscriptions touched, invoices and errors (record + live workflow)")
    .argument('<upgradeId>', 'upgrade id = workflow id, e.g. upg_…')
    .option('--json', 'print JSON instead of text')
    .action(async (upgradeId: string, options: { json?: boolean }) => {
      const report = await showUpgrade({ models: (await database()).models, client: await temporal(), upgradeId });
      if (options.json) printJson(report);
      else print(formatUpgradeReport(report));
    });

  program
    .command('replay')
    .description('replay a history against the current workflow code and explain any nondeterminism')
    .argument('[upgradeId]', 'fetch the history of this upgrade from Temporal')
    .option('--file <history.json>', 'replay a history file instead (export-history, the Web UI download, `temporal workflow show -o json`)')
    .option('--run-id <runId>', 'a specific run (default: the latest)')
    .option('--workflows <path>', "workflow code to replay against (default: this checkout's workflows/)")
    .option('--json', 'print JSON instead of text')
    .action(async (upgradeId: string | undefined, options: { file?: string; runId?: string; workflows?: string; json?: boolean }) => {
      if (Boolean(upgradeId) === Boolean(options.file)) throw new UsageError('give either an upgrade id or --file <history.json>, not both');
      quietReplayRuntime();
      const history = options.file ? await readHistoryFile(options.file) : await fetchUpgradeHistory(await temporal(), upgradeId!, options.runId);
      const workflowId = upgradeId ?? upgradeIdOfHistory(history) ?? 'replayed-history';
      const outcome = await replayHistory(history, workflowId, options.workflows ? { workflowsPath: resolve(options.workflows) } : {});
      if (options.json) printJson(outcome);
      else
        print(
          formatReplayOutcome(
            outcome,
            options.file ? `${options.file} (${workflowId})` : `upgrade ${workflowId}`,
            options.workflows ? `the workflow code in ${options.workflows}` : undefined,
          ),
        );
      if (!outcome.ok) exitCode = EXIT_FAILURE;
    });

  program
    .command('export-history')
    .description("save an upgrade's event history as JSON (for the replay suite or a bug report)")
    .argument('<upgradeId>')
    .option('--out <file>', 'write to this file (default: stdout)')
    .option('--run-id <runId>', 'a specific run (default: the latest)')
    .action(async (upgradeId: string, options: { out?: string; runId?: string }) => {
      const result = await exportHistory({
        client: await temporal(),
        upgradeId,
        ...(options.runId ? { runId: options.runId } : {}),
        ...(options.out ? { out: options.out } : {}),
      });
      if (options.out) io.stderr(`wrote ${result.eventCount} events of ${upgradeId} to ${options.out}\n`);
      else io.stdout(result.json);
    });

  program
    .command('retry')
    .description(
      're-run a failed upgrade (the use case behind POST /v1/upgrades/:id/retry): idempotent, never a second vendor transition or invoice; refused unless the upgrade failed',
    )
    .argument('<upgradeId>')
    .option('--json', 'print JSON instead of text')
    .action(async (upgradeId: string, options: { json?: boolean }) => {
      const useCases = createUpgradeUseCaseDeps({ models: (await database()).models, temporalClient: await temporal(), config: settings().useCases });
      const result = await retryFailedUpgrade(useCases, upgradeId);
      if (options.json) printJson(result);
      else print(`Retry of ${result.upgradeId} started (status ${result.status}). Follow it with: upgrades show ${result.upgradeId}`);
    });

  program
    .command('resolve')
    .description(
      'settle an upgrade in needs_attention after checking Partner Center (the use case behind POST /v1/upgrades/:id/resolve): --converted continues it (changes, invoices, seats), --not-converted ends it failed and releases its locks',
    )
    .argument('<upgradeId>')
    .option('--converted', 'Microsoft converted the subscription (seen in Partner Center)')
    .option('--not-converted', 'Microsoft did not convert it (no transition, or a failed one, in Partner Center)')
    .option('--to-subscription-id <id>', "with --converted: Microsoft's id of the subscription that received the seats, when it created one")
    .option('--operation-id <id>', "with --converted: the transition's operation id in Partner Center")
    .option('--note <text>', 'what you saw, kept on the upgrade')
    .option('--json', 'print JSON instead of text')
    .action(
      async (
        upgradeId: string,
        options: { converted?: boolean; notConverted?: boolean; toSubscriptionId?: string; operationId?: string; note?: string; json?: boolean },
      ) => {
        if (Boolean(options.converted) === Boolean(options.notConverted)) throw new UsageError('give exactly one of --converted and --not-converted');
        if (options.notConverted && (options.toSubscriptionId || options.operationId)) {
          throw new UsageError('--to-subscription-id and --operation-id go with --converted only');
        }
        const note = options.note ? { note: options.note } : {};
        const decision = options.converted
          ? {
              outcome: 'converted' as const,
              ...(options.toSubscriptionId ? { toSubscriptionId: options.toSubscriptionId } : {}),
              ...(options.operationId ? { operationId: options.operationId } : {}),
              ...note,
            }
          : { outcome: 'not_converted' as const, ...note };
        const useCases = createUpgradeUseCaseDeps({ models: (await database()).models, temporalClient: await temporal(), config: settings().useCases });
        const result = await resolveUpgradeOutcome(useCases, upgradeId, decision);
        if (options.json) printJson(result);
        else print(`${upgradeId} settled as ${decision.outcome}; the workflow continues from here. Follow it with: upgrades show ${upgradeId}`);
      },
    );

  program
    .command('cancel')
    .description('cancel a scheduled upgrade before its day (the use case behind POST /v1/upgrades/:id/cancel): leaves nothing behind')
    .argument('<upgradeId>')
    .option('--json', 'print JSON instead of text')
    .action(async (upgradeId: string, options: { json?: boolean }) => {
      const useCases = createUpgradeUseCaseDeps({ models: (await database()).models, temporalClient: await temporal(), config: settings().useCases });
      const result = await cancelUpgrade(useCases, upgradeId);
      if (options.json) printJson(result);
      else print(`Scheduled upgrade ${result.upgradeId} cancelled.`);
    });

  program
    .command('list')
    .description('upgrades that need attention, from the Temporal search attributes (latest run of each upgrade)')
    .addOption(new Option('--status <status>', 'UpgradeStatus').choices([...UPGRADE_STATUSES]))
    .option('--account <accountId>', 'UpgradeAccountId')
    .addOption(new Option('--kind <kind>', 'UpgradeKind').choices(['full', 'partial']))
    .option('--limit <n>', 'at most this many', (value) => {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1 || n > 1000) throw new UsageError(`--limit must be an integer from 1 to 1000, got "${value}"`);
      return n;
    })
    .option('--json', 'print JSON instead of text')
    .action(async (options: { status?: string; account?: string; kind?: string; limit?: number; json?: boolean }) => {
      const result = await listUpgrades(await temporal(), options);
      if (options.json) printJson(result);
      else print(formatUpgradeList(result));
    });

  registerCampaignCommands(program, { database, temporal, settings, print, printJson });

  try {
    if (argv.length === 0) {
      program.outputHelp();
      return EXIT_USAGE;
    }
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.help' || error.code === 'commander.version' ? EXIT_OK : EXIT_USAGE;
    }
    if (error instanceof CliError) {
      io.stderr(`upgrades: ${error.message}\n`);
      return error.exitCode;
    }
    io.stderr(`upgrades: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return EXIT_FAILURE;
  } finally {
    await db?.close().catch(() => undefined);
    await client?.connection.close().catch(() => undefined);
  }
}

if (require.main === module) {
  runCli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    () => process.exit(EXIT_FAILURE),
  );
}
