/**
 * An immediate upgrade deletes every change scheduled for its source's renewal at Microsoft ("If you make a mid-term
 * (immediate) change before your renewal date, all scheduled changes that were previously scheduled to occur at
 * renewal are deleted": https://learn.microsoft.com/en-us/partner-center/developer/create-scheduled-changes). Right
 * before the transition's POST the source's scheduled change is read and recorded on the upgrade
 * (`scheduledChangesDeleted`); after the conversion, a change that is not an upgrade (the source's own product, e.g. a
 * quantity change at renewal) is written again on the source when the source keeps its product (a partial upgrade, or
 * into an existing subscription). An upgrade at renewal is not re-applied: the immediate upgrade replaces it, and it
 * ends `rejected` at once (SCHEDULED_CHANGE_REMOVED) with its webhook. Both run inside existing activities, so the
 * UpgradeWorkflow's commands are unchanged. docs/scheduled-upgrades.md, "An immediate upgrade and scheduled changes".
 */
import { fateOfDeletedScheduledChange, scheduledCatalogItemIdOf } from '../src/domain/deleted-scheduled-change';
import type { UpgradePlan } from '../src/domain/upgrade-plan';
import { VendorBusinessRejectionError, VendorPreconditionFailedError, type ScheduledNextTermInstructions } from '../src/partner-center';
import { Context } from '@temporalio/activity';
import { endScheduledUpgrade } from '../src/upgrades/schedule';
import { scheduledUpgradeReplacedSignal, scheduledWorkflowIdOf } from '../workflows/scheduled-upgrade-contract';
import type { UpgradeActivityDeps } from './deps';
import { createNotificationActivities } from './notifications';

/** Before the POST: records the source's scheduled change Microsoft is about to delete (once; a failed read records nothing). */
export async function recordScheduledChangesBeforeTransition(
  deps: UpgradeActivityDeps,
  upgradeId: string,
  customerTenantId: string,
  vendorSubscriptionId: string,
) {
  try {
    const source = await deps.vendor.getSubscription(customerTenantId, vendorSubscriptionId, { upgradeId });
    if (!source.scheduledNextTermInstructions) return;
    await deps.models.upgrades.updateOne(
      { _id: upgradeId, scheduledChangesDeleted: { $exists: false } },
      { $set: { scheduledChangesDeleted: { customerTenantId, vendorSubscriptionId, instructions: source.scheduledNextTermInstructions } } },
    );
  } catch (error) {
    // Never blocks the upgrade: the change is then not re-applied, and the log says so.
    deps.logger.warn({ err: error, upgradeId }, 'could not read the source scheduled changes before the transition');
  }
}

interface DeletedChange {
  customerTenantId: string;
  vendorSubscriptionId: string;
  instructions: ScheduledNextTermInstructions;
}

/** After the conversion: writes again a recorded change that is not an upgrade, when the source keeps its product. Idempotent. */
export async function reapplyScheduledChanges(deps: UpgradeActivityDeps, upgradeId: string, plan: UpgradePlan): Promise<void> {
  const record = await deps.models.upgrades.findById(upgradeId, { scheduledChangesDeleted: 1, steps: 1 }).lean();
  const deleted = (record?.scheduledChangesDeleted ?? undefined) as DeletedChange | undefined;
  if (!deleted || (record?.steps as Record<string, unknown> | undefined)?.scheduled_changes) return;
  const fate = fateOfDeletedScheduledChange(scheduledCatalogItemIdOf(deleted.instructions), plan);
  let detail: string;
  if (fate === 'replaced') detail = await endReplacedRenewalUpgrade(deps, upgradeId, plan, scheduledCatalogItemIdOf(deleted.instructions));
  else if (fate === 'source_converted') detail = "Microsoft deleted the source's scheduled change; not re-applied: the source converted in full";
  else detail = await writeAgain(deps, upgradeId, deleted);
  await deps.models.upgrades.updateOne({ _id: upgradeId }, { $set: { 'steps.scheduled_changes': { status: 'completed', at: deps.clock(), detail } } });
}

/**
 * The deleted change was an upgrade at renewal: ours (the source's `renewalUpgrade`) ends `rejected` at once with
 * SCHEDULED_CHANGE_REMOVED and its `upgrade_failed` webhook (the outbox keeps an undelivered one); its workflow, on
 * the renewal day, finds it ended and ends the same way without a second webhook.
 */
async function endReplacedRenewalUpgrade(deps: UpgradeActivityDeps, upgradeId: string, plan: UpgradePlan, target: string): Promise<string> {
  const source = await deps.models.subscriptions.findById(plan.sourceSubscriptionId, { renewalUpgrade: 1 }).lean();
  const replaced = source?.renewalUpgrade?.upgradeId;
  if (!replaced) return `Microsoft deleted the source's scheduled change into ${target} (not one of ours)`;
  await endScheduledUpgrade(deps, replaced, 'rejected', {
    reasons: [
      {
        code: 'SCHEDULED_CHANGE_REMOVED',
        message: `the immediate upgrade ${upgradeId} of the subscription made Microsoft delete this upgrade's scheduled change; the subscription renews as it is`,
      },
    ],
  });
  try {
    await createNotificationActivities(deps).sendUpgradeNotification(replaced, 'upgrade_failed');
  } catch (error) {
    deps.logger.warn({ err: error, upgradeId: replaced }, 'upgrade_failed of the replaced upgrade at renewal left for redelivery');
  }
  await wakeReplacedScheduledRun(deps, replaced, upgradeId);
  return `Microsoft deleted the scheduled change into ${target}: the upgrade at renewal ${replaced} it replaces ended rejected`;
}

/**
 * Wakes the replaced upgrade's waiting run so it ends now rather than on its renewal day (its search attribute would say
 * `scheduled` until then). Best effort: a run that does not get it ends the same way on the day.
 */
async function wakeReplacedScheduledRun(deps: UpgradeActivityDeps, replaced: string, byUpgradeId: string) {
  try {
    await Context.current().client.workflow.getHandle(scheduledWorkflowIdOf(replaced)).signal(scheduledUpgradeReplacedSignal, { byUpgradeId });
  } catch (error) {
    deps.logger.warn({ err: error, upgradeId: replaced }, 'the replaced upgrade at renewal was not woken; its run ends on the renewal day');
  }
}

async function writeAgain(deps: UpgradeActivityDeps, upgradeId: string, deleted: DeletedChange): Promise<string> {
  const { customerTenantId, vendorSubscriptionId, instructions } = deleted;
  const what = `${instructions.quantity} seats of ${scheduledCatalogItemIdOf(instructions)} at renewal`;
  for (let attempt = 1; ; attempt++) {
    const source = await deps.vendor.getSubscription(customerTenantId, vendorSubscriptionId, { upgradeId });
    if (source.status !== 'active') return `not re-applied (${what}): the source is ${source.status}`;
    if (source.scheduledNextTermInstructions) return `not re-applied (${what}): the source has another scheduled change`;
    try {
      await deps.vendor.updateRenewalSettings(customerTenantId, source, { autoRenewEnabled: true, scheduledNextTermInstructions: instructions }, { upgradeId });
      return `re-applied the scheduled change Microsoft deleted: ${what}`;
    } catch (error) {
      if (error instanceof VendorPreconditionFailedError && attempt < 3) continue;
      if (error instanceof VendorBusinessRejectionError) return `not re-applied (${what}): Microsoft refused it: ${error.description}`;
      throw error;
    }
  }
}
