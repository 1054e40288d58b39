/**
 * A source's change scheduled for its renewal at Microsoft, which an immediate upgrade (now or on a date) makes
 * Microsoft delete: shown by upgrade-options, and the quote's warning says what the upgrade does about it
 * (docs/scheduled-upgrades.md, "An immediate upgrade and scheduled changes").
 */
import { fateOfDeletedScheduledChange, scheduledCatalogItemIdOf, type DeletedScheduledChangeFate } from '../domain/deleted-scheduled-change';
import type { UpgradePlan } from '../domain/upgrade-plan';
import type { PartnerCenterClient } from '../partner-center';
import { shortLivedAnswers } from '../partner-center/short-lived-answers';

export interface ScheduledChange {
  catalogItemId: string;
  quantity: number;
  termDuration: string;
  billingCycle: string;
}

/** `unavailable`: Partner Center did not answer — never taken for "no scheduled change". */
export interface ScheduledChangeAtMicrosoft {
  read: 'read' | 'unavailable' | 'not_configured';
  change: ScheduledChange | null;
}

export type MicrosoftScheduledChangeWarning =
  | { code: 'MICROSOFT_SCHEDULED_CHANGE_DELETED'; message: string; scheduledChange: ScheduledChange; fate: DeletedScheduledChangeFate }
  | { code: 'MICROSOFT_SCHEDULED_CHANGES_UNKNOWN'; message: string };

export type SubscriptionReader = Pick<PartnerCenterClient, 'getSubscription'>;

/**
 * upgrade-options' reader: the source at Partner Center reused as long as Microsoft's verdict is
 * (`VENDOR_ELIGIBILITY_CACHE_SECONDS`), since a portal shows the options on every page view. The quote, which warns
 * before an upgrade deletes the change, and the worker read it fresh.
 */
export function reusedSubscriptionReader(vendor: SubscriptionReader, maxAgeMs: number, now?: () => number): SubscriptionReader {
  const answers = shortLivedAnswers<Awaited<ReturnType<SubscriptionReader['getSubscription']>>>(maxAgeMs, now);
  return {
    getSubscription: (customerTenantId, vendorSubscriptionId) =>
      answers(`${customerTenantId.toLowerCase()}|${vendorSubscriptionId.toLowerCase()}`, () => vendor.getSubscription(customerTenantId, vendorSubscriptionId)),
  };
}

/** Reads the source at Partner Center; without a Partner Center client only our own records speak. */
export async function scheduledChangeAtMicrosoft(
  vendor: SubscriptionReader | undefined,
  customerTenantId: string | undefined,
  vendorSubscriptionId: string,
): Promise<ScheduledChangeAtMicrosoft> {
  if (!vendor || !customerTenantId) return { read: 'not_configured', change: null };
  try {
    const instructions = (await vendor.getSubscription(customerTenantId, vendorSubscriptionId)).scheduledNextTermInstructions;
    if (!instructions) return { read: 'read', change: null };
    const { quantity, product } = instructions;
    return {
      read: 'read',
      change: { catalogItemId: scheduledCatalogItemIdOf(instructions), quantity, termDuration: product.termDuration, billingCycle: product.billingCycle },
    };
  } catch {
    return { read: 'unavailable', change: null };
  }
}

const FATE_SENTENCES: Record<DeletedScheduledChangeFate, string> = {
  reapplied: 'this upgrade writes it again on the source after the conversion',
  source_converted: 'it is not written again: the source converts in full (schedule it again on the new subscription)',
  replaced: 'this upgrade replaces it',
};

/**
 * The quote's warning. None without a Partner Center client, without a scheduled change, or when the change is our own
 * upgrade at renewal (SCHEDULED_UPGRADE_PENDING says so).
 */
export async function microsoftScheduledChangeWarning(
  vendor: SubscriptionReader | undefined,
  plan: UpgradePlan,
  ourUpgradeAtRenewalIsPending: boolean,
): Promise<MicrosoftScheduledChangeWarning | undefined> {
  const { read, change } = await scheduledChangeAtMicrosoft(vendor, plan.vendor.customerTenantId, plan.vendor.fromSubscriptionId);
  if (read === 'unavailable') {
    return {
      code: 'MICROSOFT_SCHEDULED_CHANGES_UNKNOWN',
      message:
        'Partner Center did not answer whether the source has a change scheduled for its renewal; the conversion would delete one (the upgrade reads it again before it converts, and writes a change that is not an upgrade back)',
    };
  }
  if (!change) return undefined;
  const fate = fateOfDeletedScheduledChange(change.catalogItemId, plan);
  if (fate === 'replaced' && ourUpgradeAtRenewalIsPending) return undefined;
  return {
    code: 'MICROSOFT_SCHEDULED_CHANGE_DELETED',
    message: `Microsoft deletes the source's scheduled change at the conversion (${change.quantity} seats of ${change.catalogItemId}, ${change.termDuration} billed ${change.billingCycle}, from the next term): ${FATE_SENTENCES[fate]}`,
    scheduledChange: change,
    fate,
  };
}
