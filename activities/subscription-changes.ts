import { reapplyScheduledChanges } from './scheduled-changes-kept';
import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import { toSubscription } from '../src/db/mappers';
import { lockSubscriptions } from '../src/db/subscription-locks';
import type { Installment, Subscription } from '../src/domain/types';
import type { InstallmentPlanChange, SubscriptionChange, UpgradePlan } from '../src/domain/upgrade-plan';
import type { UpgradeActivities, VendorOutcome } from '../workflows/activity-contract';
import { FAILURE_TYPES } from '../workflows/failure-types';
import type { UpgradeActivityDeps } from './deps';
import { loadPlan } from './frozen-plans';
import { updateUpgradeRecord } from './upgrade-record';
import { isDuplicateKeyError } from '../src/db/duplicate-key';

/** Internal id of the subscription a partial → new upgrade creates: derived, so a re-run finds the same one. */
function newSubscriptionIdFor(upgradeId: string): string {
  return `sub_${createHash('sha256').update(`new-subscription\u0000${upgradeId}`).digest('base64url').slice(0, 22)}`;
}

const sameInstallment = (a: Installment, b: Installment) =>
  a.periodStart === b.periodStart && a.periodEnd === b.periodEnd && a.amount === b.amount && a.quantity === b.quantity;

/**
 * The plan's installment change applied to the current schedule. Idempotent: an installment already added is not
 * added again, and cancelling a cancelled one changes nothing — so a repeated apply yields the same schedule.
 */
function applyInstallmentChange(current: readonly Installment[], change: InstallmentPlanChange | undefined): Installment[] | undefined {
  if (!change) return undefined;
  const cancelled = new Set(change.cancel.map((installment) => installment.periodStart));
  const kept = current.map((installment) =>
    installment.status === 'pending' && cancelled.has(installment.periodStart) && !change.add.some((added) => sameInstallment(added, installment))
      ? { ...installment, status: 'cancelled' as const }
      : installment,
  );
  return [...kept, ...change.add.filter((added) => !kept.some((existing) => existing.status === 'pending' && sameInstallment(existing, added)))];
}

async function isDuplicateKey(promise: Promise<unknown>): Promise<boolean> {
  try {
    await promise;
    return false;
  } catch (error) {
    if (isDuplicateKeyError(error)) return true;
    throw error;
  }
}

/**
 * Applies an upgrade's plan to its subscriptions and answers the destination and the subscriptions it touched; the
 * caller records them on the upgrade (alone, or in one write with the invoices: activities/changes-and-invoices.ts).
 */
