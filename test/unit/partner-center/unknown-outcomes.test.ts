/**
 * The simulator's faults for outcomes the client cannot read, and the helpers that settle them against the list of
 * transitions (docs/partner-center.md, "Unknown outcomes").
 */
import {
  findMatchingTransition,
  summarizeTransition,
  transitionsMatchingRequest,
  VendorAuthError,
  VendorNotFoundError,
  VendorResponseInvalidError,
  VendorUnavailableError,
} from '../../../src/partner-center';
import type { SimulatorCounters } from '../../../src/partner-center/simulator';
import { errorOf, eventually, SIMULATED_START, type SimulatorFixture, startSimulator, STANDARD, SUB, TENANT } from './simulator-fixture';

let fixture: SimulatorFixture;
beforeEach(async () => {
  fixture = await startSimulator();
});
afterEach(() => fixture.close());

const request = { toCatalogItemId: STANDARD, quantity: 4, transitionType: 'transition_only' } as const;
const counters = () => fixture.admin<SimulatorCounters>('GET', '/admin/counters');
const listed = () => fixture.client.listTransitions(TENANT, SUB.source);

it('a 2xx with a broken body: the transition was started, and listing finds it as the request described it', async () => {
  await fixture.admin('PUT', `/admin/faults/tenants/${TENANT}`, { brokenTransitionAnswer: true, completionDelayMs: 60_000 });
  const sentAt = new Date(SIMULATED_START); // the simulator's clock starts there
  expect(await errorOf(fixture.client.createTransition(TENANT, SUB.source, request, { requestId: 'broken' }))).toBeInstanceOf(VendorResponseInvalidError);
  const candidates = transitionsMatchingRequest(await listed(), request, sentAt, 0);
  expect(candidates).toHaveLength(1);
  expect(candidates[0]!.operationId).toEqual(expect.any(String));
  expect((await counters()).transitionsCreated).toBe(1);
});

it('a transition started before the request was sent (less the clock skew) is not a candidate; another quantity is not either', async () => {
  await fixture.admin('PATCH', '/admin/faults', { completionDelayMs: 60_000 });
  await fixture.client.createTransition(TENANT, SUB.source, request, { requestId: 'earlier' });
  const transitions = await listed();
  expect(transitionsMatchingRequest(transitions, request, new Date(SIMULATED_START + 60_000), 30_000)).toHaveLength(0);
  expect(transitionsMatchingRequest(transitions, request, new Date(SIMULATED_START + 60_000), 120_000)).toHaveLength(1);
  expect(transitionsMatchingRequest(transitions, { ...request, quantity: 3 }, new Date(0), 0)).toHaveLength(0);
});

it('a POST answered later than the client waits: a time-out for us, a transition at Microsoft', async () => {
  await fixture.admin('PUT', `/admin/faults/tenants/${TENANT}`, { transitionAnswerDelayMs: 300, completionDelayMs: 60_000 });
  const impatient = fixture.makeClient({ timeoutMs: 50 });
  const lost = await errorOf(impatient.createTransition(TENANT, SUB.source, request, { requestId: 'late' }));
  expect(lost).toBeInstanceOf(VendorUnavailableError);
  expect((lost as VendorUnavailableError).status).toBeUndefined();
  expect(await listed()).toHaveLength(1);
});

it.each([
  [401, VendorAuthError],
  [404, VendorNotFoundError],
] as const)('%i while reading transitions, the configured number of times, then reads work again', async (status, errorClass) => {
  await fixture.client.createTransition(TENANT, SUB.source, request, { requestId: `reads-${status}` });
  await fixture.admin('PUT', `/admin/faults/tenants/${TENANT}`, { transitionReadErrors: { status, times: 2 } });
  expect(await errorOf(listed())).toBeInstanceOf(errorClass);
  expect(await errorOf(listed())).toBeInstanceOf(errorClass);
  expect(await listed()).toHaveLength(1);
  expect((await counters()).transitionReadErrorsServed[TENANT.toLowerCase()]).toBe(2);
});

it('an undocumented status on a finished conversion: unrecognised, not finished, its spelling kept', async () => {
  await fixture.admin('PUT', `/admin/faults/tenants/${TENANT}`, { unrecognisedConversionStatus: 'Exploded', completionDelayMs: 0 });
  const created = await fixture.client.createTransition(TENANT, SUB.source, request, { requestId: 'odd-status' });
  const progress = await eventually(async () => {
    const current = findMatchingTransition(await listed(), created);
    return current && current.events.length > 1 ? summarizeTransition(current) : undefined;
  });
  expect(progress).toMatchObject({ conversion: 'unrecognised', finished: false, unrecognisedStatus: 'Exploded' });
});

it('a conversion of fewer seats: the transition reports the quantity moved and is still found by its operation id', async () => {
  await fixture.admin('PUT', `/admin/faults/tenants/${TENANT}`, { convertedQuantityShortBy: 1, completionDelayMs: 0 });
  const created = await fixture.client.createTransition(TENANT, SUB.source, request, { requestId: 'short' });
  const done = await eventually(async () => {
    const current = findMatchingTransition(await fixture.client.listTransitions(TENANT, SUB.source, { operationId: created.operationId }), created);
    return current && summarizeTransition(current).finished ? current : undefined;
  });
  expect(done).toMatchObject({ operationId: created.operationId, quantity: 3 });
  expect((await fixture.client.getSubscription(TENANT, SUB.source)).quantity).toBe(7);
});
