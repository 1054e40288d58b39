/**
 * Reading a transition's event history. Partner Center reports progress only as events
 * (https://learn.microsoft.com/en-us/partner-center/developer/get-transitions), so the workflow polls `listTransitions` and asks these helpers
 * where its transition stands.
 */
import type { Transition, TransitionError, TransitionEvent } from './partner-center-schemas';

export type PhaseState = 'pending' | 'completed' | 'failed';

export interface TransitionProgress {
  conversion: PhaseState;
  /** `not_requested` for `transition_only`, where Microsoft moves no user assignments. */
  licenseReassignment: PhaseState | 'not_requested';
  /** True when no further event will arrive. */
  finished: boolean;
  /** Errors of the failed events, in order. */
  errors: TransitionError[];
}

function latestEvent(events: readonly TransitionEvent[], name: TransitionEvent['name']) {
  return events.filter((event) => event.name === name).at(-1);
}

function phaseState(event: TransitionEvent | undefined): PhaseState {
  if (event === undefined || event.status === 'Started') return 'pending';
  return event.status === 'Completed' ? 'completed' : 'failed';
}

export function summarizeTransition(transition: Transition): TransitionProgress {
  const conversion = phaseState(latestEvent(transition.events, 'Conversion'));
  const licenseReassignment =
    transition.transitionType === 'transition_with_license_transfer' ? phaseState(latestEvent(transition.events, 'LicenseReassignment')) : 'not_requested';
  const finished = conversion === 'failed' || (conversion === 'completed' && licenseReassignment !== 'pending');
  const errors = transition.events.filter((event) => event.status === 'Failed').flatMap((event) => event.errors);
  return { conversion, licenseReassignment, finished, errors };
}

function firstConversionTimestamp(transition: Transition): number | undefined {
  const started = transition.events.find((event) => event.name === 'Conversion');
  return started === undefined ? undefined : Date.parse(started.timestamp);
}

/**
 * Finds the transition `created` (as returned by createTransition) in a `listTransitions` result.
 * Microsoft documents no transition id, so it matches on target, quantity, type and the instant of
 * the first Conversion event (compared as instants, so `…7488618Z` and `…748Z` agree); an `id`,
 * when both carry one, decides alone.
 */
export function findMatchingTransition(transitions: readonly Transition[], created: Transition): Transition | undefined {
  if (created.id !== undefined) {
    const byId = transitions.find((candidate) => candidate.id === created.id);
    if (byId !== undefined) return byId;
  }
  const createdStartedAt = firstConversionTimestamp(created);
  return transitions.find(
    (candidate) =>
      candidate.toCatalogItemId.toLowerCase() === created.toCatalogItemId.toLowerCase() &&
      candidate.quantity === created.quantity &&
      candidate.transitionType === created.transitionType &&
      (createdStartedAt === undefined || firstConversionTimestamp(candidate) === createdStartedAt),
  );
}
