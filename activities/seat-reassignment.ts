import { ApplicationFailure } from '@temporalio/activity';
import { loadCatalog } from '../src/db/mappers';
import type { UpgradePlan } from '../src/domain/upgrade-plan';
import { GraphConsentMissingError } from '../src/microsoft-graph/graph-errors';
import { reassignLicences } from '../src/microsoft-graph/licence-reassignment';
import type { AutomaticReassignmentResult, UpgradeActivities, VendorLicenseReassignment, VendorRecord } from '../workflows/activity-contract';
import { FAILURE_TYPES } from '../workflows/failure-types';
import type { UpgradeActivityDeps } from './deps';
import { loadPlan } from './frozen-plans';
import { vendorFailure } from './vendor-failures';

export function createSeatReassignmentActivities(deps: UpgradeActivityDeps) {
  return {
    /**
     * Moves the licences of `quantity` users from the source SKU to the target SKU. When Microsoft already did it
     * (transition_with_license_transfer and a completed LicenseReassignment event) there is nothing to do; otherwise
     * we move them through Microsoft Graph in the customer's tenant (src/microsoft-graph/licence-reassignment.ts): the
     * users moved are recorded on the upgrade (`licenceMovedUserIds`) before each call and counted, so a retry
     * continues where the last attempt stopped. Throws (retryably) on a shortage; a tenant without the app's consent
     * is final and recorded on the account. The workflow falls back to manual reassignment, with the error as reason.
     * `vendorLicenseReassignment`: the vendor outcome's, as the workflow knows it (runs recorded before it pass none).
     */
    async reassignSeatsAutomatically(upgradeId: string, vendorLicenseReassignment?: VendorLicenseReassignment): Promise<AutomaticReassignmentResult> {
      const plan: UpgradePlan = await loadPlan(deps, upgradeId);
      if (vendorLicenseReassignment === 'completed') return { movedUsers: plan.quantity, by: 'vendor' };
      const upgrade = await deps.models.upgrades.findById(upgradeId, { vendor: 1, accountId: 1, licenceMovedUserIds: 1 }).lean();
      const vendor = (upgrade?.vendor ?? undefined) as VendorRecord | undefined;
      if (vendor?.outcome?.licenseReassignment === 'completed') return { movedUsers: plan.quantity, by: 'vendor' };
      if (!vendor) throw ApplicationFailure.nonRetryable(`upgrade ${upgradeId} has no vendor record`, FAILURE_TYPES.vendorTransitionMissing);
      const catalog = await loadCatalog(deps.models);
      const fromSku = catalog.require(plan.sourceProductId).entraSkuId.toLowerCase();
      const toSku = catalog.require(plan.targetProductId).entraSkuId.toLowerCase();
      const accountId = plan.accountId ?? upgrade?.accountId;
      try {
        const result = await reassignLicences(deps.graph, {
          customerTenantId: vendor.customerTenantId,
          fromSkuId: fromSku,
          toSkuId: toSku,
          quantity: plan.quantity,
          alreadyRecorded: upgrade?.licenceMovedUserIds ?? [],
          recordMoving: async (userId) => {
            await deps.models.upgrades.updateOne({ _id: upgradeId }, { $addToSet: { licenceMovedUserIds: userId } });
          },
          forgetMoving: async (userId) => {
            await deps.models.upgrades.updateOne({ _id: upgradeId }, { $pull: { licenceMovedUserIds: userId } });
          },
          context: { upgradeId },
        });
        // Holders through a group are left to the group: named on the upgrade for the operator.
        if (result.groupInheritedUserIds.length > 0) {
          await deps.models.upgrades.updateOne({ _id: upgradeId }, { $set: { licenceGroupInheritedUserIds: result.groupInheritedUserIds } });
        }
        await recordGraphConsent(deps, accountId, { state: 'granted' });
        return { movedUsers: result.movedUserIds.length, by: 'license_api', ...result };
      } catch (error) {
        if (error instanceof GraphConsentMissingError) {
          await recordGraphConsent(deps, accountId, { state: 'missing', code: error.microsoftCode, detail: error.message });
          throw ApplicationFailure.nonRetryable(error.message, error.name);
        }
        throw vendorFailure(error, { licenseShortageIsTemporary: true });
      }
    },
  } satisfies Partial<UpgradeActivities>;
}

/** What the account's view shows about the partner's Graph app in the customer's tenant. */
async function recordGraphConsent(
  deps: UpgradeActivityDeps,
  accountId: string | undefined,
  consent: { state: 'granted' } | { state: 'missing'; code: string; detail: string },
): Promise<void> {
  if (!accountId) return;
  await deps.models.accounts.updateOne({ _id: accountId }, { $set: { graphConsent: { ...consent, checkedAt: deps.clock() } } });
}
