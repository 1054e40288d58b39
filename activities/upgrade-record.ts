import type { UpgradeWorkflowInput, UpgradeStatus, UpgradeStepRecord } from '../workflows/messages';
import type { UpgradeActivityDeps } from './deps';
import { releaseSubscriptions } from '../src/db/subscription-locks';
import { subscriptionsHeldBy, type SubscriptionsNamedByRequest } from '../src/domain/upgrade-shape';

/*
 * Record keeping for the upgrade document: status, steps, outcome. Every write filters on `_id` alone: FerretDB 1.x
 * pushes nothing else down to SQLite, and even then each read and each update scans the collection, so the hot path
 * writes blindly (one update per change) and reads only where a decision needs it (ending an upgrade once).
 */
const FINAL_STATUSES = ['completed', 'rejected', 'failed'];

export type UpgradeStepInput = Omit<UpgradeStepRecord, 'at'> & { at?: string };

export interface UpgradeRecordChange {
  status?: UpgradeStatus;
  step?: UpgradeStepInput;
  set?: Record<string, unknown>;
  addToSet?: Record<string, readonly string[]>;
}

/**
 * One write of the upgrade record, without reading it first: the status, the step (`steps.<name>`, so recording it
 * again only refreshes it) and the data together. No guard is needed for the status: within a run the workflow calls
 * these activities one at a time, only `finish` ends an upgrade, and a new run exists only for an operator's retry.
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
  if (change.step) {
    const { name, ...step } = change.step;
    $set[`steps.${name}`] = { ...step, at: step.at ? new Date(step.at) : deps.clock() };
  }
  const update: Record<string, unknown> = {};
  if (Object.keys($set).length > 0) update.$set = $set;
  if (change.addToSet) {
    update.$addToSet = Object.fromEntries(Object.entries(change.addToSet).map(([field, values]) => [field, { $each: [...values] }]));
  }
  if (Object.keys(update).length > 0) await deps.models.upgrades.updateOne({ ...onlyIf, _id: upgradeId }, update);
}

export const setUpgradeStatus = (deps: UpgradeActivityDeps, upgradeId: string, status: UpgradeStatus) => updateUpgradeRecord(deps, upgradeId, { status });

/**
 * Sets the status and returns the record as it was, in one round trip (for a step that needs what an earlier step
 * recorded, e.g. the vendor transition). The whole record: FerretDB 1.x refuses a projection on findAndModify.
 */
export const setUpgradeStatusReadingRecord = (deps: UpgradeActivityDeps, upgradeId: string, status: UpgradeStatus) =>
  deps.models.upgrades.findOneAndUpdate({ _id: upgradeId }, { $set: { status } }).lean();
export const recordStep = (deps: UpgradeActivityDeps, upgradeId: string, step: UpgradeStepInput) => updateUpgradeRecord(deps, upgradeId, { step });

/**
 * Ends an upgrade: releases every lock it may hold (source, existing destination, any subscription it created), then
 * sets the final status, the outcome and the closing step in one write — once: when an earlier attempt or another path
 * already ended it, only the release (idempotent) happens again. The subscriptions come from the caller when it knows
 * them all (a completed run), from the record otherwise.
 */
async function endUpgrade(
  deps: UpgradeActivityDeps,
  upgradeId: string,
  status: 'completed' | 'failed' | 'rejected',
  fields: Record<string, unknown>,
  step: UpgradeStepInput,
  knownHeld?: readonly string[],
): Promise<void> {
  const ending: UpgradeRecordChange = { status, set: { ...fields, completedAt: deps.clock() }, step };
  if (knownHeld) {
    await releaseSubscriptions(deps.models, upgradeId, knownHeld);
    await updateUpgradeRecord(deps, upgradeId, ending, { status: { $nin: FINAL_STATUSES } });
    return;
  }
  const record = await deps.models.upgrades.findById(upgradeId, { request: 1, subscriptionsTouched: 1, status: 1 }).lean();
  if (!record) return;
  const held = subscriptionsHeldBy(record.request as SubscriptionsNamedByRequest, record.subscriptionsTouched ?? []);
  await releaseSubscriptions(deps.models, upgradeId, held);
  if (FINAL_STATUSES.includes(record.status)) return;
  await updateUpgradeRecord(deps, upgradeId, ending);
}

export function createUpgradeRecordActivities(deps: UpgradeActivityDeps) {
  return {
    /**
     * Writes the upgrade record and its `accepted` step if the API has not (a run started by the CLI or an operator's
     * retry). A run the API started finds both written already (`recordedByApi`) and writes nothing.
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
          $set: { 'steps.accepted': { status: 'completed', at: new Date(input.acceptedAt) } },
        },
        { upsert: true },
      );
    },

    /** A business failure: locks released, the reason kept, nothing else changed. Idempotent. */
    async failUpgrade(upgradeId: string, outcome: 'failed' | 'rejected', error: { code: string; message: string; details?: unknown }): Promise<void> {
      await endUpgrade(deps, upgradeId, outcome, { error }, { name: outcome, status: 'failed', detail: `${error.code}: ${error.message}` });
    },

    /**
     * Releases the locks and marks the upgrade completed. Idempotent. `held`: every subscription the run locked
     * (source, destination), which spares reading them back; runs recorded before it pass none.
     */
    async completeUpgrade(upgradeId: string, held?: readonly string[]): Promise<void> {
      await endUpgrade(deps, upgradeId, 'completed', { error: null }, { name: 'completed', status: 'completed' }, held);
    },

    /** Status changes the workflow decides on its own (e.g. waiting for a manual confirmation). */
    async markUpgradeStatus(upgradeId: string, status: UpgradeStatus): Promise<void> {
      await setUpgradeStatus(deps, upgradeId, status);
    },
  };
}
