import { CI_SIZE, formatReport, runChaos } from '../../../scripts/chaos/run';

/**
 * The fault suite in CI size (scripts/chaos/run.ts, `npm run chaos -- --ci`): upgrades while the worker process is
 * SIGKILLed and restarted and while FerretDB restarts, the vendor answering 30 % 503 and 429s, permanent vendor
 * rejections mixed in, racing starts on one subscription — and not one invariant broken. Temporal comes from
 * globalSetup (own task queue); the FerretDB is the suite's own, because it restarts it.
 */
test('exactly once under worker SIGKILLs, a database restart, vendor faults and racing starts', async () => {
  const report = await runChaos({
    ...CI_SIZE,
    upgrades: 20,
    workerKills: 2,
    dbUpgrades: 8,
    dbRestarts: 1,
    concurrentStarts: 10,
    temporalAddress: process.env.TEMPORAL_ADDRESS,
    seed: 4242,
    log: (message) => process.stdout.write(`[chaos] ${new Date().toISOString().slice(11, 19)} ${message}\n`),
  });
  process.stdout.write(`${formatReport(report)}\n`);
  expect(report.violations).toEqual([]);
  expect(report.passes.reduce((sum, pass) => sum + pass.duplicates, 0)).toBe(0);
  expect(report.race).toMatchObject({ accepted: 1, conflicts: 9, other: 0 });
  const triedInPasses = report.passes.filter((pass) => pass.pass !== 'racing starts').reduce((sum, pass) => sum + pass.tried, 0);
  expect(triedInPasses).toBe(28);
  // Every upgrade told its account how it ended (completed or failed), signed so the receiver accepted it.
  expect(report.webhooks?.refused).toBe(0);
  expect(report.webhooks?.delivered).toBeGreaterThanOrEqual(triedInPasses);
}, 420_000);
