import { randomUUID } from 'node:crypto';
import { DEMO_PRODUCT_IDS } from '../../../src/domain/demo-catalog';
import type { Account, Subscription } from '../../../src/domain/types';
import type { FaultOverrides } from '../../../src/partner-center/simulator';
import { sampleAccount as makeAccount, sampleSubscription as makeSubscription } from '../../../src/sample-data';
import { startSystemHarness, type SystemHarness } from '../support/system-harness';
import { confirmWhenWaiting, eventually } from '../support/waiting';

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
async function startPartialUpgradeUnder(faults: FaultOverrides, beforeStart?: (account: Account, source: Subscription) => void) {
  const account = makeAccount();
  const source = makeSubscription(account, { quantity: 5 });
  await system.seed({ accounts: [account], subscriptions: [source] });
  await setTenantFaults(account.tenantId, faults);
  beforeStart?.(account, source);
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
  // The read-back found the source and the new subscription as the upgrade applied them.
  expect(upgrade.vendor.readBack).toMatchObject({ state: 'matched', checked: [source.externalId, upgrade.vendor.transition.toSubscriptionId] });
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

/**
 * What Microsoft did cannot be read: the upgrade never completes (or fails) on a guess. It waits in needs_attention
 * with its locks, listed by status, the account told; nothing is requested a second time.
 */
async function expectNeedsAttentionWithOneTransition(upgradeId: string, source: { id: string; externalId: string }, reason: string) {
  const upgrade = await eventually(
    () => system.db.models.upgrades.findById(upgradeId).lean() as Promise<any>,
    (doc) => doc?.status === 'needs_attention',
    40_000,
  );
  expect(upgrade.status).toBe('needs_attention');
  expect(upgrade.attention).toMatchObject({ code: 'VendorOutcomeUnknown', during: 'vendor_follow', details: { reason } });
  expect(upgrade.vendor.outcome).toBeUndefined();
  expect(upgrade.error).toBeNull();
  expect((await counters()).transitionsCreatedBySubscription[source.externalId]).toBe(1);
  expect(await system.db.models.subscriptionLocks.countDocuments({ _id: source.id })).toBe(1);
  const listed = await system.api('GET', `/v1/upgrades?status=needs_attention&accountId=${upgrade.accountId}`);
  expect(listed.body.upgrades.map((listedUpgrade: { upgradeId: string }) => listedUpgrade.upgradeId)).toEqual([upgradeId]);
  // The notification is the activity after the status: written a moment after it.
  const notification = await eventually(
    () => system.db.models.notifications.findById(`${upgradeId}:upgrade_needs_attention`).lean(),
    (found) => found !== null,
    10_000,
  );
  expect((notification?.payload as { message: string }).message).toMatch(/^Whether Microsoft converted the subscription is unknown/);
  return upgrade;
}

const resolve = (upgradeId: string, body: unknown, headers?: Record<string, string>) => system.api('POST', `/v1/upgrades/${upgradeId}/resolve`, body, headers);

test('an undocumented conversion status: needs_attention; an operator who saw no conversion ends it failed, locks released, "nothing changed"', async () => {
  const { source, upgradeId } = await startPartialUpgradeUnder({ unrecognisedConversionStatus: 'Exploded' });
  const waiting = await expectNeedsAttentionWithOneTransition(upgradeId, source, 'unrecognised_status');
  expect(waiting.attention.message).toContain('Exploded');

  const resolved = await resolve(upgradeId, { outcome: 'not_converted', note: 'no conversion in Partner Center' });
  expect(resolved.status).toBe(200);
  expect(resolved.body).toMatchObject({ upgradeId, attention: { resolution: { outcome: 'not_converted', resolvedBy: expect.any(String) } } });
  const upgrade = await system.waitForUpgrade(upgradeId);
  expect(upgrade.status).toBe('failed');
  expect(upgrade.error).toMatchObject({ code: 'NOT_CONVERTED_CONFIRMED' });
  expect(await system.db.models.subscriptionLocks.countDocuments({ _id: source.id })).toBe(0);
  expect(await system.db.models.invoices.countDocuments({ upgradeId })).toBe(0);
  const failed = await system.db.models.notifications.findById(`${upgradeId}:upgrade_failed`).lean();
  expect((failed?.payload as { message: string }).message).toMatch(/Nothing was changed\.$/);
  // Settled: a second decision is refused, and changes nothing.
  const again = await resolve(upgradeId, { outcome: 'converted' });
  expect([again.status, again.body.error.code]).toEqual([409, 'NOT_AWAITING_RESOLUTION']);
});

test('a transition that converts another quantity: needs_attention; an operator who saw the conversion lets it complete with its invoices', async () => {
  const { source, upgradeId } = await startPartialUpgradeUnder({ convertedQuantityShortBy: 1 });
  const waiting = await expectNeedsAttentionWithOneTransition(upgradeId, source, 'quantity_mismatch');
  expect(waiting.attention.message).toMatch(/converted 2 seats, not the 3 requested/);

  const resolved = await resolve(upgradeId, { outcome: 'converted', note: 'converted in Partner Center' });
  expect(resolved.status).toBe(200);
  const upgrade = await expectCompletedWithOneTransition(upgradeId, source.externalId);
  expect(upgrade.invoiceIds).toHaveLength(2);
  expect(upgrade.attention).toMatchObject({ code: 'VendorOutcomeUnknown', resolution: { outcome: 'converted' } });
  // The new subscription carries the id Microsoft's answer to the request named.
  const created = await system.db.models.subscriptions.findOne({ appliedUpgradeIds: upgradeId, _id: { $ne: source.id } }).lean();
  expect(created?.externalId).toBe(waiting.vendor.transition.toSubscriptionId);
});

test('404 on every read while following: needs_attention; the resolve endpoint is for operators, validates its body and refuses other states', async () => {
  const { account, source, upgradeId } = await startPartialUpgradeUnder({ transitionReadErrors: { status: 404, times: 1_000 } });
  await expectNeedsAttentionWithOneTransition(upgradeId, source, 'unreadable');

  const created = await system.api('POST', '/v1/api-keys', { role: 'customer', accountIds: [account.id] });
  expect(created.status).toBe(201);
  const customer = { authorization: `Bearer ${created.body.key as string}` };
  expect((await resolve(upgradeId, { outcome: 'converted' }, customer)).status).toBe(403);

  for (const [body, field] of [
    [{}, 'outcome'],
    [{ outcome: 'maybe' }, 'outcome'],
    [{ outcome: 'not_converted', toSubscriptionId: 'x' }, 'toSubscriptionId'],
    [{ outcome: 'converted', toSubscriptionId: 'has spaces' }, 'toSubscriptionId'],
    [{ outcome: 'converted', note: 'n'.repeat(1_001) }, 'note'],
  ] as const) {
    const refused = await resolve(upgradeId, body);
    expect([refused.status, refused.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);
    expect(refused.body.error.details.fields.map((f: { path: string }) => f.path)).toContain(field);
  }
  expect((await resolve('upg_does_not_exist', { outcome: 'converted' })).status).toBe(404);
  // Nothing above reached the workflow: it still waits.
  expect((await system.db.models.upgrades.findById(upgradeId).lean())?.status).toBe('needs_attention');

  await setTenantFaults(account.tenantId, {});
  expect((await resolve(upgradeId, { outcome: 'converted' })).status).toBe(200);
  await expectCompletedWithOneTransition(upgradeId, source.externalId);
});

test('the read-back after a conversion: Partner Center showing another quantity than the upgrade applies is raised, not overwritten', async () => {
  // Microsoft's source holds one seat more than our record: after moving 3 seats it shows 3 left where we apply 2.
  const { source, upgradeId } = await startPartialUpgradeUnder({}, (account, seeded) => {
    system.simulator.state.subscriptionOf(account.tenantId, seeded.externalId)!.quantity = 6;
  });
  const waiting = await eventually(
    () => system.db.models.upgrades.findById(upgradeId).lean() as Promise<any>,
    (doc) => doc?.status === 'needs_attention',
    60_000,
  );
  expect(waiting.attention).toMatchObject({ code: 'VendorOutcomeUnknown', details: { reason: 'read_back_mismatch' } });
  expect(waiting.vendor.readBack).toMatchObject({
    state: 'mismatch',
    mismatches: [{ role: 'source', vendorSubscriptionId: source.externalId, field: 'quantity', expected: 2, found: 3 }],
  });
  // Nothing applied locally yet: our source still holds its 5 seats.
  expect((await system.db.models.subscriptions.findById(source.id).lean())?.quantity).toBe(5);

  expect((await resolve(upgradeId, { outcome: 'converted', note: 'our record was wrong; Microsoft is right' })).status).toBe(200);
  await expectCompletedWithOneTransition(upgradeId, source.externalId);
}, 90_000);
