/** The simulator's admin API: seeding, fault changes, counters, clock and reset. */
import { DEFAULT_FAULTS } from '../../../src/partner-center/simulator';
import { BASIC, SKU, type SimulatorFixture, startSimulator, STANDARD, SUB, TENANT } from './simulator-fixture';

let fixture: SimulatorFixture;
beforeEach(async () => {
  fixture = await startSimulator();
});
afterEach(() => fixture.close());

const NEW_TENANT = 'd0000000-0000-4000-8000-000000000009';

it('upserts tenants, subscriptions, users and products', async () => {
  await fixture.admin('POST', '/admin/seed', {
    tenants: [{ customerTenantId: NEW_TENANT, partnerId: 'partner-2' }],
    subscriptions: [
      {
        id: 'new-sub',
        customerTenantId: NEW_TENANT,
        offerId: BASIC,
        quantity: 2,
        commitmentEndDate: '2027-01-01T00:00:00Z',
        partnerId: 'partner-2',
      },
    ],
    users: [{ id: 'new-user', customerTenantId: NEW_TENANT, userPrincipalName: 'new@fabrikam.example' }],
    products: [{ catalogItemId: 'NEWPRODUCT:0001:0001', title: 'New product', entraSkuId: 'new-sku' }],
  });
  expect(await fixture.client.getSubscription(NEW_TENANT, 'new-sub')).toMatchObject({
    quantity: 2,
    status: 'active',
    termDuration: 'P1Y',
    partnerId: 'partner-2',
  });
  const holders = [];
  for await (const page of fixture.graph.licenseHolders(NEW_TENANT, SKU.basic)) holders.push(...page);
  expect(holders).toEqual([]);
  expect((await fixture.client.listProducts('US', 'OnlineServices')).map((product) => product.id)).toContain('NEWPRODUCT');
  expect(await fixture.client.listAvailabilities('NEWPRODUCT', '0001', 'US')).toMatchObject([{ catalogItemId: 'NEWPRODUCT:0001:0001' }]);

  await fixture.admin('POST', '/admin/seed', {
    subscriptions: [
      {
        id: SUB.source,
        customerTenantId: TENANT,
        offerId: BASIC,
        quantity: 25,
        commitmentEndDate: '2027-01-31T00:00:00Z',
      },
    ],
  });
  expect((await fixture.client.getSubscription(TENANT, SUB.source)).quantity).toBe(25);
});

it('rejects invalid admin bodies with the failing fields', async () => {
  const response = await fetch(`${fixture.running.url}/admin/faults`, {
    method: 'PATCH',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ errorRate5xx: 2, unknownKnob: true }),
  });
  expect(response.status).toBe(400);
  const body = (await response.json()) as { issues: { path: string }[] };
  expect(body.issues.map((issue) => issue.path)).toEqual(expect.arrayContaining(['errorRate5xx']));
  await expect(fixture.admin('POST', '/admin/seed', { subscriptions: [{ id: 'x' }] })).rejects.toThrow(/400/);
});

it('shows global and per-tenant faults', async () => {
  await fixture.admin('PATCH', '/admin/faults', { latencyMs: 5 });
  const faults = await fixture.admin<{ global: typeof DEFAULT_FAULTS; tenants: Record<string, unknown> }>('PUT', `/admin/faults/tenants/${TENANT}`, {
    licenseShortage: true,
  });
  expect(faults.global).toEqual({ ...DEFAULT_FAULTS, latencyMs: 5 });
  expect(faults.tenants).toEqual({ [TENANT]: { licenseShortage: true } });
});

it('reset restores the start-up data, faults, counters and clock', async () => {
  await fixture.admin('PATCH', '/admin/faults', { completionDelayMs: 60_000 });
  await fixture.client.createTransition(
    TENANT,
    SUB.source,
    { toCatalogItemId: STANDARD, quantity: 1, transitionType: 'transition_only' },
    { requestId: 'before-reset' },
  );
  await fixture.admin('POST', '/admin/clock', { advanceMs: 1_000 });
  await fixture.admin('POST', '/admin/reset');

  const counters = await fixture.admin<{ transitionsCreated: number }>('GET', '/admin/counters');
  expect(counters.transitionsCreated).toBe(0);
  expect(await fixture.client.listTransitions(TENANT, SUB.source)).toEqual([]);
  expect((await fixture.admin<{ global: unknown }>('GET', '/admin/faults')).global).toEqual(DEFAULT_FAULTS);
  const state = await fixture.admin<{ subscriptions: unknown[]; now: string }>('GET', '/admin/state');
  expect(state.subscriptions.length).toBeGreaterThan(0);
  expect(Date.parse(state.now) - Date.parse('2026-03-01T09:00:00Z')).toBeLessThan(1_000);
});

it('answers unknown routes and bad JSON in Partner Center error shape, and records the unknown route', async () => {
  const missing = await fetch(`${fixture.running.url}/v1/nothing-here`, { headers: { Authorization: 'Bearer t' } });
  expect(missing.status).toBe(404);
  expect(await missing.json()).toMatchObject({ code: 'NotFound', source: 'PartnerFD' });
  expect(await fixture.admin('GET', '/admin/unmatched')).toEqual({ unmatched: [{ method: 'GET', path: '/v1/nothing-here' }] });
  fixture.simulator.state.unmatchedRequests.length = 0; // this test called it on purpose

  const badJson = await fetch(`${fixture.running.url}/v1/customers/${TENANT}/subscriptions/${SUB.source}/transitions`, {
    method: 'POST',
    headers: { Authorization: 'Bearer t', 'Content-Type': 'application/json' },
    body: '{not json',
  });
  expect(badJson.status).toBe(400);
  expect(await badJson.json()).toMatchObject({ code: 800002, source: 'PartnerFD' });
});
