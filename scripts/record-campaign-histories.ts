/**
 * Records the replay suite's CampaignWorkflow histories (test/replay/histories/campaign/*.json) from a real run: a
 * small campaign driven through the HTTP API against a real Temporal dev server, FerretDB and the in-process Partner
 * Center simulator — a throttle wait, an item locked by another upgrade, a pause and a resume, and a continue-as-new
 * (the run is told to continue after a short history), so both the first run and a carried-over one are kept.
 *
 *   npx tsx scripts/record-campaign-histories.ts
 *
 * Uses TEMPORAL_ADDRESS / MONGODB_URI when set (a throwaway database), else starts its own. Keep the files of every
 * released shape: re-recording adds new ones next to them.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { startRecordingServices } from './support/recording-services';
import { lockSubscriptions } from '../src/db/subscription-locks';
import { DEMO_PRODUCT_IDS } from '../src/domain/demo-catalog';
import { projectRoot } from '../src/local-services/tools';
import { sampleAccount, sampleSubscription } from '../src/sample-data';
import { assembleSystem } from '../src/system';
import { WORKFLOWS_PATH } from '../src/worker-factory';
import { campaignWorkflowIdOf } from '../workflows/campaign-messages';

export const CAMPAIGN_HISTORIES_DIR = join(projectRoot, 'test', 'replay', 'histories', 'campaign');
const OPERATOR_KEY = `record-operator-${randomBytes(12).toString('hex')}`;

async function main(): Promise<void> {
  const say = (message: string) => process.stdout.write(`[record] ${message}\n`);
  const { services, config } = await startRecordingServices('record-campaign', OPERATOR_KEY, say, {
    CAMPAIGN_STARTS_PER_INTERVAL: '2',
    CAMPAIGN_INTERVAL_SECONDS: '1',
  });
  const cleanups: Array<() => Promise<unknown>> = [() => services.stop()];
  try {
    const assembled = await assembleSystem({
      config: { ...config, PORT: 0 },
      simulator: { faults: { completionDelayMs: 200, licenseReassignmentDelayMs: 100 } },
      worker: { workflowBundle: await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') }) },
      api: { campaignWorkflowOptions: { followIntervalMs: 300, startsInParallel: 2, eventsBeforeContinueAsNew: 40 } },
      dropDatabaseOnClose: true,
    });
    cleanups.unshift(() => assembled.close());
    const api = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${assembled.api!.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${OPERATOR_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
      return JSON.parse(text) as Record<string, any>;
    };

    const accounts = [
      sampleAccount({ id: `acc_rec_cmp_1_${randomBytes(3).toString('hex')}` }),
      sampleAccount({ id: `acc_rec_cmp_2_${randomBytes(3).toString('hex')}` }),
    ];
    const subscriptions = accounts.flatMap((account, a) =>
      [0, 1, 2].map((s) =>
        sampleSubscription(account, { id: `sub_rec_cmp_${a}_${s}_${randomBytes(3).toString('hex')}`, ...(a === 1 && s === 2 ? { isTrial: true } : {}) }),
      ),
    );
    await assembled.seed({ accounts, subscriptions });
    const created = await api('POST', '/v1/campaigns', {
      name: 'Recorded campaign',
      sourceProductId: DEMO_PRODUCT_IDS.businessBasic,
      targetProductId: DEMO_PRODUCT_IDS.businessStandard,
      destination: { type: 'new' },
      accountIds: accounts.map((account) => account.id),
      quantity: 'all',
    });
    const campaignId = created.campaignId as string;
    await lockSubscriptions(assembled.db.models, 'upg_recorded_elsewhere', accounts[0]!.id, [subscriptions[1]!.id], 'start');
    await api('POST', `/v1/campaigns/${campaignId}/execute`);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await api('POST', `/v1/campaigns/${campaignId}/pause`);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await api('POST', `/v1/campaigns/${campaignId}/resume`);
    const workflowId = campaignWorkflowIdOf(campaignId);
    for (let waited = 0; (await api('GET', `/v1/campaigns/${campaignId}`)).status !== 'completed'; waited += 500) {
      if (waited > 120_000) throw new Error('the recorded campaign did not complete in 2 minutes');
      await new Promise((resolve) => setTimeout(resolve, 500));
    }

    const runs: Array<{ runId: string; startTime: Date }> = [];
    for await (const execution of assembled.temporalClient.workflow.list({ query: `WorkflowId = "${workflowId}"` })) runs.push(execution);
    runs.sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
    if (runs.length < 2) throw new Error(`expected a continue-as-new, got ${runs.length} run(s)`);
    mkdirSync(CAMPAIGN_HISTORIES_DIR, { recursive: true });
    for (const [name, run] of [
      ['campaign-first-run', runs[0]!],
      ['campaign-carried-run', runs[runs.length - 1]!],
    ] as const) {
      const history = await assembled.temporalClient.workflow.getHandle(workflowId, run.runId).fetchHistory();
      const file = join(CAMPAIGN_HISTORIES_DIR, `${name}.json`);
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
