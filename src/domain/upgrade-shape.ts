/**
 * The two facts about an upgrade request that several layers need before (or without) a plan: whether it is a full
 * or a partial upgrade, and which subscriptions it holds (locks) while it runs. Decided here only; the planner, the
 * API, the activities and the workflow ask these functions. No imports with side effects: safe in workflow code.
 */
import type { UpgradeDestination } from './types';

export type UpgradeKind = 'full' | 'partial';
export type DestinationType = 'new' | 'existing';

/** Full when every seat of the source moves (the source is converted or emptied); partial otherwise. */
export function upgradeKindOf(quantity: number, sourceQuantity: number): UpgradeKind {
  return quantity === sourceQuantity ? 'full' : 'partial';
}

/** The request fields that name subscriptions (a stored record's request may be typed loosely). */
export interface SubscriptionsNamedByRequest {
  sourceSubscriptionId: string;
  destination: UpgradeDestination | { type: string; subscriptionId?: string };
}

/**
 * Every subscription an upgrade holds: the source, an existing destination, and any further ones it is known to
 * have taken (the subscription a partial upgrade created, the record's `subscriptionsTouched`). Each id once, in
 * that order; empty ids are skipped.
 */
export function subscriptionsHeldBy(request: SubscriptionsNamedByRequest, alsoHeld: Iterable<string | null | undefined> = []): string[] {
  const destination = request.destination.type === 'existing' && 'subscriptionId' in request.destination ? request.destination.subscriptionId : undefined;
  const ids = [request.sourceSubscriptionId, destination, ...alsoHeld].filter((id): id is string => typeof id === 'string' && id.length > 0);
  return [...new Set(ids)];
}
