/**
 * Transitions, as the simulator runs them (https://learn.microsoft.com/en-us/partner-center/developer/transition-a-new-commerce-subscription ,
 * https://learn.microsoft.com/en-us/partner-center/developer/get-transitions).
 *
 * POST validates synchronously and answers with `Conversion/Started`. Completion is asynchronous:
 * each transition carries the instants at which its Conversion (and, with license transfer, its
 * LicenseReassignment) ends, and the outcome drawn at POST time. `settleDue()` materialises every
 * event whose instant has passed; it runs on a timer (for delays up to MAX_TIMER_DELAY_MS) and before
 * every request is served, so a delay of hours needs no live timer and completes on the first read
 * after it elapses. Event timestamps are the scheduled instants, not the instant of the read.
 *
 * `toSubscriptionId` is returned by the POST already, for every kind: the source id for a full
 * upgrade to a new subscription (converted in place), a freshly minted id for a partial upgrade (the
 * subscription appears under that id once the conversion completes), and the requested destination
 * for an upgrade into an existing subscription. Callers learn the new id early and never depend on it
 * appearing only in the history.
 */
import { deleteScheduledChanges, renewDueSubscriptions } from './renewals';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { CONFLICTING_SERVICES_ERROR, destinationErrors, SOURCE_NOT_ACTIVE_DESCRIPTION, upgradeTargetsOf } from './eligibility';
import type { FaultPlan, FaultSettings } from './faults';
import { ORDER_ERROR, partnerCenterError } from './http-errors';
import { type EventName, type EventStatus, idKey, type SimulatedEventError, type SimulatedTransition, type SimulatorState } from './state';

/** Longer delays are left to lazy settlement on read, so the process holds no long-lived timers. */
const MAX_TIMER_DELAY_MS = 10 * 60_000;

/** Matches body keys in any letter case (the doc samples mix `FromCatalogItemId` and `quantity`). */
function canonicalKeys(shapeKeys: readonly string[], input: unknown): unknown {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return input;
  const byLowercase = new Map(shapeKeys.map((key) => [key.toLowerCase(), key]));
  return Object.fromEntries(Object.entries(input).map(([key, value]) => [byLowercase.get(key.toLowerCase()) ?? key, value]));
}

const transitionRequestShape = {
  toCatalogItemId: z.string().min(1),
  quantity: z.number().int(),
  transitionType: z.enum(['transition_only', 'transition_with_license_transfer']),
  toSubscriptionId: z.string().min(1).nullish(),
  fromSubscriptionId: z.string().nullish(),
  fromCatalogItemId: z.string().nullish(),
  termDuration: z.string().nullish(),
  billingCycle: z.string().nullish(),
  promotionId: z.string().nullish(),
  events: z.array(z.unknown()).nullish(),
};
const transitionRequestSchema = z.preprocess((input) => canonicalKeys(Object.keys(transitionRequestShape), input), z.object(transitionRequestShape));

const CONVERSION_FAILED: SimulatedEventError = {
  code: 'other',
  description: 'The conversion failed at Microsoft (simulated permanent failure).',
};
const LICENSE_REASSIGNMENT_FAILED: SimulatedEventError = {
  code: 'other',
  description: 'User license assignments could not be moved; users keep their previous licenses.',
};

const isTerminal = (status: EventStatus) => status !== 'Started';

