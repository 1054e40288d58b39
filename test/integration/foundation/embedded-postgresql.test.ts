import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectDatabase } from '../../../src/db/connection';
import { startFerretDb } from '../../../src/local-services/ferretdb';
import { addContainmentIndexes, postgresqlInstalled, startPostgresql } from '../../../src/local-services/postgresql';

/**
 * `npm start`'s database where PostgreSQL is installed (src/dev.ts): FerretDB on a private cluster kept in a folder.
 * What it promises: the data outlives a restart, and every filter our models index gets an index FerretDB's queries
 * can use. CI runs setup as root, which installs PostgreSQL: this suite needs it.
 */
jest.setTimeout(120_000);

test('PostgreSQL is installed where the tests run (npm run setup installs it as root)', () => {
  expect(postgresqlInstalled()).toBe(true);
});

test('a kept cluster: the data survives a restart of PostgreSQL and FerretDB, and the containment indexes are built once', async () => {
  const parent = mkdtempSync(join(tmpdir(), 'nce-embedded-pg-'));
  // As root the server runs as Debian's `postgres` user, who must be able to reach the folder (as under .data/).
  chmodSync(parent, 0o755);
  const dataDir = join(parent, 'postgresql');
  try {
    const first = await startPostgresql({ dataDir });
    let ferret = await startFerretDb({ postgresqlUrl: first.url });
    let db = await connectDatabase(ferret.uri, 'embedded', { watchdog: false });
    await db.models.accounts.create({
      _id: 'acc_kept',
      name: 'Kept',
      tenantId: 'tenant-kept',
      role: 'customer',
      currency: 'USD',
      parentResellerId: 'acc_reseller',
    });
    const created = addContainmentIndexes(first, 'embedded');
    expect(created).toBeGreaterThan(0);
    await db.connection.close();
    await ferret.stop();
    await first.stop();

    const second = await startPostgresql({ dataDir });
    try {
      ferret = await startFerretDb({ postgresqlUrl: second.url });
      db = await connectDatabase(ferret.uri, 'embedded', { watchdog: false });
      expect(await db.models.accounts.findById('acc_kept').lean()).toMatchObject({ tenantId: 'tenant-kept' });
      // Idempotent: the same indexes, none added twice.
      expect(addContainmentIndexes(second, 'embedded')).toBe(created);
      // A lookup by a secondary field (an indexed one) answers from the kept data.
      expect(await db.models.accounts.find({ parentResellerId: 'acc_reseller' }, { _id: 1 }).lean()).toEqual([{ _id: 'acc_kept' }]);
      await db.connection.close();
      await ferret.stop();
    } finally {
      await second.stop();
    }
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
});
