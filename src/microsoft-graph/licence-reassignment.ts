/**
 * Moving `quantity` users' licences from one Entra SKU to another through Microsoft Graph, resumable: each user is
 * recorded (`recordMoving`) before its assignLicense call, so a retried attempt counts the users an earlier attempt
 * moved — they no longer hold the source SKU and would otherwise be invisible — and finishes a recorded user whose
 * call never happened. Only users this upgrade moved are counted; a user who already held the target is not.
 *
 * Group-inherited licences (`licenseAssignmentStates[].assignedByGroup`) cannot be changed per user
 * (https://learn.microsoft.com/en-us/entra/identity/users/licensing-group-advanced): those holders are skipped and
 * reported; the group's licence is the customer's administrator's to change.
 */
import { LicenseShortageError, VendorError } from '../partner-center/errors';
import type { GraphCallContext, GraphClient } from './graph-client';
import type { LicensedUser } from './graph-schemas';

export interface LicenceReassignmentInput {
  customerTenantId: string;
  fromSkuId: string;
  toSkuId: string;
  quantity: number;
  /** Users recorded by earlier attempts of this upgrade. */
  alreadyRecorded: readonly string[];
  /** Persist a user as moved by this upgrade, before the call. */
  recordMoving(userId: string): Promise<void>;
  /** Forget a recorded user whose call failed for good. */
  forgetMoving(userId: string): Promise<void>;
  context?: GraphCallContext;
}

export interface LicenceReassignmentResult {
  movedUserIds: string[];
  /** Holders of the source SKU through a group, left as they are. */
  groupInheritedUserIds: string[];
}

const same = (left: string | null | undefined, right: string) => left?.toLowerCase() === right.toLowerCase();

function holdsDirectly(user: LicensedUser, skuId: string): boolean {
  const states = user.licenseAssignmentStates.filter((state) => same(state.skuId, skuId));
  // Without assignment states (not selected, or an older tenant) an assigned licence counts as direct.
  if (states.length === 0) return user.assignedLicenses.some((license) => same(license.skuId, skuId));
  return states.some((state) => !state.assignedByGroup);
}

export async function reassignLicences(graph: GraphClient, input: LicenceReassignmentInput): Promise<LicenceReassignmentResult> {
  const { customerTenantId, fromSkuId, toSkuId, context } = input;
  const recorded = new Set(input.alreadyRecorded.map((id) => id.toLowerCase()));
  let budget = input.quantity - recorded.size;
  const groupInheritedUserIds: string[] = [];
  const moved = [...input.alreadyRecorded];

  if (budget > 0) {
    // Map the SKUs in this tenant first: a target the tenant does not show yet (or without free seats) is a shortage
    // the activity retries later, before any user is touched.
    const skus = await graph.subscribedSkus(customerTenantId, context);
    const target = skus.find((sku) => same(sku.skuId, toSkuId));
    const free = target === undefined ? 0 : target.prepaidUnits.enabled - target.consumedUnits;
    if (free < budget) {
      throw new LicenseShortageError(
        `tenant ${customerTenantId} has ${free} free licence(s) of SKU ${toSkuId}, ${budget} needed${target === undefined ? ' (SKU not subscribed yet)' : ''}`,
        toSkuId,
      );
    }
  }

  const move = async (user: LicensedUser) => {
    const holdsTarget = user.assignedLicenses.some((license) => same(license.skuId, toSkuId));
    await graph.assignLicense(
      customerTenantId,
      user.id,
      { addLicenses: holdsTarget ? [] : [{ skuId: toSkuId, disabledPlans: [] }], removeLicenses: [fromSkuId] },
      context,
    );
  };

  for await (const page of graph.licenseHolders(customerTenantId, fromSkuId, context)) {
    for (const user of page) {
      if (!holdsDirectly(user, fromSkuId)) {
        groupInheritedUserIds.push(user.id);
        continue;
      }
      if (recorded.has(user.id.toLowerCase())) {
        await move(user); // recorded by an attempt that stopped before its call
        continue;
      }
      if (budget <= 0) continue;
      await input.recordMoving(user.id);
      recorded.add(user.id.toLowerCase());
      moved.push(user.id);
      budget -= 1;
      try {
        await move(user);
      } catch (error) {
        if (error instanceof VendorError && !error.retryable) {
          await input.forgetMoving(user.id);
          moved.pop();
        }
        throw error;
      }
    }
    // Every user is seen once when nothing was recorded before; otherwise the whole list is read for recorded ones.
    if (budget <= 0 && input.alreadyRecorded.length === 0) break;
  }
  return { movedUserIds: moved, groupInheritedUserIds };
}