export class TransitionEngine {
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly state: SimulatorState,
    private readonly faults: FaultPlan,
    private readonly random: () => number,
    private readonly now: () => number,
  ) {}

  /**
   * Idempotent per (customer, source subscription, MS-RequestId): a repeated id returns the
   * transition it created. Runs synchronously from lookup to insert, so concurrent duplicates in
   * the same process cannot both create one.
   */
  create(customerTenantId: string, subscriptionId: string, requestId: string, rawBody: unknown): SimulatedTransition {
    this.state.counters.postTransitionCalls += 1;
    const source = this.state.subscriptionOf(customerTenantId, subscriptionId);
    if (source === undefined) throw partnerCenterError(404, 'NotFound', `Subscription ${subscriptionId} was not found for this customer.`);

    const repeated = this.state.transitions.find(
      (transition) =>
        idKey(transition.customerTenantId) === idKey(customerTenantId) &&
        idKey(transition.fromSubscriptionId) === idKey(source.id) &&
        transition.requestId === requestId,
    );
    if (repeated !== undefined) return repeated;

    const running = this.state.transitions.find((transition) => !transition.finished && this.involves(transition, source.id));
    if (running !== undefined) {
      throw partnerCenterError(409, 'concurrency_conflicts', `Another transition on subscription ${source.id} is still in progress.`);
    }

    const parsed = transitionRequestSchema.safeParse(rawBody);
    if (!parsed.success) {
      throw partnerCenterError(
        400,
        ORDER_ERROR.invalidInput,
        `Invalid transition request: ${parsed.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`).join('; ')}`,
      );
    }
    const request = parsed.data;
    const faults = this.faults.resolve(customerTenantId);

    if (faults.rejectTransitionsForSubscriptions.some((id) => idKey(id) === idKey(source.id))) {
      throw partnerCenterError(400, 'subscription_not_provisioned', 'The transition was rejected for this subscription (simulated permanent rejection).');
    }
    if (source.status !== 'active') throw partnerCenterError(400, ORDER_ERROR.subscriptionIsNotActive, SOURCE_NOT_ACTIVE_DESCRIPTION);
    if (request.quantity < 1) throw partnerCenterError(400, ORDER_ERROR.invalidInput, 'Quantity must be at least 1.');
    if (request.quantity > source.quantity) {
      throw partnerCenterError(
        400,
        ORDER_ERROR.invalidQuantity,
        `Quantity ${request.quantity} exceeds the source quantity ${source.quantity}; seats cannot be added during a transition.`,
      );
    }
    const target = upgradeTargetsOf(this.state, source).find((product) => idKey(product.catalogItemId) === idKey(request.toCatalogItemId));
    if (target === undefined) {
      throw partnerCenterError(400, ORDER_ERROR.invalidOfferId, `${request.toCatalogItemId} is not an eligible transition target for ${source.offerId}.`);
    }
    if (request.transitionType === 'transition_with_license_transfer' && faults.conflictingServices) {
      throw partnerCenterError(400, CONFLICTING_SERVICES_ERROR.code, CONFLICTING_SERVICES_ERROR.description, [
        `TransitionErrorCode:${CONFLICTING_SERVICES_ERROR.name}`,
      ]);
    }

    let destinationId: string | undefined;
    if (request.toSubscriptionId != null) {
      const destination = this.state.subscriptionOf(customerTenantId, request.toSubscriptionId);
      if (destination === undefined || idKey(destination.id) === idKey(source.id)) {
        throw partnerCenterError(400, ORDER_ERROR.invalidInput, `Destination subscription ${request.toSubscriptionId} is not a valid target.`);
      }
      if (idKey(destination.offerId) !== idKey(target.catalogItemId)) {
        throw partnerCenterError(400, ORDER_ERROR.invalidOfferId, `Destination subscription ${destination.id} is not on offer ${target.catalogItemId}.`);
      }
      const [firstError, ...otherErrors] = destinationErrors(source, destination, this.now());
      if (firstError !== undefined) {
        throw partnerCenterError(
          400,
          firstError.code,
          firstError.description,
          [firstError, ...otherErrors].map((error) => `TargetSubscriptionErrorCode:${error.name}`),
        );
      }
      if (this.state.transitions.some((transition) => !transition.finished && this.involves(transition, destination.id))) {
        throw partnerCenterError(409, 'concurrency_conflicts', `Another transition on subscription ${destination.id} is still in progress.`);
      }
      destinationId = destination.id;
    }

    const createdAt = this.now();
    const conversionAt = createdAt + faults.completionDelayMs;
    const kind = destinationId !== undefined ? 'to_existing' : request.quantity === source.quantity ? 'full_to_new' : 'partial_to_new';
    const transition: SimulatedTransition = {
      id: randomUUID(),
      operationId: randomUUID(),
      customerTenantId: source.customerTenantId,
      requestId,
      fromSubscriptionId: source.id,
      fromCatalogItemId: source.offerId,
      toCatalogItemId: target.catalogItemId,
      toSubscriptionId: destinationId ?? (kind === 'full_to_new' ? source.id : randomUUID()),
      kind,
      quantity: request.quantity,
      termDuration: request.termDuration ?? source.termDuration,
      billingCycle: request.billingCycle ?? source.billingCycle,
      transitionType: request.transitionType,
      promotionId: request.promotionId ?? undefined,
      events: [{ name: 'Conversion', status: 'Started', timestamp: new Date(createdAt).toISOString(), errors: [] }],
      conversionOutcome: {
        at: conversionAt,
        fails: faults.failTransitionsForSubscriptions.some((id) => idKey(id) === idKey(source.id)) || this.draw(faults.transitionFailureRate),
        ...(faults.unrecognisedConversionStatus === null ? {} : { reportAs: faults.unrecognisedConversionStatus }),
        seatsShort: Math.min(faults.convertedQuantityShortBy, request.quantity - 1),
      },
      licenseReassignmentOutcome:
        request.transitionType === 'transition_with_license_transfer'
          ? {
              at: conversionAt + faults.licenseReassignmentDelayMs,
              fails: this.draw(faults.licenseReassignmentFailureRate),
            }
          : undefined,
      finished: false,
    };
    this.state.transitions.push(transition);
    this.state.countTransitionCreated(transition);
    this.scheduleSettlement(transition.conversionOutcome.at);
    if (transition.licenseReassignmentOutcome !== undefined) this.scheduleSettlement(transition.licenseReassignmentOutcome.at);
    // Not settled here: even with a zero delay the POST answers Conversion/Started, as Microsoft does.
    return transition;
  }

  transitionsOf(customerTenantId: string, subscriptionId: string): SimulatedTransition[] {
    return this.state.transitions.filter(
      (transition) => idKey(transition.customerTenantId) === idKey(customerTenantId) && idKey(transition.fromSubscriptionId) === idKey(subscriptionId),
    );
  }

  settleDue(): void {
    const now = this.now();
    for (const transition of this.state.transitions) if (!transition.finished) this.settle(transition, now);
    renewDueSubscriptions(this.state, now);
  }

  stopTimers(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private settle(transition: SimulatedTransition, now: number): void {
    const conversion = this.lastEvent(transition, 'Conversion');
    if (conversion !== undefined && !isTerminal(conversion.status) && now >= transition.conversionOutcome.at) {
      const failure = transition.conversionOutcome.fails ? CONVERSION_FAILED : this.applyConversion(transition, now);
      if (failure !== undefined) {
        this.addEvent(transition, 'Conversion', 'Failed', transition.conversionOutcome.at, [failure]);
        transition.finished = true;
        return;
      }
      this.addEvent(transition, 'Conversion', 'Completed', transition.conversionOutcome.at);
      const reportAs = transition.conversionOutcome.reportAs;
      if (reportAs !== undefined) transition.events.at(-1)!.reportedStatus = reportAs;
      if (transition.licenseReassignmentOutcome === undefined) {
        transition.finished = true;
        return;
      }
      this.addEvent(transition, 'LicenseReassignment', 'Started', transition.conversionOutcome.at);
    }
    const reassignment = transition.licenseReassignmentOutcome;
    const reassignmentEvent = this.lastEvent(transition, 'LicenseReassignment');
    if (reassignment === undefined || reassignmentEvent === undefined || isTerminal(reassignmentEvent.status) || now < reassignment.at) return;
    if (reassignment.fails) {
      this.addEvent(transition, 'LicenseReassignment', 'Failed', reassignment.at, [LICENSE_REASSIGNMENT_FAILED]);
    } else {
      this.moveUserLicenses(transition);
      this.addEvent(transition, 'LicenseReassignment', 'Completed', reassignment.at);
    }
    transition.finished = true;
  }

  /** Side effects of a completed conversion (docs/upgrade-kinds.md); returns an error when the world changed since POST. */
  private applyConversion(transition: SimulatedTransition, now: number): SimulatedEventError | undefined {
    const source = this.state.subscriptions.get(idKey(transition.fromSubscriptionId));
    if (source === undefined || source.status !== 'active' || source.quantity < transition.quantity) {
      return {
        code: ORDER_ERROR.subscriptionIsNotActive,
        description: 'The source subscription changed before the conversion could complete.',
      };
    }
    const today = new Date(now).toISOString();
    // A mid-term change: Microsoft deletes every change scheduled for the renewal.
    deleteScheduledChanges(source);
    source.version += 1;
    // The fault `convertedQuantityShortBy`: fewer seats move than were asked for, and the transition says so.
    transition.quantity -= transition.conversionOutcome.seatsShort;
    switch (transition.kind) {
      case 'full_to_new':
        // Converted in place: same id, term and end date; the new offer starts today (R7).
        source.offerId = transition.toCatalogItemId;
        source.effectiveStartDate = today;
        source.quantity = transition.quantity;
        return undefined;
      case 'partial_to_new':
        source.quantity -= transition.quantity;
        // Co-termed with the source: same end date, term, billing and cancellation window (R8).
        this.state.subscriptions.set(idKey(transition.toSubscriptionId), {
          ...source,
          id: transition.toSubscriptionId,
          offerId: transition.toCatalogItemId,
          friendlyName: this.state.product(transition.toCatalogItemId)?.title,
          quantity: transition.quantity,
          effectiveStartDate: today,
          scheduledNextTermInstructions: null,
          version: 0,
        });
        return undefined;
      case 'to_existing': {
        const destination = this.state.subscriptions.get(idKey(transition.toSubscriptionId));
        if (destination === undefined || destination.status !== 'active') {
          return { code: 1, description: 'The destination subscription is no longer active.' };
        }
        source.quantity -= transition.quantity;
        if (source.quantity === 0) source.status = 'cancelled';
        destination.quantity += transition.quantity; // keeps its own term, billing and price (R9)
        deleteScheduledChanges(destination);
        destination.version += 1;
        return undefined;
      }
    }
  }

  /** License transfer: up to `quantity` users holding the source SKU get the target SKU instead. */
  private moveUserLicenses(transition: SimulatedTransition): void {
    const sourceSkuId = this.state.product(transition.fromCatalogItemId)?.entraSkuId;
    const targetSkuId = this.state.product(transition.toCatalogItemId)?.entraSkuId;
    if (sourceSkuId === undefined || targetSkuId === undefined || idKey(sourceSkuId) === idKey(targetSkuId)) return;
    const holders = this.state
      .usersOf(transition.customerTenantId)
      // Only direct assignments move; a licence inherited from a group stays with the group.
      .filter((user) => user.assignedLicenses.some((license) => idKey(license.skuId) === idKey(sourceSkuId) && license.assignedByGroup === undefined))
      .sort((left, right) => left.id.localeCompare(right.id))
      .slice(0, transition.quantity);
    for (const user of holders) {
      user.assignedLicenses = user.assignedLicenses.filter((license) => idKey(license.skuId) !== idKey(sourceSkuId) || license.assignedByGroup !== undefined);
      if (!user.assignedLicenses.some((license) => idKey(license.skuId) === idKey(targetSkuId))) {
        user.assignedLicenses.push({ skuId: targetSkuId, disabledPlans: [] });
      }
    }
  }

  /** A subscription is busy while a transition moves seats out of it or into it. */
  private involves(transition: SimulatedTransition, subscriptionId: string): boolean {
    return (
      idKey(transition.fromSubscriptionId) === idKey(subscriptionId) ||
      (transition.kind === 'to_existing' && idKey(transition.toSubscriptionId) === idKey(subscriptionId))
    );
  }

  private draw(rate: FaultSettings['transitionFailureRate']): boolean {
    // Draw only when the fault is on, so enabling one fault does not shift the sequence of another.
    return rate > 0 && this.random() < rate;
  }

  private lastEvent(transition: SimulatedTransition, name: EventName) {
    return transition.events.filter((event) => event.name === name).at(-1);
  }

  private addEvent(transition: SimulatedTransition, name: EventName, status: EventStatus, at: number, errors: SimulatedEventError[] = []) {
    transition.events.push({ name, status, timestamp: new Date(at).toISOString(), errors });
  }

  private scheduleSettlement(at: number): void {
    const delay = Math.max(0, at - this.now());
    if (delay > MAX_TIMER_DELAY_MS) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.settleDue();
    }, delay);
    timer.unref(); // a pending completion must not keep a test or script alive
    this.timers.add(timer);
  }
}
