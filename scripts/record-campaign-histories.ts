/**
 * Records the replay suite's CampaignWorkflow histories (test/replay/histories/campaign/*.json) from a real run: a
 * small campaign driven through the HTTP API against a real Temporal dev server, FerretDB and the in-process Partner
 * Center simulator — a throttle wait, an item locked by another upgrade, a pause and a resume, and a continue-as-new
 * (the run is told to continue after a short history), so both the first run and a carried-over one are kept — and a
 * campaign scheduled for tomorrow, cancelled while it waits for its day — and the pause race (a pause taken while the
 * run asks for room to start items; scripts/support/campaign-pause-race.ts).
 *
 *   npx tsx scripts/record-campaign-histories.ts
 *
 * Uses TEMPORAL_ADDRESS / MONGODB_URI when set (a throwaway database), else starts its own. Keep the files of every
 * released shape: re-recording adds new ones next to them.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Worker } from '@temporalio/worker';
import { pauseRaceStubs, playPauseRace } from './support/campaign-pause-race';
import { startRecordingServices } from './support/recording-services';
import { lockSubscriptions } from '../src/db/subscription-locks';
import { addDays, utcDateOf } from '../src/domain/dates';
import { projectRoot } from '../src/local-services/tools';
import { assembleSystem } from '../src/system';
import { WORKFLOWS_PATH } from '../src/worker-factory';
import { campaignWorkflowIdOf } from '../workflows/campaign-messages';
import { campaignApi, campaignRequest, campaignWorld, untilCampaign } from './support/campaign-driver';

export const CAMPAIGN_HISTORIES_DIR = join(projectRoot, 'test', 'replay', 'histories', 'campaign');
const OPERATOR_KEY = `record-operator-${randomBytes(12).toString('hex')}`;

async function main(): Promise<void> {
  const say = (message: string) => process.stdout.write(`[record] ${message}\n`);
  const { services, config } = await startRecordingServices('record-campaign', OPERATOR_KEY, say, {
    VENDOR_TRANSITIONS_PER_INTERVAL: '2',
    VENDOR_TRANSITIONS_INTERVAL_SECONDS: '1',
  });
  const cleanups: Array<() => Promise<unknown>> = [() => services.stop()];
  try {
    const workflowBundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') });
    const assembled = await assembleSystem({
      config: { ...config, PORT: 0 },
      simulator: { faults: { completionDelayMs: 200, licenseReassignmentDelayMs: 100 } },
      worker: { workflowBundle },
      api: { campaignWorkflowOptions: { followIntervalMs: 300, startsInParallel: 2, eventsBeforeContinueAsNew: 40 } },
      dropDatabaseOnClose: true,
    });
    cleanups.unshift(() => assembled.close());
    const driver = campaignApi(assembled.api!.url, OPERATOR_KEY);
    const api = driver.ok;
    const suffix = randomBytes(3).toString('hex');
    const { accounts, subscriptions } = campaignWorld({
      prefix: `rec-cmp-${suffix}`,
      accounts: 2,
      perAccount: () => 3,
      overrides: (a, s) => (a === 1 && s === 2 ? { isTrial: true } : undefined),
    });
    await assembled.seed({ accounts, subscriptions });
    const accountIds = accounts.map((account) => account.id);
    const created = await api('POST', '/v1/campaigns', campaignRequest('Recorded campaign', accountIds));
    const campaignId = created.campaignId as string;
    await lockSubscriptions(assembled.db.models, 'upg_recorded_elsewhere', accounts[0]!.id, [subscriptions[1]!.id], 'start');
    await api('POST', `/v1/campaigns/${campaignId}/execute`);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await api('POST', `/v1/campaigns/${campaignId}/pause`);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await api('POST', `/v1/campaigns/${campaignId}/resume`);
    const workflowId = campaignWorkflowIdOf(campaignId);
    await untilCampaign(driver, campaignId, 'the recorded campaign to complete', (view) => view.status === 'completed', 120_000);

    // A campaign scheduled for tomorrow, cancelled while it waits for its day.
    const tomorrow = addDays(utcDateOf(new Date()), 1);
    const scheduled = await api(
      'POST',
      '/v1/campaigns',
      campaignRequest('Recorded scheduled campaign', accountIds, { when: { type: 'on_date', date: tomorrow } }),
    );
    await api('POST', `/v1/campaigns/${scheduled.campaignId as string}/execute`);
    await untilCampaign(driver, scheduled.campaignId as string, 'scheduled', (view) => view.status === 'scheduled', 30_000);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await api('POST', `/v1/campaigns/${scheduled.campaignId as string}/cancel`);
    const scheduledWorkflowId = campaignWorkflowIdOf(scheduled.campaignId as string);
    await assembled.temporalClient.workflow.getHandle(scheduledWorkflowId).result();

    // The pause race: a pause taken while the run asks for room to start items, on stub activities (so that the race
    // happens for certain) with a worker of its own.
    const raceQueue = `record-pause-race-${suffix}`;
    const raceWorkflowId = campaignWorkflowIdOf(raceQueue);
    const raceConnection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS! });
    try {
      const stubs = pauseRaceStubs();
      const raceWorker = await Worker.create({ connection: raceConnection, taskQueue: raceQueue, workflowBundle, activities: stubs.activities });
      await raceWorker.runUntil(playPauseRace(assembled.temporalClient, raceQueue, stubs, raceWorkflowId));
      say(`pause race: ${stubs.events.join(', ')}`);
    } finally {
      await raceConnection.close();
    }

    const runs: Array<{ runId: string; startTime: Date }> = [];
    for await (const execution of assembled.temporalClient.workflow.list({ query: `WorkflowId = "${workflowId}"` })) runs.push(execution);
    runs.sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
    if (runs.length < 2) throw new Error(`expected a continue-as-new, got ${runs.length} run(s)`);
    mkdirSync(CAMPAIGN_HISTORIES_DIR, { recursive: true });
    for (const [name, id, runId] of [
      ['campaign-first-run', workflowId, runs[0]!.runId],
      ['campaign-carried-run', workflowId, runs[runs.length - 1]!.runId],
      ['campaign-scheduled-cancelled', scheduledWorkflowId, undefined],
      ['campaign-pause-while-asking-room', raceWorkflowId, undefined],
    ] as const) {
      const file = join(CAMPAIGN_HISTORIES_DIR, `${name}.json`);
      // A released shape's file is kept: a new shape gets a new name.
      if (existsSync(file)) {
        say(`${name}: kept ${relative(projectRoot, file)}`);
        continue;
      }
      const history = await assembled.temporalClient.workflow.getHandle(id, runId).fetchHistory();
      writeFileSync(file, `${historyToJSON(history)}\n`);
      say(`${name}: ${history.events?.length ?? 0} events → ${relative(projectRoot, file)}`);
    }
  } finally {
    for (const cleanup of cleanups) await cleanup().catch((error) => say(`cleanup failed: ${String(error)}`));
  }
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (error) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
