/** Exactly-once at the vendor (MS-RequestId) and asynchronous completion, proven with counters. */
import { findMatchingTransition, summarizeTransition, type Transition, VendorConflictError, VendorUnavailableError } from '../../../src/partner-center';
import type { SimulatorCounters } from '../../../src/partner-center/simulator';
import { errorOf, eventually, type SimulatorFixture, startSimulator, STANDARD, SUB, TENANT } from './simulator-fixture';

let fixture: SimulatorFixture;
beforeEach(async () => {
  fixture = await startSimulator();
});
afterEach(() => fixture.close());

const request = { toCatalogItemId: STANDARD, quantity: 4, transitionType: 'transition_only' } as const;
const upgrade = (requestId: string) => fixture.client.createTransition(TENANT, SUB.source, request, { requestId });
const counters = () => fixture.admin<SimulatorCounters>('GET', '/admin/counters');

describe('MS-RequestId idempotency', () => {
  it('a repeated request id returns the same transition and creates one', async () => {
    await fixture.admin('PATCH', '/admin/faults', { completionDelayMs: 60_000 });
    const first = await upgrade('upgrade-42');
    const second = await upgrade('upgrade-42');
    const third = await upgrade('upgrade-42');
    expect(second).toEqual(first);
    expect(third.toSubscriptionId).toBe(first.toSubscriptionId);
    expect(await counters()).toMatchObject({
      postTransitionCalls: 3,
      transitionsCreated: 1,
      transitionsCreatedBySubscription: { [SUB.source]: 1 },
      transitionsCreatedByRequestId: { 'upgrade-42': 1 },
    });
  });

  it('20 concurrent calls with one request id create one transition', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => upgrade('upgrade-concurrent')));
    expect(new Set(results.map((transition) => transition.id)).size).toBe(1);
    expect(await counters()).toMatchObject({
      postTransitionCalls: 20,
      transitionsCreated: 1,
      transitionsCreatedByRequestId: { 'upgrade-concurrent': 1 },
    });
    await eventually(async () => ((await fixture.client.getSubscription(TENANT, SUB.source)).quantity === 6 ? true : undefined));
  });

  it('a retry after a lost answer (timeout) with the same id still creates one transition', async () => {
    await fixture.admin('PATCH', '/admin/faults', { latencyMs: 150 });
    const impatient = fixture.makeClient({ timeoutMs: 30 });
    const lost = await errorOf(impatient.createTransition(TENANT, SUB.source, request, { requestId: 'upgrade-retried' }));
    expect(lost).toBeInstanceOf(VendorUnavailableError);
    await fixture.admin('PATCH', '/admin/faults', { latencyMs: 0 });
    await eventually(async () => ((await counters()).transitionsCreated === 1 ? true : undefined)); // the lost call landed
    await upgrade('upgrade-retried');
    expect((await counters()).transitionsCreated).toBe(1);
  });

  it('concurrent calls with different ids: one wins, the others get 409', async () => {
    await fixture.admin('PATCH', '/admin/faults', { completionDelayMs: 60_000 });
    const outcomes = await Promise.allSettled(Array.from({ length: 5 }, (_, index) => upgrade(`competing-${index}`)));
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    for (const outcome of outcomes) if (outcome.status === 'rejected') expect(outcome.reason).toBeInstanceOf(VendorConflictError);
    expect((await counters()).transitionsCreated).toBe(1);
  });
});

describe('asynchronous completion', () => {
  const poll = async (created: Transition) => {
    const match = findMatchingTransition(await fixture.client.listTransitions(TENANT, SUB.source), created);
    return match !== undefined && summarizeTransition(match).finished ? match : undefined;
  };

  it('completes after the configured delay (timer), seen by polling listTransitions', async () => {
    await fixture.admin('PATCH', '/admin/faults', { completionDelayMs: 150 });
    const created = await upgrade('upgrade-delayed');
    expect(summarizeTransition(created)).toMatchObject({ conversion: 'pending', finished: false });
    expect((await fixture.client.getSubscription(TENANT, SUB.source)).quantity).toBe(10);

    const startedAt = Date.now();
    const done = await eventually(() => poll(created), 1_000, 25);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(100);
    expect(summarizeTransition(done)).toEqual({
      conversion: 'completed',
      licenseReassignment: 'not_requested',
      finished: true,
      errors: [],
    });
    const [started, completed] = done.events;
    expect(Date.parse(completed?.timestamp ?? '') - Date.parse(started?.timestamp ?? '')).toBe(150);
    expect(await fixture.client.getSubscription(TENANT, done.toSubscriptionId ?? '')).toMatchObject({
      offerId: STANDARD,
      quantity: 4,
    });
  });

  it('a delay of hours completes lazily on the first read after the clock passes it', async () => {
    await fixture.admin('PATCH', '/admin/faults', { completionDelayMs: 3 * 60 * 60_000 });
    const created = await upgrade('upgrade-slow');
    expect(await poll(created)).toBeUndefined();
    fixture.simulator.advanceClock(2 * 60 * 60_000);
    expect(await poll(created)).toBeUndefined();
    await fixture.admin('POST', '/admin/clock', { advanceMs: 60 * 60_000 });
    const done = await poll(created);
    expect(done?.events.at(-1)).toMatchObject({ name: 'Conversion', status: 'Completed' });
    // The event carries the scheduled instant, not the instant it was read.
    expect(Date.parse(done?.events.at(-1)?.timestamp ?? '') - Date.parse(created.events[0]?.timestamp ?? '')).toBe(3 * 60 * 60_000);
  });

  it('a new request id is accepted once the previous transition finished', async () => {
    await upgrade('first-upgrade');
    await eventually(async () => ((await fixture.client.getSubscription(TENANT, SUB.source)).quantity === 6 ? true : undefined));
    await fixture.client.createTransition(TENANT, SUB.source, { ...request, quantity: 6 }, { requestId: 'second-upgrade' });
    expect((await counters()).transitionsCreatedBySubscription[SUB.source]).toBe(2);
  });
});
