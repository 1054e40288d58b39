import type { UpgradeActivities, UpgradeError, UpgradeRecordProgress } from '../workflows/activity-contract';
import {
  FINAL_UPGRADE_STATUSES,
  UPGRADE_STEPS,
  type SeatReassignmentState,
  type UpgradeStatus,
  type UpgradeStepRecord,
  type UpgradeWorkflowInput,
} from '../workflows/messages';
import type { UpgradeActivityDeps } from './deps';
import { releaseSubscriptions } from '../src/db/subscription-locks';
import { subscriptionsHeldBy, type SubscriptionsNamedByRequest } from '../src/domain/upgrade-shape';

/*
 * Record keeping for the upgrade document. The workflow decides its status and steps (and writes them through
 * `recordUpgradeProgress` and the ending activities); the other activities write only the data they produced.
 * Every write filters on `_id` alone: FerretDB 1.x pushes nothing else down to SQLite, and even then each read and
 * each update scans the collection, so the hot path writes blindly (one update per change) and reads only where a
 * decision needs it (ending an upgrade once).
 */
type UpgradeStepInput = Omit<UpgradeStepRecord, 'at'> & { at?: string };

interface UpgradeRecordChange {
  status?: UpgradeStatus;
  steps?: readonly UpgradeStepInput[];
  set?: Record<string, unknown>;
  addToSet?: Record<string, readonly string[]>;
}

/** The workflow's progress as a record change. */
const changeOf = ({ status, steps, seatReassignment, attention }: UpgradeRecordProgress): UpgradeRecordChange => ({
  status,
  steps,
  ...(seatReassignment || attention ? { set: { ...(seatReassignment ? { seatReassignment } : {}), ...(attention ? { attention } : {}) } } : {}),
});

/**
 * One write of the upgrade record, without reading it first: the status, the steps (`steps.<name>`, so recording one
 * again only refreshes it) and the data together. No guard is needed for the status: within a run the workflow writes
 * one change at a time, only the ending activities end an upgrade, and a new run exists only for an operator's retry.
 */
export async function updateUpgradeRecord(
  deps: UpgradeActivityDeps,
  upgradeId: string,
  change: UpgradeRecordChange,
  /** Extra conditions on the record (e.g. not ended yet); the write is skipped when they do not hold. */
  onlyIf: Record<string, unknown> = {},
): Promise<void> {
  const $set: Record<string, unknown> = { ...change.set };
  if (change.status) $set.status = change.status;
  for (const { name, ...step } of change.steps ?? []) {
    $set[`steps.${name}`] = { ...step, at: step.at ? new Date(step.at) : deps.clock() };
  }
  const update: Record<string, unknown> = {};
  if (Object.keys($set).length > 0) update.$set = $set;
  if (change.addToSet) {
    update.$addToSet = Object.fromEntries(Object.entries(change.addToSet).map(([field, values]) => [field, { $each: [...values] }]));
  }
  if (Object.keys(update).length > 0) await deps.models.upgrades.updateOne({ ...onlyIf, _id: upgradeId }, update);
}

/**
 * Ends an upgrade: releases every lock it may hold (source, existing destination, any subscription it created), then
 * sets the final status, the outcome and the closing step in one write — once: when an earlier attempt or another path
 * already ended it, only the release (idempotent) happens again. The subscriptions come from the caller when it knows
 * them all (a completed run), from the record otherwise.
 */
async function endUpgrade(
  deps: UpgradeActivityDeps,
  upgradeId: string,
  change: UpgradeRecordChange,
  knownHeld?: readonly string[],
  lockClaim?: string,
): Promise<void> {
  const ending: UpgradeRecordChange = { ...change, set: { ...change.set, completedAt: deps.clock() } };
  if (knownHeld) {
    await releaseSubscriptions(deps.models, upgradeId, knownHeld, lockClaim);
    await updateUpgradeRecord(deps, upgradeId, ending, { status: { $nin: FINAL_UPGRADE_STATUSES } });
    return;
  }
  const record = await deps.models.upgrades.findById(upgradeId, { request: 1, subscriptionsTouched: 1, status: 1 }).lean();
  if (!record) return;
  const held = subscriptionsHeldBy(record.request as SubscriptionsNamedByRequest, record.subscriptionsTouched ?? []);
  await releaseSubscriptions(deps.models, upgradeId, held, lockClaim);
  if ((FINAL_UPGRADE_STATUSES as readonly string[]).includes(record.status)) return;
  await updateUpgradeRecord(deps, upgradeId, ending);
}

