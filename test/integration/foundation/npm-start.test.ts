import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePort } from '../../../src/local-services/managed-process';

/**
 * README's first command, as a new engineer runs it: `npm start` (src/dev.ts) brings up every service on embedded
 * defaults, seeds the demo, answers with Microsoft's verdict (the simulator's), runs the demo upgrade to the end and
 * stops cleanly on Ctrl-C. Its kept state goes to a folder of its own (NCE_DATA_DIR), not the project's .data/.
 */
jest.setTimeout(240_000);

const root = join(__dirname, '..', '..', '..');
const OPERATOR_KEY = 'npm-start-test-operator-key-0123456789';

let child: ChildProcess | undefined;
let output = '';
let dataDir: string;

afterAll(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGKILL');
    await new Promise((resolve) => child!.once('exit', resolve));
  }
  rmSync(dataDir, { recursive: true, force: true });
});

async function until<Value>(what: string, check: () => Promise<Value | undefined> | Value | undefined, timeoutMs: number): Promise<Value> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} not within ${timeoutMs} ms; npm start printed:\n${output.slice(-4_000)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

test('npm start: the demo upgrade runs end to end with Microsoft’s verdict, and Ctrl-C stops everything', async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'nce-npm-start-'));
  // As root PostgreSQL runs as its own user, who must reach the folder.
  chmodSync(dataDir, 0o755);
  const port = await findFreePort();
  const env: NodeJS.ProcessEnv = { ...process.env, NCE_DATA_DIR: dataDir, PORT: String(port), OPERATOR_API_KEY: OPERATOR_KEY, LOG_LEVEL: 'warn' };
  // The test run's own services (jest global setup) are not npm start's: it starts its own.
  delete env.TEMPORAL_ADDRESS;
  delete env.MONGODB_URI;
  delete env.NODE_ENV;
  child = spawn(join(root, 'node_modules', '.bin', 'tsx'), ['src/dev.ts'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));

  await until('ready', () => (/\[nce\] ready in/.test(output) ? true : undefined), 150_000);
  expect(output).toMatch(/FerretDB \(MongoDB wire protocol, (PostgreSQL|SQLite) backend\)/);
  const api = `http://localhost:${port}`;
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${api}${path}`, {
      method,
      headers: { authorization: `Bearer ${OPERATOR_KEY}`, 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as any };
  };

  const options = await call('GET', '/v1/subscriptions/sub_contoso_basic/upgrade-options');
  expect(options.status).toBe(200);
  expect(options.body.microsoftVerdict).toBe('applied');

  // The start README prints.
  const started = await call(
    'POST',
    '/v1/upgrades',
    { sourceSubscriptionId: 'sub_contoso_basic', targetProductId: 'CFQ7TTC0LDPB:0001:DEMO', quantity: 4, destination: { type: 'new' } },
    { 'idempotency-key': 'demo-1' },
  );
  expect(started.status).toBe(202);
  const upgradePath = `/v1/upgrades/${started.body.upgradeId}`;
  let confirmed = false;
  const final = await until(
    'the demo upgrade’s end',
    async () => {
      const view = await call('GET', upgradePath);
      if (view.body.status === 'awaiting_manual_seat_reassignment' && !confirmed) {
        confirmed = (await call('POST', `${upgradePath}/seat-reassignment`, {})).status === 200;
      }
      return ['completed', 'failed', 'rejected'].includes(view.body.status) ? view.body : undefined;
    },
    90_000,
  );
  expect(final.status).toBe('completed');
  expect(final.invoices.map((invoice: { type: string }) => invoice.type).sort()).toEqual(['credit', 'debit']);

  const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
  child.kill('SIGINT');
  expect(await exited).toBe(0);
  expect(output).toMatch(/\[nce\] stopped/);
});
