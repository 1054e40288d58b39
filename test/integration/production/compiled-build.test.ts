import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { connectDatabase, type Database } from '../../../src/db/connection';
import { registerDatabaseWithSimulator, seedDemoData } from '../../../src/demo-seed';
import { findFreePort } from '../../../src/local-services/managed-process';
import { createPartnerCenterSimulator, type RunningSimulator } from '../../../src/partner-center/simulator';
import { apiClient, upgradeDemoSubscription } from './demo-upgrade';

/**
 * What ships: `npm run build` compiles to dist/ and bundles the workflow code once; the compiled API and worker run
 * as separate processes against real services (the dev server and FerretDB of the global setup, an in-process
 * simulator), with Worker Deployment versioning on, and complete an upgrade. The worker's HTTP port answers /livez,
 * /readyz and /metrics with both the SDK's series and ours; its logs are JSON lines that carry the upgrade; the
 * compiled CLI reads the upgrade back.
 */
const root = join(__dirname, '..', '..', '..');
const temporalCli = join(root, '.tools', 'bin', 'temporal');
const OPERATOR_KEY = 'compiled-build-operator-key-0123456789';
const suffix = randomBytes(4).toString('hex');
const buildId = `it-${suffix}`;
const deploymentName = `nce-it-${suffix}`;

let simulator: RunningSimulator;
let database: Database;
let client: Client;
const children: ChildProcess[] = [];
const workerLines: string[] = [];
let apiUrl: string;
let workerUrl: string;
let baseEnv: NodeJS.ProcessEnv;

function startCompiled(entry: string, env: NodeJS.ProcessEnv, lines?: string[]): ChildProcess {
  const child = spawn(process.execPath, [join(root, 'dist', entry)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let buffered = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const complete = buffered.split('\n');
    buffered = complete.pop()!;
    lines?.push(...complete);
  });
  child.stderr!.on('data', (chunk: Buffer) => process.stderr.write(`[${entry}] ${chunk.toString()}`));
  children.push(child);
  return child;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const ok = async (url: string) => ((await fetch(url)).ok ? true : undefined);

const api = apiClient(() => apiUrl, OPERATOR_KEY);

beforeAll(async () => {
  execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
  simulator = await createPartnerCenterSimulator({ faults: { global: { completionDelayMs: 100, licenseReassignmentDelayMs: 50 } } }).listen(0, '127.0.0.1');
  const databaseName = `it_compiled_${suffix}`;
  database = await connectDatabase(process.env.MONGODB_URI!, databaseName);
  await seedDemoData(database);
  await registerDatabaseWithSimulator(database, simulator.url);
  client = new Client({ connection: await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! }), namespace: 'default' });

  const [apiPort, workerPort] = [await findFreePort(), await findFreePort()];
  baseEnv = {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS,
    TEMPORAL_TASK_QUEUE: `it-compiled-${suffix}`,
    MONGODB_URI: process.env.MONGODB_URI,
    MONGODB_DATABASE: databaseName,
    VENDOR_BASE_URL: simulator.url,
    VENDOR_TOKEN: 'simulator',
    VENDOR_POLL_INITIAL_MS: '100',
    VENDOR_POLL_MAX_MS: '500',
    // The API encrypts each account's webhook secret with it, the worker decrypts it: both need the same one.
    WEBHOOK_SECRETS_KEY: 'compiled-build-webhook-secrets-key-0123456',
  };
  startCompiled('src/server.js', { ...baseEnv, PORT: String(apiPort), HOST: '127.0.0.1', OPERATOR_API_KEY: OPERATOR_KEY });
  startCompiled(
    'src/worker.js',
    {
      ...baseEnv,
      WEBHOOK_SIGNING_SECRET: 'compiled-build-signing-secret',
      WORKER_HTTP_PORT: String(workerPort),
      WORKER_BUILD_ID: buildId,
      WORKER_DEPLOYMENT_NAME: deploymentName,
    },
    workerLines,
  );
  apiUrl = `http://127.0.0.1:${apiPort}`;
  workerUrl = `http://127.0.0.1:${workerPort}`;
  await waitFor('the compiled API to be ready', () => ok(`${apiUrl}/readyz`));
  await waitFor('the compiled worker to be ready', () => ok(`${workerUrl}/readyz`));
  // A release makes its build the deployment's current version; until then the server routes no task to it.
  await waitFor('the worker deployment version to be registered', async () => {
    execFileSync(
      temporalCli,
      [
        'worker',
        'deployment',
        'set-current-version',
        '--address',
        process.env.TEMPORAL_ADDRESS!,
        '--deployment-name',
        deploymentName,
        '--build-id',
        buildId,
        '--yes',
      ],
      { stdio: 'ignore' },
    );
    return true;
  });
}, 240_000);

afterAll(async () => {
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(children.map((child) => (child.exitCode === null ? new Promise((resolve) => child.once('exit', resolve)) : undefined)));
  await client?.connection.close();
  await database?.connection.dropDatabase().catch(() => undefined);
  await database?.close();
  await simulator?.close();
});

test('the compiled API and worker complete an upgrade, pinned to the worker build that started it', async () => {
  const { upgradeId, completed } = await upgradeDemoSubscription(api, `compiled-${suffix}`);
  expect(completed.invoices).toHaveLength(2);
  const description = await client.workflow.getHandle(upgradeId).describe();
  expect(description.raw.workflowExecutionInfo?.versioningInfo?.deploymentVersion?.buildId).toBe(buildId);

  // The worker's metrics: the Temporal SDK's series and ours, on one port.
  const metrics = await (await fetch(`${workerUrl}/metrics`)).text();
  expect(metrics).toMatch(/^temporal_workflow_completed\{/m);
  expect(metrics).toMatch(/^temporal_activity_execution_latency_bucket\{/m);
  expect(metrics).toMatch(/^nce_activity_executions_total\{activity="applySubscriptionChangesAndIssueInvoices",outcome="completed"\} 1$/m);
  expect(metrics).toMatch(
    /^nce_outbound_request_duration_seconds_count\{service="partner-center",operation="POST \/v1\/customers\/\{id\}\/subscriptions\/\{id\}\/transitions",status="20\d"\} 1$/m,
  );
  expect(metrics).toMatch(/^nce_manual_seat_reassignments_pending \d+$/m);
  // Counted by the workflow through the SDK's metric meter, exported with the SDK's series.
  expect(metrics).toMatch(/^nce_upgrades_started\{[^}]*kind="partial"[^}]*\} 1$/m);
  expect(metrics).toMatch(/^nce_upgrades_ended\{[^}]*outcome="completed"[^}]*\} 1$/m);
  expect((await fetch(`${workerUrl}/livez`)).status).toBe(200);

  // JSON logs; workflow and activity lines carry the upgrade, the workflow and the run.
  const parsed = workerLines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
  expect(parsed.length).toBe(workerLines.filter((line) => line.trim() !== '').length);
  const aboutTheUpgrade = parsed.filter((line) => line.upgradeId === upgradeId);
  expect(aboutTheUpgrade.length).toBeGreaterThan(0);
  expect(aboutTheUpgrade.every((line) => line.workflowId === upgradeId && typeof line.runId === 'string')).toBe(true);

  // The compiled CLI reads it back.
  const shown = execFileSync(process.execPath, [join(root, 'dist', 'src', 'cli', 'main.js'), 'show', upgradeId], {
    env: { ...baseEnv, NODE_ENV: 'development' },
    encoding: 'utf8',
  });
  expect(shown).toMatch(/completed/);
}, 180_000);
