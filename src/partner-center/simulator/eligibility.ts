/**
 * Microsoft's side of eligibility, as the simulator models it (https://learn.microsoft.com/en-us/partner-center/developer/transition-a-new-commerce-subscription).
 * Deliberately self-contained and simpler than our own rules engine in src/domain: the simulator
 * plays Microsoft, so it must not share code with the service it is testing.
 */
import { randomUUID } from 'node:crypto';
import type { FaultSettings } from './faults';
import type { SimulatedEventError, SimulatedProduct, SimulatedSubscription, SimulatorState } from './state';

export type EligibilityType = 'immediate' | 'scheduled';

/** TargetSubscriptionErrorCode (docs/partner-center.md, "Eligibility"); Microsoft names only 1–3, the name of 4 is ours. */
const TARGET_SUBSCRIPTION_ERRORS = {
  notActive: { code: 1, name: 'SubscriptionNotActive', description: 'The destination subscription is not active.' },
  inCancellationWindow: {
    code: 2,
    name: 'SubscriptionInCancellationWindow',
    description: 'The destination subscription is still in its cancellation window.',
  },
  termShorter: {
    code: 3,
    name: 'SubscriptionTermDurationShorterThanSourceTermDuration',
    description: "The destination subscription's term duration is shorter than the source subscription's.",
  },
  endsEarlier: {
    code: 4,
    name: 'SubscriptionTermEndDateBeforeSourceTermEndDate',
    description: "The destination subscription's term ends before the source subscription's term.",
  },
} as const;
export type TargetSubscriptionError = (typeof TARGET_SUBSCRIPTION_ERRORS)[keyof typeof TARGET_SUBSCRIPTION_ERRORS];

/** TransitionErrorCode 3 (the only numeric transition error Microsoft shows). */
export const CONFLICTING_SERVICES_ERROR = {
  code: 3,
  name: 'ConflictingServices',
  description: 'Transition type incompatible: the customer has conflicting services for license transfer.',
} as const;

export const SOURCE_NOT_ACTIVE_DESCRIPTION = 'The source subscription is not active.';

function termMonths(termDuration: string): number {
  const match = /^P(\d+)([MY])$/i.exec(termDuration);
  if (match === null) return 0;
  return Number(match[1]) * (match[2]?.toUpperCase() === 'Y' ? 12 : 1);
}

const toWireError = (error: { code: number; description: string }): SimulatedEventError => ({
  code: error.code,
  description: error.description,
});

/** Codes 1–4 for moving seats from `source` into the existing `destination`. */
export function destinationErrors(source: SimulatedSubscription, destination: SimulatedSubscription, now: number): TargetSubscriptionError[] {
  const errors: TargetSubscriptionError[] = [];
  if (destination.status !== 'active') errors.push(TARGET_SUBSCRIPTION_ERRORS.notActive);
  const cancellableUntil = destination.cancellationAllowedUntilDate;
  if (cancellableUntil !== null && now < Date.parse(cancellableUntil)) errors.push(TARGET_SUBSCRIPTION_ERRORS.inCancellationWindow);
  if (termMonths(destination.termDuration) < termMonths(source.termDuration)) errors.push(TARGET_SUBSCRIPTION_ERRORS.termShorter);
  if (Date.parse(destination.commitmentEndDate) < Date.parse(source.commitmentEndDate)) errors.push(TARGET_SUBSCRIPTION_ERRORS.endsEarlier);
  return errors;
}

/** Products the source may move to; targets missing from the catalog are skipped. */
export function upgradeTargetsOf(state: SimulatorState, source: SimulatedSubscription): SimulatedProduct[] {
  const sourceProduct = state.product(source.offerId);
  if (sourceProduct === undefined) return [];
  return sourceProduct.upgradeTargets
    .map((catalogItemId) => state.product(catalogItemId))
    .filter((product): product is SimulatedProduct => product !== undefined);
}

/** The body of GET …/transitionEligibilities. */
export function transitionEligibilities(
  state: SimulatorState,
  faults: FaultSettings,
  source: SimulatedSubscription,
  eligibilityType: EligibilityType,
  now: number,
) {
  const sourceActive = source.status === 'active';
  const sourceErrors = sourceActive ? [] : [{ code: 'SubscriptionNotActive', description: SOURCE_NOT_ACTIVE_DESCRIPTION }];
  const items = upgradeTargetsOf(state, source).map((target) => {
    const licenseTransferErrors = faults.conflictingServices ? [toWireError(CONFLICTING_SERVICES_ERROR)] : [];
    // Seats go into existing subscriptions only for immediate, non-trial transitions (docs/partner-center.md, "Eligibility").
    const destinations =
      eligibilityType === 'scheduled' || source.isTrial
        ? []
        : state
            .subscriptionsOf(source.customerTenantId)
            .filter((candidate) => candidate.id !== source.id && candidate.offerId.toLowerCase() === target.catalogItemId.toLowerCase())
            .map((candidate) => {
              const errors = destinationErrors(source, candidate, now).map(toWireError);
              return {
                isEligible: errors.length === 0,
                subscriptionId: candidate.id,
                subscriptionFriendlyName: candidate.friendlyName ?? target.title,
                subscriptionTermDuration: candidate.termDuration,
                subscriptionBillingCycle: candidate.billingCycle,
                errors,
              };
            });
    return {
      operationId: randomUUID(),
      catalogItemId: target.catalogItemId,
      title: target.title,
      description: target.description ?? target.title,
      quantity: source.quantity,
      eligibilities: [
        { isEligible: sourceActive, transitionType: 'transition_only', errors: sourceErrors },
        {
          isEligible: sourceActive && licenseTransferErrors.length === 0,
          transitionType: 'transition_with_license_transfer',
          errors: [...sourceErrors, ...licenseTransferErrors],
        },
      ],
      subscriptionEligibilities: destinations,
      attributes: { objectType: 'TransitionEligibility' },
    };
  });
  return { totalCount: items.length, items, attributes: { objectType: 'Collection' } };
}
