import { WorkflowNotFoundError } from '@temporalio/client';
import { releaseSubscriptions } from '../db/subscription-locks';
import { findByIds } from '../db/find-by-ids';
import type { UpgradeDocument } from '../db/models';
import type { UpgradeUseCaseDeps } from './deps';
import { ensureWorkflowStarted } from './start';
import type { SweepReport } from '../../workflows/upgrade-sweeper-workflow';

export type { SweepReport } from '../../workflows/upgrade-sweeper-workflow';

/**
 * The sweeper (the `upgrade-sweeper` Schedule, src/temporal/maintenance-schedules.ts): repairs what a process that died
 * in the middle of a start or retry left behind, once it is older than the grace period (longer than any start takes).
 *
 * - An upgrade still `accepted` whose workflow never started (the API died between the record and the start): its
 *   run is started, idempotent by workflow id, exactly as a repeated request would.
 * - An upgrade still `accepted` whose workflow is not running (a retry that died between claiming the record and
 *   starting the run, or a run ended before it recorded anything): nothing happened at Microsoft — the run records
 *   `validating` before it asks — so its locks are released and it ends `failed` (`RUN_NOT_STARTED`), for an operator
 *   to retry.
 * - Locks whose upgrade does not exist (the API died between the locks and the record) or has ended (`completed`,
 *   `rejected`, `failed`: a retry that died between its locks and its claim) are released, each by its own claim.
 *   Locks of any other status stay: a run holds them (or, for an upgrade an operator must look at, keeps them on
 *   purpose).
 *
 * The grace period is counted in wall-clock time from the write (the record's `updatedAt`, the lock's `createdAt`),
 * since it is about how long a start can take, not about business dates. Each repair is logged.
 */
export interface SweepOptions {
  graceMs: number;
  /** Wall-clock now (tests move it past the grace period). */
  now?: () => Date;
  log: { info(fields: Record<string, unknown>, message: string): void; warn(fields: Record<string, unknown>, message: string): void };
}

/** Statuses after which an upgrade holds no locks: a lock of one of these is left over. */
const ENDED_STATUSES: readonly string[] = ['completed', 'rejected', 'failed'];
/** How many stale records one sweep looks at (normally none; the next sweep takes the rest). */
const BATCH = 100;

type AcceptedRecord = UpgradeDocument & { _id: string; createdAt?: Date; updatedAt?: Date };

async function runIsRunning(deps: UpgradeUseCaseDeps, upgradeId: string): Promise<'running' | 'ended' | 'none'> {
  try {
    const description = await deps.temporalClient.workflow.getHandle(upgradeId).describe();
    return description.status.name === 'RUNNING' ? 'running' : 'ended';
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return 'none';
    throw error;
  }
}

/** Releases every lock this upgrade holds, each under the claim that took it. */
async function releaseAllLocksOf(deps: UpgradeUseCaseDeps, upgradeId: string): Promise<Array<{ subscriptionId: string; upgradeId: string }>> {
  const locks = await deps.models.subscriptionLocks.find({ upgradeId }).lean();
  for (const lock of locks) await releaseSubscriptions(deps.models, upgradeId, [String(lock._id)], lock.claim ?? undefined);
  return locks.map((lock) => ({ subscriptionId: String(lock._id), upgradeId }));
}

export async function sweepOrphans(deps: UpgradeUseCaseDeps, options: SweepOptions): Promise<SweepReport> {
  const { models } = deps;
  const staleBefore = new Date((options.now ?? (() => new Date()))().getTime() - options.graceMs);
  const report: SweepReport = { started: [], failed: [], releasedLocks: [] };

  const stale = (await models.upgrades
    .find({ status: 'accepted', updatedAt: { $lte: staleBefore } })
    .sort({ _id: 1 })
    .limit(BATCH)
    .lean()) as AcceptedRecord[];
  for (const upgrade of stale) {
    const upgradeId = upgrade._id;
    const run = await runIsRunning(deps, upgradeId);
    if (run === 'running') continue;
    if (run === 'none' && !upgrade.retries) {
      await ensureWorkflowStarted(deps, upgrade);
      report.started.push(upgradeId);
      options.log.info({ upgradeId }, 'sweeper: started the run of an upgrade accepted without one');
      continue;
    }
    const released = await releaseAllLocksOf(deps, upgradeId);
    const ended = await models.upgrades.updateOne(
      { _id: upgradeId, status: 'accepted', updatedAt: upgrade.updatedAt },
      {
        $set: {
          status: 'failed',
          completedAt: deps.clock(),
          error: {
            code: 'RUN_NOT_STARTED',
            message: 'The upgrade was accepted but its run was not running (the process starting it stopped); nothing was changed at Microsoft. Retry it.',
          },
        },
      },
    );
    if (ended.modifiedCount === 1) report.failed.push(upgradeId);
    report.releasedLocks.push(...released);
    options.log.warn({ upgradeId, released: released.length }, 'sweeper: ended an accepted upgrade whose run was not running, locks released');
  }

  const staleLocks = await models.subscriptionLocks.find({ $or: [{ createdAt: { $lte: staleBefore } }, { createdAt: null }] }).lean();
  const holders = [...new Set(staleLocks.map((lock) => lock.upgradeId))];
  // One exact `_id` lookup per holder: `$in` would read the whole upgrades collection, which only grows.
  const { byId: records } = await findByIds(models.upgrades, holders, { status: 1 });
  const statusOf = new Map([...records].map(([id, record]) => [id, record.status] as const));
  for (const lock of staleLocks) {
    const status = statusOf.get(lock.upgradeId);
    if (status !== undefined && !ENDED_STATUSES.includes(status)) continue;
    const subscriptionId = String(lock._id);
    const count = await releaseSubscriptions(models, lock.upgradeId, [subscriptionId], lock.claim ?? undefined);
    if (count === 0) continue;
    report.releasedLocks.push({ subscriptionId, upgradeId: lock.upgradeId });
    options.log.warn({ subscriptionId, upgradeId: lock.upgradeId, upgradeStatus: status ?? 'missing' }, 'sweeper: released an orphan lock');
  }
  return report;
}
