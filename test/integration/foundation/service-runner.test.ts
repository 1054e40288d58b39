import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { canConnect } from '../../../src/local-services/managed-process';
import { startFerretDb } from '../../../src/local-services/ferretdb';
import { connectDatabase } from '../../../src/db/connection';

/**
 * The service runner's promises: services come up ready to use, stop cleanly, and never outlive the process that
 * started them — not even after `kill -9` of that process (a crashed test run or npm start).
 */
const root = join(__dirname, '..', '..', '..');

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function eventually(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return check();
}

test('FerretDB starts ready for mongoose and stops cleanly', async () => {
  const ferret = await startFerretDb();
  const database = await connectDatabase(ferret.uri, 'runner_probe');
  expect(await database.ping()).toBe(true);
  await database.close();
  const port = Number(new URL(ferret.uri).port);
  await ferret.stop();
  expect(await canConnect('127.0.0.1', port, 300)).toBe(false);
});

test('services die with their parent even when it is killed with SIGKILL', async () => {
  const script = `
    const { startFerretDb } = require('./src/local-services/ferretdb');
    startFerretDb().then((f) => { process.stdout.write(JSON.stringify({ pid: f.process.pid, uri: f.uri }) + '\\n'); setInterval(() => {}, 1000); });
  `;
  const parent = spawn(process.execPath, ['--require', 'tsx/cjs', '-e', script], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  const started = await new Promise<{ pid: number; uri: string }>((resolve, reject) => {
    parent.stdout.once('data', (chunk: Buffer) => resolve(JSON.parse(chunk.toString())));
    parent.once('exit', () => reject(new Error('parent exited before FerretDB was ready')));
  });
  const port = Number(new URL(started.uri).port);
  expect(await canConnect('127.0.0.1', port)).toBe(true);
  parent.kill('SIGKILL');
  // The watchdog polls once a second, then FerretDB gets SIGTERM.
  expect(await eventually(async () => !pidAlive(started.pid) && !(await canConnect('127.0.0.1', port, 200)), 10_000)).toBe(true);
}, 30_000);
