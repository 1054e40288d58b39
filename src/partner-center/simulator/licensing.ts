/**
 * Graph-style licence assignment (PARTNER-CENTER.md §3.4). A tenant's seats per Entra SKU are the
 * quantities of its subscriptions on products mapped to that SKU; users consume one seat per SKU.
 */
import { z } from 'zod';
import type { FaultSettings } from './faults';
import { graphError } from './http-errors';
import { idKey, type SimulatedUser, type SimulatorState } from './state';

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
    skuId: sku.skuId,
    skuPartNumber: sku.skuPartNumber,
    capabilityStatus: sku.enabled > 0 ? 'Enabled' : 'Suspended',
    prepaidUnits: { enabled: sku.enabled, suspended: sku.suspended, warning: 0 },
    consumedUnits: consumedUnits(users, sku.skuId),
  }));
}

function consumedUnits(users: readonly SimulatedUser[], skuId: string): number {
  return users.filter((user) => user.assignedLicenses.some((license) => idKey(license.skuId) === idKey(skuId))).length;
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
  if (user === undefined) throw graphError(404, 'Request_ResourceNotFound', `Resource '${userId}' does not exist.`);
  const parsed = assignLicenseBodySchema.safeParse(body);
  if (!parsed.success) throw graphError(400, 'Request_BadRequest', 'Invalid value specified for property addLicenses or removeLicenses.');

  const removed = new Set(parsed.data.removeLicenses.map(idKey));
  const kept = user.assignedLicenses.filter((license) => !removed.has(idKey(license.skuId)));
  const added = parsed.data.addLicenses.filter((license) => !kept.some((held) => idKey(held.skuId) === idKey(license.skuId)));
  const skus = subscribedSkus(state, customerTenantId);
  for (const license of added) {
    const forcedShortage =
      faults.licenseShortage === true ||
      (Array.isArray(faults.licenseShortage) && faults.licenseShortage.some((skuId) => idKey(skuId) === idKey(license.skuId)));
    const sku = skus.find((candidate) => idKey(candidate.skuId) === idKey(license.skuId));
    if (forcedShortage || sku === undefined || sku.consumedUnits >= sku.prepaidUnits.enabled) throw noAvailableLicenses(license.skuId);
  }
  // Re-adding a held SKU updates its disabled plans, as Graph does.
  user.assignedLicenses = [...kept.map((held) => parsed.data.addLicenses.find((license) => idKey(license.skuId) === idKey(held.skuId)) ?? held), ...added];
  return user;
}
