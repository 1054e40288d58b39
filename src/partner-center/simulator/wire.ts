/**
 * How simulator records look on the wire. Transitions can be spelled in the variants Microsoft's
 * own samples and SDK use (https://learn.microsoft.com/en-us/partner-center/developer/transition-a-new-commerce-subscription ,
 * https://learn.microsoft.com/en-us/partner-center/developer/get-transitions), so clients can be tested against them.
 */
import type { FaultSettings } from './faults';
import { etagOf } from './renewals';
import type { SimulatedEvent, SimulatedSubscription, SimulatedTransition, SimulatorState } from './state';

export type ResponseDialect = FaultSettings['responseDialect'];

export function collection<Item>(items: Item[]) {
  return { totalCount: items.length, items, attributes: { objectType: 'Collection' } };
}

function eventToWire(event: SimulatedEvent, dialect: ResponseDialect) {
  const sdk = dialect === 'sdk';
  return {
    name: sdk && event.name === 'LicenseReassignment' ? 'SeatReassignment' : event.name,
    // The 2021 sample wrote "Started " with a trailing space.
    status: event.reportedStatus ?? (event.status === 'Started' ? (sdk ? 'InProgress' : dialect === 'docSample' ? 'Started ' : 'Started') : event.status),
    timestamp: event.timestamp,
    errors: event.errors,
    attributes: { objectType: 'TransitionEvent' },
  };
}

export function transitionToWire(transition: SimulatedTransition, dialect: ResponseDialect) {
  const pascalCase = dialect === 'docSample';
  return {
    id: transition.id,
    operationId: transition.operationId,
    [pascalCase ? 'FromCatalogItemId' : 'fromCatalogItemId']: transition.fromCatalogItemId,
    fromSubscriptionId: transition.fromSubscriptionId,
    [pascalCase ? 'ToCatalogItemId' : 'toCatalogItemId']: transition.toCatalogItemId,
    toSubscriptionId: transition.toSubscriptionId,
    quantity: transition.quantity,
    termDuration: transition.termDuration,
    billingCycle: transition.billingCycle,
    transitionType: transition.transitionType,
    ...(transition.promotionId === undefined ? {} : { promotionId: transition.promotionId }),
    [pascalCase ? 'Events' : 'events']: transition.events.map((event) => eventToWire(event, dialect)),
    attributes: { objectType: 'Transition' },
  };
}

export function transitionListToWire(transitions: SimulatedTransition[], dialect: ResponseDialect) {
  const items = transitions.map((transition) => transitionToWire(transition, dialect));
  // The 2021 history sample names its list `transition`.
  return dialect === 'docSample' ? { transition: items, attributes: { objectType: 'Collection' } } : collection(items);
}

export function subscriptionToWire(subscription: SimulatedSubscription, state: SimulatorState) {
  const product = state.product(subscription.offerId);
  return {
    id: subscription.id,
    offerId: subscription.offerId,
    offerName: product?.title ?? subscription.offerId,
    friendlyName: subscription.friendlyName ?? product?.title ?? subscription.offerId,
    quantity: subscription.quantity,
    unitType: 'Licenses',
    effectiveStartDate: subscription.effectiveStartDate,
    commitmentEndDate: subscription.commitmentEndDate,
    cancellationAllowedUntilDate: subscription.cancellationAllowedUntilDate,
    status: subscription.status,
    autoRenewEnabled: subscription.autoRenewEnabled,
    isTrial: subscription.isTrial,
    billingType: 'license',
    billingCycle: subscription.billingCycle,
    termDuration: subscription.termDuration,
    partnerId: subscription.partnerId,
    scheduledNextTermInstructions: subscription.scheduledNextTermInstructions,
    attributes: { etag: etagOf(subscription), objectType: 'Subscription' },
  };
}
