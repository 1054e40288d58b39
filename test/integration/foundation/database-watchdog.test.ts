import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { connectDatabase } from '../../../src/db/connection';
import { sampleAccount } from '../../../src/sample-data';

/**
 * The client watchdog on the real database server: a client that can no longer select a server while the server is
 * up (what the mongodb driver's hung monitor leaves behind after a FerretDB restart) is rebuilt, and the models bound
 * to the connection work again without being recreated.
 */
const fast = { intervalMs: 200, pingTimeoutMs: 1_000, failuresBeforeRebuild: 2 };
const dbName = () => `it_watchdog_${randomBytes(4).toString('hex')}`;

async function until(condition: () => Promise<boolean> | boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await sleep(100);
  }
  return false;
}

test('a client that cannot reach a reachable server is rebuilt, and the same models work again', async () => {
  const rebuilds: string[] = [];
  const db = await connectDatabase(process.env.MONGODB_URI!, dbName(), { watchdog: { ...fast, onRebuild: (reason) => rebuilds.push(reason) } });
  try {
    const account = sampleAccount();
    const { id, ...fields } = account;
    await db.models.accounts.create({ _id: id, ...fields } as never);
    // Healthy: no rebuild however many checks pass.
    await sleep(5 * fast.intervalMs);
    expect(rebuilds).toEqual([]);

    // The driver's topology, closed under the connection: every operation now fails ("Topology is closed").
    await (db.connection.getClient() as unknown as { topology: { close(): Promise<void> } }).topology.close();
    await expect(db.models.accounts.findById(id).lean()).rejects.toThrow(/closed/i);

    expect(await until(() => rebuilds.length > 0, 15_000)).toBe(true);
    expect(rebuilds[0]).toMatch(/pings failed .* while a fresh client reaches the server/);
    expect(await db.models.accounts.findById(id).lean()).toMatchObject({ _id: id, name: account.name });
    await db.connection.dropDatabase();
  } finally {
    await db.close();
  }
});

test('a closed database stays closed: the watchdog stops with it', async () => {
  const rebuilds: string[] = [];
  const db = await connectDatabase(process.env.MONGODB_URI!, dbName(), { watchdog: { ...fast, onRebuild: (reason) => rebuilds.push(reason) } });
  await db.close();
  await sleep(6 * fast.intervalMs + fast.pingTimeoutMs);
  expect(rebuilds).toEqual([]);
  expect(db.connection.readyState).toBe(0); // disconnected
});
