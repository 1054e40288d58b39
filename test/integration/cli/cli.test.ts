import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { exportHistory, historyAsJson } from '../../../src/cli/commands/history';
import { listUpgrades } from '../../../src/cli/commands/list';
import { replayHistory } from '../../../src/cli/commands/replay';
import { resolveUpgradeOutcome } from '../../../src/cli/commands/resolve';
import { retryFailedUpgrade } from '../../../src/cli/commands/retry';
import { formatUpgradeReport, showUpgrade } from '../../../src/cli/commands/show';
import { CliError } from '../../../src/cli/errors';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { DEMO_PRODUCT_IDS } from '../../../src/domain/demo-catalog';
import { sampleAccount as makeAccount, sampleSubscription as makeSubscription } from '../../../src/sample-data';
import { startSystemHarness, type SystemHarness } from '../support/system-harness';

/**
 * The runbook's path, proven with the CLI's own functions on the real system: a failed upgrade is listed by its
 * search attributes, shown with its error, its history exported and replayed, retried once (and only once), and the
 * binary itself answers with the documented exit codes.
 */
const run = promisify(execFile);
const BIN = join(__dirname, '..', '..', '..', 'src', 'cli', 'bin.cjs');
let system: SystemHarness;

beforeAll(async () => {
  system = await startSystemHarness('cli');
}, 120_000);

afterAll(async () => {
  await system?.close();
});

async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!ok(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    value = await read();
  }
  return value;
}

