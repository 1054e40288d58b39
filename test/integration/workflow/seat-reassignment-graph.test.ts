/**
 * Our own seat reassignment through Microsoft Graph, end to end (API → Temporal → worker → the simulator's Partner
 * Center and `/graph`). Microsoft's licence transfer fails for every transition here (licenseReassignmentFailureRate
 * 1), so after each conversion the users' licences are moved by us.
 */
import { randomUUID } from 'node:crypto';
import { DEMO_PRODUCT_IDS } from '../../../src/domain/demo-catalog';
import { sampleAccount, sampleSubscription } from '../../../src/sample-data';
import { startSystemHarness, type SystemHarness } from '../support/system-harness';

let system: SystemHarness;

beforeAll(async () => {
  system = await startSystemHarness('graph_seats', { faults: { licenseReassignmentFailureRate: 1 } });
}, 120_000);

afterAll(async () => {
  await system?.close();
  expect(system.simulator.state.unmatchedRequests).toEqual([]);
});

async function startFullUpgrade(sourceId: string, quantity: number) {
  const response = await system.api(
    'POST',
    '/v1/upgrades',
    { sourceSubscriptionId: sourceId, targetProductId: DEMO_PRODUCT_IDS.businessStandard, quantity, destination: { type: 'new' } },
    { 'idempotency-key': randomUUID() },
  );
  expect(response.status).toBe(202);
  return response.body.upgradeId as string;
}

/** Users of a tenant holding an Entra SKU, as the simulator's Graph sees them. */
function holdersOf(tenantId: string, skuId: string) {
  return [...system.simulator.state.users.values()].filter(
    (user) => user.customerTenantId === tenantId && user.assignedLicenses.some((license) => license.skuId.toLowerCase() === skuId.toLowerCase()),
  );
}

const BASIC_SKU = '3b555118-da6a-4418-894f-7df1e2096870';
const STANDARD_SKU = 'f245ecc8-75af-4f8e-b61f-27d8114de5f3';

test('250 seats: holders paged through @odata.nextLink, one assignLicense per user, the count is the users moved (not those already on the target)', async () => {
  const account = sampleAccount();
  const source = sampleSubscription(account, { quantity: 250 });
  // Three users of the tenant already hold the target (another Business Standard subscription): not moved, not counted.
  const onTarget = sampleSubscription(account, { quantity: 3, productId: DEMO_PRODUCT_IDS.businessStandard });
  await system.seed({ accounts: [account], subscriptions: [source, onTarget] });
  const callsBefore = system.simulator.state.counters.assignLicenseCalls;
  const graphBefore = system.simulator.state.counters.graphRequests;

  const upgradeId = await startFullUpgrade(source.id, 250);
  const upgrade = await system.waitForUpgrade(upgradeId);
  expect(upgrade.status).toBe('completed');
  expect(upgrade.seatReassignment).toMatchObject({ mode: 'automatic', state: 'done' });
  expect(upgrade.licenceMovedUserIds).toHaveLength(250);
  expect(new Set(upgrade.licenceMovedUserIds).size).toBe(250);
  expect(upgrade.licenceMovedUserIds.every((id: string) => id.startsWith(`${source.externalId}-user-`))).toBe(true);

  expect(system.simulator.state.counters.assignLicenseCalls - callsBefore).toBe(250);
  // subscribedSkus once, the holders in three pages of at most 100, then the 250 calls.
  expect(system.simulator.state.counters.graphRequests - graphBefore).toBe(1 + 3 + 250);
  expect(holdersOf(account.tenantId, STANDARD_SKU)).toHaveLength(253);
  expect(holdersOf(account.tenantId, BASIC_SKU)).toHaveLength(0);
  expect((await system.api('GET', `/v1/accounts/${account.id}`)).body.graphConsent).toMatchObject({ state: 'granted' });
}, 120_000);

test('4 seats with 3 users already on the target: the 4 holders of the source move, 4 are reported', async () => {
  const account = sampleAccount();
  const source = sampleSubscription(account, { quantity: 4 });
  const onTarget = sampleSubscription(account, { quantity: 3, productId: DEMO_PRODUCT_IDS.businessStandard });
  await system.seed({ accounts: [account], subscriptions: [source, onTarget] });

  const upgrade = await system.waitForUpgrade(await startFullUpgrade(source.id, 4));
  expect(upgrade.status).toBe('completed');
  expect([...upgrade.licenceMovedUserIds].sort()).toEqual([1, 2, 3, 4].map((seat) => `${source.externalId}-user-${seat}`));
  expect(holdersOf(account.tenantId, BASIC_SKU)).toHaveLength(0);
}, 60_000);

test("a tenant without the app's consent: manual reassignment with that reason, and the account says consent is missing", async () => {
  const account = sampleAccount();
  const source = sampleSubscription(account, { quantity: 5 });
  await system.seed({ accounts: [account], subscriptions: [source] });
  const refuse = await fetch(`${system.simulatorUrl}/admin/faults/tenants/${account.tenantId}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ graphConsentMissing: true }),
  });
  expect(refuse.status).toBe(200);

  const upgradeId = await startFullUpgrade(source.id, 5);
  const waiting = await (async () => {
    for (let attempt = 0; attempt < 200; attempt += 1) {
      const record = await system.db.models.upgrades.findById(upgradeId).lean();
      if (record?.status === 'awaiting_manual_seat_reassignment') return record;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error('the upgrade never waited for a manual reassignment');
  })();
  const seatReassignment = waiting.seatReassignment as { mode: string; reason: string };
  expect(seatReassignment.mode).toBe('manual');
  expect(seatReassignment.reason).toMatch(/no consent in customer tenant .*Authorization_RequestDenied/);
  // One attempt only: missing consent is not retried.
  expect(holdersOf(account.tenantId, BASIC_SKU)).toHaveLength(5);

  const accountView = await system.api('GET', `/v1/accounts/${account.id}`);
  expect(accountView.status).toBe(200);
  expect(accountView.body.graphConsent).toMatchObject({ state: 'missing', code: 'Authorization_RequestDenied' });

  expect((await system.api('POST', `/v1/upgrades/${upgradeId}/seat-reassignment`, {})).status).toBe(200);
  expect((await system.waitForUpgrade(upgradeId)).status).toBe('completed');
}, 60_000);
