/**
 * Reading a transition's event history. Partner Center reports progress only as events
 * (https://learn.microsoft.com/en-us/partner-center/developer/get-transitions), so the workflow polls `listTransitions` and asks these helpers
 * where its transition stands.
 */
import { type Transition, type TransitionError, type TransitionEvent, UNRECOGNISED_EVENT_STATUS } from './partner-center-schemas';

/** `unrecognised`: Microsoft reported a status it does not document; neither success nor "nothing happened". */
export type PhaseState = 'pending' | 'completed' | 'failed' | 'unrecognised';

export interface TransitionProgress {
  conversion: PhaseState;
  /** `not_requested` for `transition_only`, where Microsoft moves no user assignments. */
  licenseReassignment: PhaseState | 'not_requested';
  /** True when no further event will arrive. */
  finished: boolean;
  /** Errors of the failed events, in order. */
  errors: TransitionError[];
  /** The undocumented status, as Microsoft spelled it, when a phase is `unrecognised`. */
  unrecognisedStatus?: string;
}

function latestEvent(events: readonly TransitionEvent[], name: TransitionEvent['name']) {
  return events.filter((event) => event.name === name).at(-1);
}

function phaseState(event: TransitionEvent | undefined): PhaseState {
  if (event === undefined || event.status === 'Started') return 'pending';
  if (event.status === UNRECOGNISED_EVENT_STATUS) return 'unrecognised';
  return event.status === 'Completed' ? 'completed' : 'failed';
}

export function summarizeTransition(transition: Transition): TransitionProgress {
  const conversion = phaseState(latestEvent(transition.events, 'Conversion'));
  const licenseReassignment =
    transition.transitionType === 'transition_with_license_transfer' ? phaseState(latestEvent(transition.events, 'LicenseReassignment')) : 'not_requested';
  const finished = conversion === 'failed' || (conversion === 'completed' && licenseReassignment !== 'pending');
  const errors = transition.events.filter((event) => event.status === 'Failed').flatMap((event) => event.errors);
  const unrecognised = transition.events.find((event) => event.status === UNRECOGNISED_EVENT_STATUS);
  return { conversion, licenseReassignment, finished, errors, ...(unrecognised ? { unrecognisedStatus: unrecognised.rawStatus ?? '' } : {}) };
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
  // Microsoft's operation id names the transition; its quantity may differ from what was asked (the caller checks).
  if (created.operationId !== undefined) {
    const byOperation = transitions.find((candidate) => candidate.operationId === created.operationId);
    if (byOperation !== undefined) return byOperation;
  }
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

/** What we asked Partner Center for: the fields a listed transition must repeat to be ours. */
export interface RequestedTransition {
  toCatalogItemId: string;
  quantity: number;
  transitionType: Transition['transitionType'];
}

/**
 * The transitions in a `listTransitions` result that may be the one a request of ours started when its answer was
 * lost (a time-out, a body that did not parse): same target, quantity and type, and started no earlier than the
 * request was sent (less `clockSkewMs`, the clocks being ours and Microsoft's). Microsoft's list does not echo the
 * MS-RequestId, so the time window stands in for it; more than one candidate cannot be told apart automatically.
 */
export function transitionsMatchingRequest(
  transitions: readonly Transition[],
  requested: RequestedTransition,
  sentAt: Date,
  clockSkewMs: number,
): Transition[] {
  const earliest = sentAt.getTime() - clockSkewMs;
  return transitions.filter((candidate) => {
    const startedAt = firstConversionTimestamp(candidate);
    return (
      candidate.toCatalogItemId.toLowerCase() === requested.toCatalogItemId.toLowerCase() &&
      candidate.quantity === requested.quantity &&
      candidate.transitionType === requested.transitionType &&
      (startedAt === undefined || startedAt >= earliest)
    );
  });
}
