import { randomUUID } from 'node:crypto';
import { DEMO_PRODUCT_IDS } from '../../../src/domain/demo-catalog';
import type { FaultOverrides } from '../../../src/partner-center/simulator';
import { sampleAccount as makeAccount, sampleSubscription as makeSubscription } from '../../../src/sample-data';
import { startSystemHarness, type SystemHarness } from '../support/system-harness';
import { confirmWhenWaiting } from '../support/waiting';

/**
 * Outcomes of the vendor steps that the client cannot read (docs/partner-center.md, "Unknown outcomes"): each fault is set for
 * one customer tenant at the simulator, and the simulator's counters show that no second transition was ever started.
 */
let system: SystemHarness;

beforeAll(async () => {
  system = await startSystemHarness('uncertain');
}, 120_000);

afterAll(async () => {
  await system?.close();
});

interface Counters {
  postTransitionCalls: number;
  transitionsCreatedBySubscription: Record<string, number>;
  transitionsCreatedByRequestId: Record<string, number>;
  transitionReadErrorsServed: Record<string, number>;
}

async function counters(): Promise<Counters> {
  return (await fetch(`${system.simulatorUrl}/admin/counters`)).json() as Promise<Counters>;
}

async function setTenantFaults(tenantId: string, faults: FaultOverrides): Promise<void> {
  const response = await fetch(`${system.simulatorUrl}/admin/faults/tenants/${encodeURIComponent(tenantId)}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(faults),
  });
  expect(response.status).toBe(200);
}

/** A partial upgrade (3 of 5 seats to a new subscription): the case where a second transition would move seats twice. */
async function startPartialUpgradeUnder(faults: FaultOverrides) {
  const account = makeAccount();
  const source = makeSubscription(account, { quantity: 5 });
  await system.seed({ accounts: [account], subscriptions: [source] });
  await setTenantFaults(account.tenantId, faults);
  const response = await system.api(
    'POST',
    '/v1/upgrades',
    { sourceSubscriptionId: source.id, targetProductId: DEMO_PRODUCT_IDS.businessStandard, quantity: 3, destination: { type: 'new' } },
    { 'idempotency-key': randomUUID() },
  );
  expect(response.status).toBe(202);
  return { account, source, upgradeId: response.body.upgradeId as string };
}

async function expectCompletedWithOneTransition(upgradeId: string, vendorSubscriptionId: string) {
  await confirmWhenWaiting(system, upgradeId);
  const upgrade = await system.waitForUpgrade(upgradeId);
  expect(upgrade.status).toBe('completed');
  expect((await counters()).transitionsCreatedBySubscription[vendorSubscriptionId]).toBe(1);
  return upgrade;
}

test('a 2xx whose body does not parse: the transition Microsoft started is adopted from its list, not requested again', async () => {
  const { source, upgradeId } = await startPartialUpgradeUnder({ brokenTransitionAnswer: true });
  const upgrade = await expectCompletedWithOneTransition(upgradeId, source.externalId);
  expect(upgrade.vendor).toMatchObject({ settledBy: 'listing' });
  expect(upgrade.vendor.transition).toMatchObject({ quantity: 3, toCatalogItemId: expect.any(String) });
  expect(upgrade.vendor.operationId).toEqual(expect.any(String));
});

/** The client gives up after 15 s (src/partner-center-factory.ts); the simulator answers after 16. */
test('a POST that succeeds at Microsoft but times out for us: adopted after settling, under the request id written before the call', async () => {
  const { source, upgradeId } = await startPartialUpgradeUnder({ transitionAnswerDelayMs: 16_000 });
  const upgrade = await expectCompletedWithOneTransition(upgradeId, source.externalId);
  expect(upgrade.vendor).toMatchObject({ settledBy: 'listing', requestId: expect.any(String) });
  expect((await counters()).transitionsCreatedByRequestId[upgrade.vendor.requestId]).toBe(1);
}, 60_000);

test.each([404, 401] as const)('a %i while following gets one more try (a fresh token) and the upgrade completes', async (status) => {
  const { account, source, upgradeId } = await startPartialUpgradeUnder({ transitionReadErrors: { status, times: 1 } });
  const upgrade = await expectCompletedWithOneTransition(upgradeId, source.externalId);
  expect(upgrade.vendor).toMatchObject({ settledBy: 'answer' });
  expect((await counters()).transitionReadErrorsServed[account.tenantId.toLowerCase()]).toBe(1);
});

/** What Microsoft did cannot be read: the upgrade never completes on a guess, and nothing is requested a second time. */
async function expectOutcomeUnknownWithOneTransition(upgradeId: string, vendorSubscriptionId: string, reason: string) {
  const upgrade = await system.waitForUpgrade(upgradeId);
  expect(upgrade.status).toBe('failed');
  expect(upgrade.error).toMatchObject({ code: 'VendorOutcomeUnknown', message: expect.not.stringMatching(/refused/) });
  expect(upgrade.vendor.outcome).toBeUndefined();
  expect((await counters()).transitionsCreatedBySubscription[vendorSubscriptionId]).toBe(1);
  const stored = await system.db.models.upgrades.findById(upgradeId).lean();
  expect(JSON.stringify(stored?.error)).toContain(reason);
  return upgrade;
}

test('an undocumented conversion status reads as neither success nor "nothing happened"', async () => {
  const { source, upgradeId } = await startPartialUpgradeUnder({ unrecognisedConversionStatus: 'Exploded' });
  const upgrade = await expectOutcomeUnknownWithOneTransition(upgradeId, source.externalId, 'unrecognised_status');
  expect(upgrade.error.message).toContain('Exploded');
});

test('a transition that converts another quantity is found by its operation id and not taken as done', async () => {
  const { source, upgradeId } = await startPartialUpgradeUnder({ convertedQuantityShortBy: 1 });
  const upgrade = await expectOutcomeUnknownWithOneTransition(upgradeId, source.externalId, 'quantity_mismatch');
  expect(upgrade.error.message).toMatch(/converted 2 seats, not the 3 requested/);
});

test('404 on every read while following: unknown, and an operator retry follows the same transition to completion', async () => {
  const { account, source, upgradeId } = await startPartialUpgradeUnder({ transitionReadErrors: { status: 404, times: 1_000 } });
  const failed = await expectOutcomeUnknownWithOneTransition(upgradeId, source.externalId, 'unreadable');
  await setTenantFaults(account.tenantId, {});
  const retried = await system.api('POST', `/v1/upgrades/${upgradeId}/retry`, {});
  expect(retried.status).toBe(202);
  const upgrade = await expectCompletedWithOneTransition(upgradeId, source.externalId);
  expect(upgrade.vendor.requestId).toBe(failed.vendor.requestId);
});
