import { ApplicationFailure } from '@temporalio/activity';
import { loadCatalog } from '../src/db/mappers';
import type { UpgradePlan } from '../src/domain/upgrade-plan';
import { LicenseShortageError, VendorError, VendorThrottledError } from '../src/partner-center/errors';
import type { SeatReassignmentState } from '../workflows/messages';
import type { UpgradeActivityDeps } from './deps';
import { loadPlan } from './frozen-plans';
import { recordStep, setUpgradeStatusReadingRecord, updateUpgradeRecord } from './upgrade-record';
import type { VendorOutcome, VendorRecord } from './vendor-transition';

export interface AutomaticReassignmentResult {
  movedUsers: number;
  by: 'vendor' | 'license_api';
}

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
    async reassignSeatsAutomatically(
      upgradeId: string,
      vendorLicenseReassignment?: VendorOutcome['licenseReassignment'],
    ): Promise<AutomaticReassignmentResult> {
      const plan: UpgradePlan = await loadPlan(deps, upgradeId);
      const doneByVendor = { name: 'seats_reassigned', status: 'completed', detail: 'by Microsoft (licence transfer)' } as const;
      if (vendorLicenseReassignment === 'completed') {
        await updateUpgradeRecord(deps, upgradeId, { status: 'reassigning_seats', step: doneByVendor });
        return { movedUsers: plan.quantity, by: 'vendor' };
      }
      const upgrade = await setUpgradeStatusReadingRecord(deps, upgradeId, 'reassigning_seats'); // and the vendor's record
      const vendor = upgrade?.vendor as VendorRecord | undefined;
      if (vendor?.outcome?.licenseReassignment === 'completed') {
        await recordStep(deps, upgradeId, doneByVendor);
        return { movedUsers: plan.quantity, by: 'vendor' };
      }
      if (!vendor) throw ApplicationFailure.nonRetryable(`upgrade ${upgradeId} has no vendor record`, 'VendorTransitionMissing');
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
        await recordStep(deps, upgradeId, { name: 'seats_reassigned', status: 'completed', detail: `${moved} user(s) via licence assignment` });
        return { movedUsers: moved, by: 'license_api' };
      } catch (error) {
        if (error instanceof LicenseShortageError) {
          // Often temporary (the conversion's seats not visible yet): retry with backoff, then manual.
          throw ApplicationFailure.retryable(error.message, error.name);
        }
        if (error instanceof VendorThrottledError) {
          throw ApplicationFailure.create({ type: error.name, message: error.message, nextRetryDelay: error.retryAfterMs });
        }
        if (error instanceof VendorError) {
          throw ApplicationFailure.create({ type: error.name, message: error.message, nonRetryable: !error.retryable });
        }
        throw error;
      }
    },

    /** Persists the seat reassignment state shown by `GET /v1/upgrades/:id` (and the status while waiting). */
    async recordSeatReassignmentState(upgradeId: string, state: SeatReassignmentState, awaitingConfirmation: boolean): Promise<void> {
      await updateUpgradeRecord(deps, upgradeId, {
        ...(awaitingConfirmation ? { status: 'awaiting_manual_seat_reassignment' as const } : {}),
        set: { seatReassignment: state },
        ...(state.state === 'confirmed'
          ? { step: { name: 'seats_reassigned', status: 'completed' as const, detail: `manually, confirmed by ${state.confirmedBy ?? 'unknown'}` } }
          : {}),
      });
    },
  };
}
