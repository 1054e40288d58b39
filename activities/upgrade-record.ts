import type { UpgradeWorkflowInput, UpgradeStatus, UpgradeStepRecord } from '../workflows/messages';
import type { UpgradeActivityDeps } from './deps';
import { releaseSubscriptions } from '../src/db/subscription-locks';

/** Record keeping for the upgrade document: status, steps, outcome. Every write is conditional or idempotent. */
export async function setUpgradeStatus(deps: UpgradeActivityDeps, upgradeId: string, status: UpgradeStatus): Promise<void> {
  // Never move a finished upgrade back (a late retry of an earlier step must not reopen it).
  await deps.models.upgrades.updateOne(
    { _id: upgradeId, status: { $nin: ['completed', 'rejected', 'failed'] } },
    { $set: { status } },
  );
}

/** Appends a step once: a retried activity finds its step already there and adds nothing. */
export async function recordStep(
  deps: UpgradeActivityDeps,
  upgradeId: string,
  step: Omit<UpgradeStepRecord, 'at'> & { at?: string },
): Promise<void> {
  await deps.models.upgrades.updateOne(
    { _id: upgradeId, 'steps.name': { $ne: step.name } },
    { $push: { steps: { ...step, at: step.at ? new Date(step.at) : deps.clock() } } },
  );
}

export function createUpgradeRecordActivities(deps: UpgradeActivityDeps) {
  return {
    /**
     * Writes the upgrade record if the API has not (a run started by the CLI or an operator), and marks it
     * `validating`. The API normally inserted it already, with the caller's fingerprint.
     */
    async recordUpgradeAccepted(input: UpgradeWorkflowInput): Promise<void> {
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
        },
        { upsert: true },
      );
      await recordStep(deps, input.upgradeId, { name: 'accepted', status: 'completed', at: input.acceptedAt });
    },

    /** A business failure: locks released, the reason kept, nothing else changed. Idempotent. */
    async failUpgrade(upgradeId: string, outcome: 'failed' | 'rejected', error: { code: string; message: string; details?: unknown }): Promise<void> {
      await releaseSubscriptions(deps.models, upgradeId);
      await deps.models.upgrades.updateOne(
        { _id: upgradeId, status: { $nin: ['completed', 'rejected', 'failed'] } },
        { $set: { status: outcome, error, completedAt: deps.clock() } },
      );
      await recordStep(deps, upgradeId, { name: outcome, status: 'failed', detail: `${error.code}: ${error.message}` });
    },

    /** Releases the locks and marks the upgrade completed. Idempotent. */
    async completeUpgrade(upgradeId: string): Promise<void> {
      await releaseSubscriptions(deps.models, upgradeId);
      await deps.models.upgrades.updateOne(
        { _id: upgradeId, status: { $nin: ['completed', 'rejected', 'failed'] } },
        { $set: { status: 'completed', completedAt: deps.clock(), error: null } },
      );
      await recordStep(deps, upgradeId, { name: 'completed', status: 'completed' });
    },

    /** Status changes the workflow decides on its own (e.g. waiting for a manual confirmation). */
    async markUpgradeStatus(upgradeId: string, status: UpgradeStatus): Promise<void> {
      await setUpgradeStatus(deps, upgradeId, status);
    },
  };
}
