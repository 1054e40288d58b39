import { planSummaryOf, type PlanSummary, type UpgradePlan, type UpgradeRequest } from '../domain';
import type { UpgradeUseCaseDeps } from './deps';
import { planFor } from './start';

/**
 * An operator retry of a failed upgrade. When Microsoft never converted anything — no transition was recorded, or
 * Partner Center failed the conversion — nothing was charged for the old date, so the retry re-checks eligibility and
 * re-freezes the plan on the retry date (new upgrade date, new quote); the upgrade record keeps both plans. Once a
 * transition was requested and did not fail, Microsoft may have converted (and charged) on the frozen date: the
 * frozen plan stays. The new run then finds the re-frozen plan and goes on as any run (activities/frozen-plans.ts
 * never keeps a plan read before the conversion, so no worker serves the old one).
 */
export interface VendorRecordSummary {
  outcome?: { conversion?: string };
}

/** True when no vendor transition was recorded or Partner Center failed the conversion. */
export function retryReplans(vendor: VendorRecordSummary | null | undefined): boolean {
  return !vendor || vendor.outcome?.conversion === 'failed';
}

export type RetryPlanning = { replanned: false; reason: string } | { replanned: true; previous: PlanSummary | null; current: PlanSummary; plan: UpgradePlan };

export interface RetryingUpgrade {
  id: string;
  request: UpgradeRequest;
  vendor: VendorRecordSummary | null | undefined;
}

/**
 * Plans the retry of `upgrade` on the clock's date (an operator's action: no account scope). The caller already holds
 * the upgrade's locks (its own locks do not make it busy). Refuses with NOT_ELIGIBLE (every reason) when it no longer
 * is; writes the new plan and the record's history of plans only when it re-plans and is eligible.
 */
export async function planRetry(deps: UpgradeUseCaseDeps, upgrade: RetryingUpgrade): Promise<RetryPlanning> {
  if (!retryReplans(upgrade.vendor)) {
    return { replanned: false, reason: 'Partner Center was asked for the transition and did not fail it: the frozen plan (its date and quote) stays' };
  }
  const now = deps.clock();
  const { plan } = await planFor(deps, undefined, upgrade.request, now, upgrade.id);
  const { models } = deps;
  const previousPlan = (await models.upgradePlans.findById(upgrade.id).lean())?.plan as UpgradePlan | undefined;
  const previous = previousPlan ? planSummaryOf(previousPlan) : null;
  const current = planSummaryOf(plan);
  // The one replacement of a frozen plan (see activities/frozen-plans.ts): absolute values, so a repeat is harmless.
  await models.upgradePlans.replaceOne({ _id: upgrade.id }, { _id: upgrade.id, plan }, { upsert: true });
  await models.upgrades.updateOne(
    { _id: upgrade.id },
    {
      $set: { plan: current, upgradeDate: current.upgradeDate, kind: plan.kind, destinationType: plan.destinationType },
      $push: { replans: { at: now.toISOString(), previous, current } },
    },
  );
  return { replanned: true, previous, current, plan };
}
