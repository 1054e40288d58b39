import { ApplicationFailure } from '@temporalio/activity';
import { LRUCache } from 'lru-cache';
import type { Models } from '../src/db/models';
import type { UpgradePlan } from '../src/domain/upgrade-plan';
import { FAILURE_TYPES } from '../workflows/failure-types';
import type { UpgradeActivityDeps } from './deps';
import { isDuplicateKeyError } from '../src/db/duplicate-key';

/*
 * The plan an upgrade was validated with — quote, upgrade date, every change — is frozen by inserting it into
 * `upgrade_plans` under the upgrade id: the first insert wins. One thing replaces it: an operator retry of an upgrade
 * that failed before Microsoft converted anything re-plans it on the retry date (src/upgrades/replan-on-retry.ts).
 * After the conversion a plan never changes, so a plan read after it can be kept in memory: the activities after the
 * conversion would otherwise read it again each (the workflow does not carry it, to keep the history small). A plan
 * read before the conversion is never kept, because another worker could still be serving it after a re-plan. The
 * cache is bounded and per database connection (tests run several databases in one process).
 */
const PLANS_KEPT_PER_DATABASE = 2_000;
const plansByDatabase = new WeakMap<Models, LRUCache<string, UpgradePlan>>();

function plansOf(models: Models): LRUCache<string, UpgradePlan> {
  let plans = plansByDatabase.get(models);
  if (!plans) {
    plans = new LRUCache<string, UpgradePlan>({ max: PLANS_KEPT_PER_DATABASE });
    plansByDatabase.set(models, plans);
  }
  return plans;
}

/** When the plan is read: by an activity that runs only after the vendor's completed conversion, or possibly before. */
export type PlanReadMoment = 'afterConversion' | 'maybeBeforeConversion';

export async function findPlan(deps: UpgradeActivityDeps, upgradeId: string, moment: PlanReadMoment = 'afterConversion'): Promise<UpgradePlan | undefined> {
  const plans = plansOf(deps.models);
  // Only plans read after a conversion are kept: a kept plan is final, whoever reads it.
  const known = plans.get(upgradeId);
  if (known) return known;
  const plan = (await deps.models.upgradePlans.findById(upgradeId).lean())?.plan as UpgradePlan | undefined;
  if (plan && moment === 'afterConversion') plans.set(upgradeId, plan);
  return plan;
}

export async function loadPlan(deps: UpgradeActivityDeps, upgradeId: string, moment: PlanReadMoment = 'afterConversion'): Promise<UpgradePlan> {
  const plan = await findPlan(deps, upgradeId, moment);
  if (!plan) throw ApplicationFailure.nonRetryable(`upgrade ${upgradeId} has no validated plan`, FAILURE_TYPES.upgradePlanMissing);
  return plan;
}

/** Freezes the plan: the first insert wins, and every later attempt (a retry, a racing run) gets the frozen one. Not kept: see above. */
export async function freezePlan(deps: UpgradeActivityDeps, upgradeId: string, plan: UpgradePlan): Promise<UpgradePlan> {
  try {
    await deps.models.upgradePlans.create({ _id: upgradeId, plan });
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
    return loadPlan(deps, upgradeId, 'maybeBeforeConversion');
  }
  return plan;
}
