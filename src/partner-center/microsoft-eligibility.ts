/**
 * Partner Center's transition eligibilities in the domain's shape (src/domain/vendor-eligibility.ts), and a short-lived
 * cache per source subscription for the API (upgrade-options, quote and start ask for the same source in a row).
 * The worker does not cache: it asks again right before each POST, as Microsoft advises (catalog item ids can change):
 * https://learn.microsoft.com/en-us/partner-center/developer/transition-a-new-commerce-subscription
 */
import type { MicrosoftEligibility } from '../domain/vendor-eligibility';
import type { EligibilityType, PartnerCenterClient } from './partner-center-client';
import type { TransitionEligibility } from './partner-center-schemas';
import { shortLivedAnswers } from './short-lived-answers';

export function microsoftEligibilityOf(items: readonly TransitionEligibility[]): MicrosoftEligibility[] {
  return items.map((item) => ({
    catalogItemId: item.catalogItemId,
    transitionTypes: item.eligibilities.map((entry) => ({ type: entry.transitionType, eligible: entry.isEligible, errors: entry.errors })),
    destinations: item.subscriptionEligibilities.map((entry) => ({ subscriptionId: entry.subscriptionId, eligible: entry.isEligible, errors: entry.errors })),
  }));
}

export interface MicrosoftEligibilitySource {
  /**
   * Microsoft's verdict for a source (`immediate` transitions by default; `scheduled`: changes at renewal); throws (a
   * VendorError) when Partner Center does not answer.
   */
  get(customerTenantId: string, vendorSubscriptionId: string, eligibilityType?: EligibilityType): Promise<MicrosoftEligibility[]>;
}

export function createMicrosoftEligibilitySource(
  client: Pick<PartnerCenterClient, 'getTransitionEligibilities'>,
  maxAgeMs: number,
  now: () => number = Date.now,
): MicrosoftEligibilitySource {
  const answers = shortLivedAnswers<MicrosoftEligibility[]>(maxAgeMs, now);
  return {
    get(customerTenantId, vendorSubscriptionId, eligibilityType = 'immediate') {
      const key = `${customerTenantId.toLowerCase()}|${vendorSubscriptionId.toLowerCase()}|${eligibilityType}`;
      return answers(key, () => client.getTransitionEligibilities(customerTenantId, vendorSubscriptionId, eligibilityType).then(microsoftEligibilityOf));
    },
  };
}