export function subscriptionChangeApplier(deps: UpgradeActivityDeps) {
  /**
   * One update per subscription: the change, its installment plan and the "applied" mark together. The plan's values
   * are absolute (quantity := 6, not −4) and the subscription is locked, so even if the mark's check raced (FerretDB
   * does not apply conditional updates atomically) a second apply writes the same values.
   */
  async function applyChange(
    upgradeId: string,
    change: SubscriptionChange,
    installmentChange: InstallmentPlanChange | undefined,
  ): Promise<{ before: Subscription } | undefined> {
    const stored = await deps.models.subscriptions.findById(change.subscriptionId).lean();
    if (!stored) throw ApplicationFailure.nonRetryable(`subscription ${change.subscriptionId} vanished`, FAILURE_TYPES.upgradeDataInconsistent);
    // `?? []`: documents written by a `$setOnInsert` upsert (the demo seed, imports) lack mongoose's array defaults.
    if ((stored.appliedUpgradeIds ?? []).includes(upgradeId)) return undefined; // applied by an earlier attempt
    const before = toSubscription(stored);
    const installments = applyInstallmentChange(before.installmentPlan?.installments ?? [], installmentChange);
    const set: Record<string, unknown> = { ...change.set, ...(installments ? { installmentPlan: { installments } } : {}) };
    const unset = Object.fromEntries(change.unset.map((field) => [field, 1]));
    // Filter on `_id` alone: FerretDB 1.x scans the collection for anything else (see src/db/models.ts).
    await deps.models.subscriptions.updateOne(
      { _id: change.subscriptionId },
      { $set: set, ...(change.unset.length ? { $unset: unset } : {}), $addToSet: { appliedUpgradeIds: upgradeId } },
    );
    return { before };
  }

  /** The new subscription's vendor id as Microsoft's answer to the request named it (recorded with the transition). */
  async function requestedToSubscriptionId(upgradeId: string): Promise<string | undefined> {
    const upgrade = await deps.models.upgrades.findById(upgradeId, { vendor: 1 }).lean();
    const transition = (upgrade?.vendor as { transition?: { toSubscriptionId?: string | null } } | null | undefined)?.transition;
    return transition?.toSubscriptionId ?? undefined;
  }

  async function writeHistory(upgradeId: string, subscriptionId: string, event: string, at: string, description: string, before: unknown, after: unknown) {
    await isDuplicateKey(
      deps.models.historyEntries.create({ _id: `${upgradeId}:${subscriptionId}:${event}`, subscriptionId, upgradeId, event, at, description, before, after }),
    );
  }

  /**
   * The plan's subscription changes after the vendor completed: source, destination or the new co-termed
   * subscription, installment plans, and a history entry for each. Never rolled back; safe to repeat.
   */
  return async function applyPlanChanges(
    upgradeId: string,
    vendorOutcome: VendorOutcome,
    lockClaim?: string,
  ): Promise<{ destinationSubscriptionId: string; touched: string[] }> {
    const plan: UpgradePlan = await loadPlan(deps, upgradeId);
    const at = deps.clock().toISOString();
    const installmentFor = (id: string) => plan.installmentChanges.find((change) => change.subscriptionId === id);

    const sourceResult = await applyChange(upgradeId, plan.sourceChange, installmentFor(plan.sourceSubscriptionId));
    if (sourceResult) {
      await writeHistory(upgradeId, plan.sourceSubscriptionId, 'upgrade_source', at, plan.summary, plan.sourceChange.before, plan.sourceChange.set);
    }

    let destinationSubscriptionId = plan.destinationSubscriptionId ?? plan.sourceSubscriptionId;
    if (plan.destinationChange) {
      const destinationResult = await applyChange(upgradeId, plan.destinationChange, installmentFor(plan.destinationChange.subscriptionId));
      if (destinationResult) {
        await writeHistory(
          upgradeId,
          plan.destinationChange.subscriptionId,
          'upgrade_destination',
          at,
          plan.summary,
          plan.destinationChange.before,
          plan.destinationChange.set,
        );
      }
    } else if (plan.newSubscription) {
      // An outcome an operator confirmed may lack the id that Microsoft's answer to the request already named.
      const toSubscriptionId = vendorOutcome.toSubscriptionId ?? (await requestedToSubscriptionId(upgradeId));
      if (!toSubscriptionId) {
        throw ApplicationFailure.nonRetryable(
          'the vendor completed a partial upgrade without returning the new subscription id',
          FAILURE_TYPES.vendorResponseInvalid,
        );
      }
      destinationSubscriptionId = newSubscriptionIdFor(upgradeId);
      const created = {
        _id: destinationSubscriptionId,
        ...plan.newSubscription,
        externalId: toSubscriptionId,
        purchasedAt: `${plan.upgradeDate}T00:00:00.000Z`,
        appliedUpgradeIds: [upgradeId],
      };
      await isDuplicateKey(deps.models.subscriptions.create(created as never));
      // Born locked by this upgrade (until it completes), like the source: no second upgrade while seats move.
      await lockSubscriptions(deps.models, upgradeId, plan.newSubscription.accountId, [destinationSubscriptionId], lockClaim);
      await writeHistory(upgradeId, destinationSubscriptionId, 'upgrade_destination', at, plan.summary, null, plan.newSubscription);
    }
    await reapplyScheduledChanges(deps, upgradeId, plan);
    return { destinationSubscriptionId, touched: [plan.sourceSubscriptionId, destinationSubscriptionId] };
  };
}

export function createSubscriptionChangeActivities(deps: UpgradeActivityDeps) {
  const applyPlanChanges = subscriptionChangeApplier(deps);
  return {
    /** The plan's subscription changes (runs started before PATCHES.LEAN_SHAPE; later ones apply and invoice at once). */
    async applySubscriptionChanges(upgradeId: string, vendorOutcome: VendorOutcome, lockClaim?: string): Promise<{ destinationSubscriptionId: string }> {
      const { destinationSubscriptionId, touched } = await applyPlanChanges(upgradeId, vendorOutcome, lockClaim);
      await updateUpgradeRecord(deps, upgradeId, { addToSet: { subscriptionsTouched: touched } });
      return { destinationSubscriptionId };
    },
  } satisfies Partial<UpgradeActivities>;
}