export function createUpgradeRecordActivities(deps: UpgradeActivityDeps) {
  return {
    /**
     * Writes the upgrade record and its `accepted` step for a run the API did not record (the CLI, an operator's
     * retry). Runs started before PATCHES.WORKFLOW_WRITES_THE_RECORD call it for API runs too, which find the record
     * written already (`recordedByApi`): nothing to do.
     */
    async recordUpgradeAccepted(input: UpgradeWorkflowInput): Promise<void> {
      if (input.recordedByApi) return; // inserted with its `accepted` step by POST /v1/upgrades
      const destinationType = input.request.destination.type;
      await deps.models.upgrades.updateOne(
        { _id: input.upgradeId },
        {
          $setOnInsert: {
            requestFingerprint: input.requestFingerprint,
            requestedByKeyId: input.requestedByKeyId,
            accountId: input.accountId,
            request: input.request,
            kind: 'unknown',
            destinationType,
            status: 'accepted',
          },
          // The step in the same write: a repeated accept only refreshes it.
          $set: { [`steps.${UPGRADE_STEPS.accepted}`]: { status: 'completed', at: new Date(input.acceptedAt) } },
        },
        { upsert: true },
      );
    },

    /** The workflow's status, the steps it completed since its last write and the seat reassignment state, at once. */
    async recordUpgradeProgress(upgradeId: string, progress: UpgradeRecordProgress): Promise<void> {
      await updateUpgradeRecord(deps, upgradeId, changeOf(progress));
    },

    /**
     * A business failure: locks released, the reason kept, nothing else changed. Idempotent. `progress`: the
     * workflow's final state; runs started before PATCHES.WORKFLOW_WRITES_THE_RECORD pass none and get the ending step.
     * `lockClaim`: the run's claim token; only its locks are released (runs started before claims pass none).
     */
    async failUpgrade(
      upgradeId: string,
      outcome: 'failed' | 'rejected',
      error: UpgradeError,
      progress?: UpgradeRecordProgress | null,
      lockClaim?: string,
    ): Promise<void> {
      const ending = progress ?? {
        status: outcome,
        steps: [{ name: outcome, status: 'failed', detail: `${error.code}: ${error.message}`, at: deps.clock().toISOString() }],
      };
      const change = changeOf(ending);
      await endUpgrade(deps, upgradeId, { ...change, set: { ...change.set, error } }, undefined, lockClaim);
    },

    /**
     * Releases the locks and marks the upgrade completed. Idempotent. `held`: every subscription the run locked
     * (source, destination), which spares reading them back; runs recorded before it pass none. `progress`: as for
     * `failUpgrade`.
     */
    async completeUpgrade(upgradeId: string, held?: readonly string[], progress?: UpgradeRecordProgress | null, lockClaim?: string): Promise<void> {
      const ending = progress ?? { status: 'completed', steps: [{ name: UPGRADE_STEPS.completed, status: 'completed', at: deps.clock().toISOString() }] };
      const change = changeOf(ending);
      await endUpgrade(deps, upgradeId, { ...change, set: { ...change.set, error: null } }, held, lockClaim);
    },

    /**
     * The seat reassignment state as runs started before PATCHES.WORKFLOW_WRITES_THE_RECORD write it (later runs
     * write it with their progress): `awaitingConfirmation` was their way of setting the waiting status.
     */
    async recordSeatReassignmentState(upgradeId: string, state: SeatReassignmentState, awaitingConfirmation: boolean): Promise<void> {
      await updateUpgradeRecord(deps, upgradeId, {
        ...(awaitingConfirmation ? { status: 'awaiting_manual_seat_reassignment' as const } : {}),
        set: { seatReassignment: state },
        ...(state.state === 'confirmed'
          ? {
              steps: [
                { name: UPGRADE_STEPS.seatsReassigned, status: 'completed' as const, detail: `manually, confirmed by ${state.confirmedBy ?? 'unknown'}` },
              ],
            }
          : {}),
      });
    },
  } satisfies Partial<UpgradeActivities>;
}
