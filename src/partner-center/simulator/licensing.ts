/**
 * Microsoft Graph's licence side of a customer tenant, as the simulator plays it. A tenant's seats per Entra SKU are
 * the quantities of its subscriptions on products mapped to that SKU; a user consumes one seat per SKU, whether the
 * licence is assigned directly or inherited from a group. Shapes and rules:
 * - subscribedSku: https://learn.microsoft.com/en-us/graph/api/resources/subscribedsku
 * - user.assignedLicenses / licenseAssignmentStates (`assignedByGroup`):
 *   https://learn.microsoft.com/en-us/graph/api/resources/licenseassignmentstate
 * - assignLicense (both arrays required; a group-inherited licence cannot be removed from the user):
 *   https://learn.microsoft.com/en-us/graph/api/user-assignlicense ,
 *   https://learn.microsoft.com/en-us/entra/identity/users/licensing-group-advanced
 */
import { z } from 'zod';
import type { FaultSettings } from './faults';
import { graphError } from './http-errors';
import { idKey, type SimulatedUser, type SimulatorState } from './state';

const holds = (user: SimulatedUser, skuId: string) => user.assignedLicenses.some((license) => idKey(license.skuId) === idKey(skuId));

export function subscribedSkus(state: SimulatorState, customerTenantId: string) {
  const skus = new Map<string, { skuId: string; skuPartNumber: string | undefined; enabled: number; suspended: number }>();
  const skuEntry = (skuId: string, skuPartNumber?: string) => {
    let entry = skus.get(idKey(skuId));
    if (entry === undefined) {
      entry = { skuId, skuPartNumber, enabled: 0, suspended: 0 };
      skus.set(idKey(skuId), entry);
    }
    return entry;
  };
  for (const subscription of state.subscriptionsOf(customerTenantId)) {
    const product = state.product(subscription.offerId);
    if (product === undefined) continue;
    const entry = skuEntry(product.entraSkuId, product.skuPartNumber);
    if (subscription.status === 'active') entry.enabled += subscription.quantity;
    if (subscription.status === 'suspended') entry.suspended += subscription.quantity;
  }
  const users = state.usersOf(customerTenantId);
  for (const user of users) for (const license of user.assignedLicenses) skuEntry(license.skuId);
  return [...skus.values()].map((sku) => ({
    id: `${customerTenantId}_${sku.skuId}`,
    skuId: sku.skuId,
    skuPartNumber: sku.skuPartNumber ?? null,
    appliesTo: 'User',
    capabilityStatus: sku.enabled > 0 ? 'Enabled' : 'Suspended',
    prepaidUnits: { enabled: sku.enabled, suspended: sku.suspended, warning: 0, lockedOut: 0 },
    consumedUnits: users.filter((user) => holds(user, sku.skuId)).length,
  }));
}

/** A user as Graph returns it: one `assignedLicenses` entry per SKU, one `licenseAssignmentStates` entry per assignment. */
export function userToGraph(user: SimulatedUser) {
  const distinct = new Map(user.assignedLicenses.map((license) => [idKey(license.skuId), license]));
  return {
    id: user.id,
    userPrincipalName: user.userPrincipalName,
    displayName: user.displayName ?? user.userPrincipalName,
    assignedLicenses: [...distinct.values()].map((license) => ({ skuId: license.skuId, disabledPlans: license.disabledPlans })),
    licenseAssignmentStates: user.assignedLicenses.map((license) => ({
      skuId: license.skuId,
      assignedByGroup: license.assignedByGroup ?? null,
      disabledPlans: license.disabledPlans,
      state: 'Active',
      error: 'None',
    })),
  };
}

/** The one filter Graph documents for "users holding a SKU": `assignedLicenses/any(x:x/skuId eq {guid})`. */
const SKU_FILTER = /^assignedLicenses\/any\((\w+):\1\/skuId eq ([0-9a-fA-F-]{36})\)$/;

export function parseSkuFilter(filter: string): string | undefined {
  return SKU_FILTER.exec(filter.trim())?.[2];
}

/** Both arrays are required by Graph (pass `[]` when unused). */
const assignLicenseBodySchema = z.object({
  addLicenses: z.array(z.object({ skuId: z.string().min(1), disabledPlans: z.array(z.string()).default([]) })),
  removeLicenses: z.array(z.string()),
});

const noAvailableLicenses = (skuId: string) => graphError(400, 'Request_BadRequest', `Subscription with SKU ${skuId} does not have any available licenses.`);

/** Adds and removes in one step, as Graph does; refuses an add that would exceed the seats. */
export function assignLicense(state: SimulatorState, faults: FaultSettings, customerTenantId: string, userId: string, body: unknown): SimulatedUser {
  state.counters.assignLicenseCalls += 1;
  const user = state
    .usersOf(customerTenantId)
    .find((candidate) => idKey(candidate.id) === idKey(userId) || idKey(candidate.userPrincipalName) === idKey(userId));
  if (user === undefined)
    throw graphError(404, 'Request_ResourceNotFound', `Resource '${userId}' does not exist or one of its queried reference-property objects are not present.`);
  const parsed = assignLicenseBodySchema.safeParse(body);
  if (!parsed.success) throw graphError(400, 'Request_BadRequest', 'Invalid value specified for property addLicenses or removeLicenses.');

  let licenses = [...user.assignedLicenses];
  for (const skuId of parsed.data.removeLicenses) {
    const direct = licenses.filter((license) => idKey(license.skuId) === idKey(skuId) && license.assignedByGroup === undefined);
    if (direct.length === 0) {
      const inherited = licenses.some((license) => idKey(license.skuId) === idKey(skuId));
      throw graphError(
        400,
        'Request_BadRequest',
        inherited
          ? 'User license is inherited from a group membership and it cannot be removed directly from the user.'
          : `User does not have a corresponding license (${skuId}).`,
      );
    }
    licenses = licenses.filter((license) => !direct.includes(license));
  }
  const skus = subscribedSkus(state, customerTenantId);
  for (const license of parsed.data.addLicenses) {
    const heldDirectly = licenses.find((held) => idKey(held.skuId) === idKey(license.skuId) && held.assignedByGroup === undefined);
    if (heldDirectly !== undefined) {
      heldDirectly.disabledPlans = license.disabledPlans; // re-adding a held SKU updates its disabled plans, as Graph does
      continue;
    }
    const forcedShortage =
      faults.licenseShortage === true ||
      (Array.isArray(faults.licenseShortage) && faults.licenseShortage.some((skuId) => idKey(skuId) === idKey(license.skuId)));
    const sku = skus.find((candidate) => idKey(candidate.skuId) === idKey(license.skuId));
    const consumesNewSeat = !holds(user, license.skuId);
    if (forcedShortage || sku === undefined || (consumesNewSeat && sku.consumedUnits >= sku.prepaidUnits.enabled)) throw noAvailableLicenses(license.skuId);
    licenses.push({ skuId: license.skuId, disabledPlans: license.disabledPlans });
  }
  user.assignedLicenses = licenses;
  return user;
}
