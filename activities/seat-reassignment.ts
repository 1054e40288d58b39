import { ApplicationFailure } from '@temporalio/activity';
import { loadCatalog } from '../src/db/mappers';
import type { UpgradePlan } from '../src/domain/upgrade-plan';
import { GraphConsentMissingError } from '../src/microsoft-graph/graph-errors';
import { reassignLicences } from '../src/microsoft-graph/licence-reassignment';
import { LicenseShortageError, VendorError, VendorThrottledError } from '../src/partner-center/errors';
import type { SeatReassignmentState } from '../workflows/messages';
import type { UpgradeActivityDeps } from './deps';
import { loadPlan } from './frozen-plans';
import { recordStep, setUpgradeStatusReadingRecord, updateUpgradeRecord } from './upgrade-record';
import type { VendorOutcome, VendorRecord } from './vendor-transition';

export interface AutomaticReassignmentResult {
  /** By us: the length of `movedUserIds`; by Microsoft: the seats it transferred. */
  movedUsers: number;
  by: 'vendor' | 'license_api';
  /** Users whose licences this upgrade moved through Microsoft Graph. */
  movedUserIds?: string[];
  /** Holders of the source licence through a group: left alone (the group's licence is changed on the group). */
  groupInheritedUserIds?: string[];
}

export function createSeatReassignmentActivities(deps: UpgradeActivityDeps) {
  return {
    /**
     * Moves the licences of `quantity` users from the source SKU to the target SKU. When Microsoft already did it
     * (transition_with_license_transfer and a completed LicenseReassignment event) there is nothing to do; otherwise
     * we move them through Microsoft Graph in the customer's tenant (src/microsoft-graph/licence-reassignment.ts): the
     * users moved are recorded on the upgrade (`licenceMovedUserIds`) and counted, so a retry continues where the last
     * attempt stopped. Throws (retryably) on a shortage; a tenant without the app's consent is final and recorded on
     * the account. The workflow falls back to manual reassignment, with the error as the reason.
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
      const tenant = vendor.customerTenantId;
      try {
        const result = await reassignLicences(deps.graph, {
          customerTenantId: tenant,
          fromSkuId: fromSku,
          toSkuId: toSku,
          quantity: plan.quantity,
          alreadyRecorded: (upgrade as { licenceMovedUserIds?: string[] } | null)?.licenceMovedUserIds ?? [],
          recordMoving: (userId) => updateUpgradeRecord(deps, upgradeId, { addToSet: { licenceMovedUserIds: [userId] } }),
          forgetMoving: async (userId) => {
            await deps.models.upgrades.updateOne({ _id: upgradeId }, { $pull: { licenceMovedUserIds: userId } });
          },
          context: { upgradeId },
        });
        const groupNote = result.groupInheritedUserIds.length
          ? `; ${result.groupInheritedUserIds.length} holder(s) inherit the licence from a group and were left to the group: ${result.groupInheritedUserIds.slice(0, 20).join(', ')}`
          : '';
        await updateUpgradeRecord(deps, upgradeId, {
          set: { licenceGroupInheritedUserIds: result.groupInheritedUserIds },
          step: { name: 'seats_reassigned', status: 'completed', detail: `${result.movedUserIds.length} user(s) moved through Microsoft Graph${groupNote}` },
        });
        await recordGraphConsent(deps, plan.accountId ?? upgrade?.accountId, { state: 'granted' });
        return { movedUsers: result.movedUserIds.length, by: 'license_api', ...result };
      } catch (error) {
        if (error instanceof GraphConsentMissingError) {
          await recordGraphConsent(deps, plan.accountId ?? upgrade?.accountId, { state: 'missing', code: error.microsoftCode, detail: error.message });
          throw ApplicationFailure.nonRetryable(error.message, error.name);
        }
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

/** What the account's view shows about the partner's Graph app in the customer's tenant. */
async function recordGraphConsent(
  deps: UpgradeActivityDeps,
  accountId: string | undefined,
  consent: { state: 'granted' } | { state: 'missing'; code: string; detail: string },
): Promise<void> {
  if (!accountId) return;
  await deps.models.accounts.updateOne({ _id: accountId }, { $set: { graphConsent: { ...consent, checkedAt: deps.clock() } } });
}
