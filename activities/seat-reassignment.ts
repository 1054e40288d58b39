import { ApplicationFailure } from '@temporalio/activity';
import { loadCatalog } from '../src/db/mappers';
import type { UpgradePlan } from '../src/domain/upgrade-plan';
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
     * we swap licences user by user through the Graph-style assignLicense call. Users already holding the target
     * count as moved, so a retry continues where the last attempt stopped. Throws (retryably) on a shortage; the
     * workflow falls back to manual reassignment when the retries run out.
     * `vendorLicenseReassignment`: the vendor outcome's, as the workflow knows it (runs recorded before it pass none).
     */
    async reassignSeatsAutomatically(upgradeId: string, vendorLicenseReassignment?: VendorLicenseReassignment): Promise<AutomaticReassignmentResult> {
      const plan: UpgradePlan = await loadPlan(deps, upgradeId);
      if (vendorLicenseReassignment === 'completed') return { movedUsers: plan.quantity, by: 'vendor' };
      const upgrade = await deps.models.upgrades.findById(upgradeId, { vendor: 1 }).lean();
      const vendor = (upgrade?.vendor ?? undefined) as VendorRecord | undefined;
      if (vendor?.outcome?.licenseReassignment === 'completed') return { movedUsers: plan.quantity, by: 'vendor' };
      if (!vendor) throw ApplicationFailure.nonRetryable(`upgrade ${upgradeId} has no vendor record`, FAILURE_TYPES.vendorTransitionMissing);
      const catalog = await loadCatalog(deps.models);
      const fromSku = catalog.require(plan.sourceProductId).entraSkuId.toLowerCase();
      const toSku = catalog.require(plan.targetProductId).entraSkuId.toLowerCase();
      try {
        const users = await deps.vendor.listUsers(vendor.customerTenantId, { correlationId: upgradeId });
        const holds = (user: (typeof users)[number], sku: string) => user.assignedLicenses.some((l) => l.skuId.toLowerCase() === sku);
        let moved = users.filter((user) => holds(user, toSku) && !holds(user, fromSku)).length;
        for (const user of users.filter((candidate) => holds(candidate, fromSku))) {
          if (moved >= plan.quantity) break;
          await deps.vendor.assignLicense(
            vendor.customerTenantId,
            user.id,
            { addLicenses: [{ skuId: toSku, disabledPlans: [] }], removeLicenses: [fromSku] },
            { correlationId: upgradeId },
          );
          moved += 1;
        }
        return { movedUsers: moved, by: 'license_api' };
      } catch (error) {
        throw vendorFailure(error, { licenseShortageIsTemporary: true });
      }
    },
  } satisfies Partial<UpgradeActivities>;
}