async function cli(args: string[]) {
  const env = {
    ...process.env,
    TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS,
    MONGODB_URI: process.env.MONGODB_URI,
    MONGODB_DATABASE: system.db.connection.name,
    TEMPORAL_TASK_QUEUE: system.taskQueue,
    NODE_ENV: 'development',
  };
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

test('a vendor-rejected upgrade: list finds it, show explains it, its history replays, retry re-runs it exactly once', async () => {
  const account = makeAccount();
  const source = makeSubscription(account, { quantity: 5 });
  await system.seed({ accounts: [account], subscriptions: [source] });
  await system.setFaults({ rejectTransitionsForSubscriptions: [source.externalId] });
  let upgradeId: string;
  try {
    const started = await system.api(
      'POST',
      '/v1/upgrades',
      { sourceSubscriptionId: source.id, targetProductId: DEMO_PRODUCT_IDS.businessStandard, quantity: 5, destination: { type: 'new' } },
      { 'idempotency-key': randomUUID() },
    );
    expect(started.status).toBe(202);
    upgradeId = started.body.upgradeId;
    expect((await system.waitForUpgrade(upgradeId)).status).toBe('failed');
  } finally {
    await system.setFaults({ rejectTransitionsForSubscriptions: [] });
  }

  // Find it: the same visibility query an operator types in the Temporal UI.
  const listed = await eventually(
    () => listUpgrades(system.client, { status: 'failed', account: account.id }),
    (result) => result.upgrades.length > 0,
  );
  expect(listed.query).toBe(`WorkflowType = "UpgradeWorkflow" AND UpgradeStatus = "failed" AND UpgradeAccountId = "${account.id}"`);
  expect(listed.upgrades).toEqual([expect.objectContaining({ upgradeId, upgradeStatus: 'failed', accountId: account.id, workflowStatus: 'FAILED' })]);
  expect(listed.upgrades[0]!.summary).toMatch(/^Full upgrade: 5 × Microsoft 365 Business Basic → Microsoft 365 Business Standard/);

  // See why it failed.
  const report = await showUpgrade({ models: system.db.models, client: system.client, upgradeId });
  expect(report).toMatchObject({ upgradeId, status: 'failed', live: false, kind: 'full', accountId: account.id, invoices: [] });
  expect(report.error).toMatchObject({ code: 'VendorBusinessRejectionError' });
  expect(report.steps.map((step) => step.name)).toEqual(expect.arrayContaining(['accepted', 'validated', 'failed']));
  expect(report.workflow).toMatchObject({ status: 'FAILED', searchAttributes: expect.objectContaining({ UpgradeStatus: 'failed' }) });
  const text = formatUpgradeReport(report);
  expect(text).toContain(`Upgrade ${upgradeId}: failed`);
  expect(text).toContain('Error: VendorBusinessRejectionError: Partner Center refused the transition');

  // Export its history and replay it against the current code.
  const exported = await exportHistory({ client: system.client, upgradeId });
  const outcome = await replayHistory(historyFromJSON(JSON.parse(exported.json)), upgradeId);
  expect(outcome).toEqual({ ok: true, workflowId: upgradeId, eventCount: exported.eventCount });
  expect(historyAsJson(historyFromJSON(JSON.parse(exported.json)))).toBe(exported.json);

  // Retry it (the fault is gone): completes, one transition, one invoice of each kind.
  expect(await retryFailedUpgrade(system.upgradeUseCases, upgradeId)).toEqual({ upgradeId, status: 'accepted' });
  expect((await system.waitForUpgrade(upgradeId)).status).toBe('completed');
  expect((await system.db.models.invoices.find({ upgradeId }).lean()).map((invoice) => invoice.type).sort()).toEqual(['credit', 'debit']);

  // A second retry is refused: the upgrade did not fail. Nothing changes.
  const refused = await retryFailedUpgrade(system.upgradeUseCases, upgradeId).catch((error: unknown) => error);
  expect(refused).toBeInstanceOf(CliError);
  expect((refused as CliError).message).toBe(`retry refused: UPGRADE_NOT_FAILED: Only failed upgrades can be retried; ${upgradeId} is completed`);
  expect(await system.db.models.invoices.countDocuments({ upgradeId })).toBe(2);
  const counters = (await (await fetch(`${system.simulatorUrl}/admin/counters`)).json()) as { transitionsCreatedBySubscription: Record<string, number> };
  expect(counters.transitionsCreatedBySubscription[source.externalId]).toBe(1);

  // The retried upgrade no longer needs attention: its failed run is superseded.
  const after = await eventually(
    () => listUpgrades(system.client, { status: 'failed', account: account.id }),
    (result) => result.upgrades.length === 0,
  );
  expect(after.upgrades).toEqual([]);
  expect((await listUpgrades(system.client, { status: 'completed', account: account.id })).upgrades.map((u) => u.upgradeId)).toEqual([upgradeId]);

  // The binary: show as JSON (exit 0), retry and resolve refused (exit 1), a bad status or resolve flags (exit 2).
  const [shown, retried, usage, resolved, unsure, both] = await Promise.all([
    cli(['show', upgradeId, '--json']),
    cli(['retry', upgradeId]),
    cli(['list', '--status', 'broken']),
    cli(['resolve', upgradeId, '--not-converted']),
    cli(['resolve', upgradeId]),
    cli(['resolve', upgradeId, '--converted', '--not-converted']),
  ]);
  expect(resolved.code).toBe(1);
  expect(resolved.stderr).toContain(`resolution refused: NOT_AWAITING_RESOLUTION: Upgrade ${upgradeId} does not wait for an operator's decision`);
  expect([unsure.code, both.code]).toEqual([2, 2]);
  expect(unsure.stderr).toContain('give exactly one of --converted and --not-converted');
  expect(shown.code).toBe(0);
  expect(JSON.parse(shown.stdout)).toMatchObject({ upgradeId, status: 'completed', retries: 1 });
  expect(retried.code).toBe(1);
  expect(retried.stderr).toContain('retry refused: UPGRADE_NOT_FAILED');
  expect(usage.code).toBe(2);
  expect(usage.stderr).toContain("argument 'broken' is invalid");
});

test('usage and lookup errors are plain sentences', async () => {
  await expect(showUpgrade({ models: system.db.models, client: system.client, upgradeId: 'upg_does_not_exist' })).rejects.toThrow(
    'no upgrade upg_does_not_exist: neither an upgrade record nor a workflow has that id',
  );
  await expect(exportHistory({ client: system.client, upgradeId: 'upg_does_not_exist' })).rejects.toThrow(/no workflow upg_does_not_exist in Temporal/);
  await expect(listUpgrades(system.client, { account: 'acc" OR 1=1' })).rejects.toThrow(/is not an account id/);
  await expect(retryFailedUpgrade(system.upgradeUseCases, 'upg_does_not_exist')).rejects.toThrow(
    'retry refused: NOT_FOUND: Upgrade upg_does_not_exist not found',
  );
  await expect(resolveUpgradeOutcome(system.upgradeUseCases, 'upg_does_not_exist', { outcome: 'not_converted' })).rejects.toThrow(
    'resolution refused: NOT_FOUND: Upgrade upg_does_not_exist not found',
  );
});
