/**
 * Microsoft's verdict as part of eligibility (docs/eligibility.md). Partner Center's transition eligibilities
 * (https://learn.microsoft.com/en-us/partner-center/developer/transition-a-new-commerce-subscription) list, for a
 * source subscription, each target catalog item with one verdict per transition type, and the existing subscriptions
 * that may receive the seats. Our local rules run first and their codes come first; Microsoft's refusal is added as
 * VENDOR_NOT_ELIGIBLE with Microsoft's own code and description. The transition type is Microsoft's to allow: with
 * licence transfer when Microsoft allows it, otherwise `transition_only` (we then move the licences ourselves).
 */
import type { EligibilityReason, Verdict } from './eligibility';
import type { UpgradeOptions } from './upgrade-options';

export type MicrosoftTransitionType = 'transition_only' | 'transition_with_license_transfer';

/** Microsoft's answer for one source, in the shape the domain needs (mapped from Partner Center's by the caller). */
export interface MicrosoftEligibility {
  catalogItemId: string;
  transitionTypes: { type: MicrosoftTransitionType | 'none'; eligible: boolean; errors: { code: string | number; description: string }[] }[];
  destinations: { subscriptionId: string; eligible: boolean; errors: { code: string | number; description: string }[] }[];
}

const sameItem = (left: string, right: string) => left.toLowerCase() === right.toLowerCase();

function refusal(description: string, error?: { code: string | number; description: string }): EligibilityReason {
  return {
    code: 'VENDOR_NOT_ELIGIBLE',
    message: `Microsoft refuses this upgrade: ${error?.description || description}`,
    details: { ...(error === undefined ? {} : { microsoftCode: error.code }), description: error?.description || description },
  };
}

/** Microsoft's item for a target, matched on its catalog item id (case-insensitive). */
export function microsoftItemFor(answer: readonly MicrosoftEligibility[], targetProductId: string): MicrosoftEligibility | undefined {
  return answer.find((item) => sameItem(item.catalogItemId, targetProductId));
}

/** Microsoft's reasons to refuse moving seats to `targetProductId` (a new subscription, or `destinationVendorId`). */
export function microsoftReasons(answer: readonly MicrosoftEligibility[], targetProductId: string, destinationVendorId?: string): EligibilityReason[] {
  const item = microsoftItemFor(answer, targetProductId);
  if (item === undefined) return [refusal(`${targetProductId} is not among Microsoft's transition targets for this subscription`)];
  const allowed = item.transitionTypes.filter((entry) => entry.eligible && entry.type !== 'none');
  if (allowed.length === 0) {
    const firstError = item.transitionTypes.flatMap((entry) => entry.errors)[0];
    return [refusal('no transition type is eligible', firstError)];
  }
  if (destinationVendorId === undefined) return [];
  const destination = item.destinations.find((candidate) => sameItem(candidate.subscriptionId, destinationVendorId));
  if (destination === undefined) return [refusal(`subscription ${destinationVendorId} is not among Microsoft's eligible destinations`)];
  return destination.eligible ? [] : [refusal(`subscription ${destinationVendorId} cannot receive the seats`, destination.errors[0])];
}

/** The local verdict with Microsoft's reasons after the local ones. */
export function withMicrosoftVerdict(local: Verdict, microsoft: readonly EligibilityReason[]): Verdict {
  if (microsoft.length === 0) return local;
  return { eligible: false, reasons: [...local.reasons, ...microsoft] };
}

/**
 * The transition type to ask for: the planned one when Microsoft allows it; `transition_only` when Microsoft refuses
 * the licence transfer (e.g. error 3, conflicting services) but allows that; undefined when Microsoft allows neither.
 */
export function transitionTypeAllowed(item: MicrosoftEligibility | undefined, planned: MicrosoftTransitionType): MicrosoftTransitionType | undefined {
  const allows = (type: MicrosoftTransitionType) => item?.transitionTypes.some((entry) => entry.type === type && entry.eligible) ?? false;
  if (allows(planned)) return planned;
  return allows('transition_only') ? 'transition_only' : undefined;
}

/** Upgrade options with Microsoft's verdict added to each target's verdicts (new subscription and each existing candidate). */
export function withMicrosoftOptions(
  options: UpgradeOptions,
  answer: readonly MicrosoftEligibility[],
  vendorIdOf: (subscriptionId: string) => string | undefined,
): UpgradeOptions {
  return {
    ...options,
    targets: options.targets.map((target) => ({
      ...target,
      toNewSubscription: withMicrosoftVerdict(target.toNewSubscription, microsoftReasons(answer, target.productId)),
      existingDestinations: target.existingDestinations.map((candidate) => ({
        ...candidate,
        verdict: withMicrosoftVerdict(
          candidate.verdict,
          microsoftReasons(answer, target.productId, vendorIdOf(candidate.subscriptionId) ?? candidate.externalId),
        ),
      })),
    })),
  };
}
