/**
 * Where distributors disagree on an eligibility rule, the difference is a policy, chosen by name
 * (`ELIGIBILITY_POLICY`, docs/eligibility.md "Distributor policies"); the rules in `eligibility.ts` read it.
 */

export interface EligibilityPolicy {
  name: string;
  /** Existing destination's term end vs the source's: `sameOrLater` (≥) or strictly `later` (>). */
  destinationEndDate: 'sameOrLater' | 'later';
  /**
   * Existing destination's billing: `ignored`; `sameFrequency`; or `sameFrequencyAndTerm` (Infinigate's
   * "same Billing Term and Plan duration": billing frequency AND term duration equal, reported as
   * DESTINATION_BILLING_MISMATCH; a shorter term is still DESTINATION_TERM_SHORTER).
   */
  destinationBilling: 'ignored' | 'sameFrequency' | 'sameFrequencyAndTerm';
  /** Whether a source still inside its own 7-day cancellation window may be upgraded. */
  sourceInCancellationWindow: 'allowed' | 'refused';
}

export const POLICY_PROFILES = {
  /** Partner Center's documented target rules (codes 1–4): end date same or later, billing free. */
  microsoft: { name: 'microsoft', destinationEndDate: 'sameOrLater', destinationBilling: 'ignored', sourceInCancellationWindow: 'allowed' },
  /** interworks.cloud: "end date later than the source's", "billing frequency does not affect eligibility". */
  interworks: { name: 'interworks', destinationEndDate: 'later', destinationBilling: 'ignored', sourceInCancellationWindow: 'allowed' },
  /** Infinigate: "same Billing Term and Plan duration", renewal date same or later. */
  infinigate: {
    name: 'infinigate',
    destinationEndDate: 'sameOrLater',
    destinationBilling: 'sameFrequencyAndTerm',
    sourceInCancellationWindow: 'allowed',
  },
  /** PRISM-style: like microsoft, but no upgrade while the source is in its cancellation window. */
  prism: { name: 'prism', destinationEndDate: 'sameOrLater', destinationBilling: 'ignored', sourceInCancellationWindow: 'refused' },
} as const satisfies Record<string, EligibilityPolicy>;

export type PolicyName = keyof typeof POLICY_PROFILES;
export const DEFAULT_POLICY: EligibilityPolicy = POLICY_PROFILES.microsoft;

function isPolicyName(name: unknown): name is PolicyName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(POLICY_PROFILES, name);
}

export function policyByName(name: string): EligibilityPolicy {
  if (!isPolicyName(name)) {
    throw new RangeError(`unknown eligibility policy "${name}"; known: ${Object.keys(POLICY_PROFILES).join(', ')}`);
  }
  return POLICY_PROFILES[name];
}
