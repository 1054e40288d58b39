/**
 * Microsoft's own eligibility verdict (transition eligibilities) in upgrade-options, start and the POST, end to end
 * against the simulator: a target Microsoft refuses, conflicting services (no licence transfer: transition only, then
 * our own reassignment through Graph), and a Partner Center outage.
 */
import { randomUUID } from 'node:crypto';
import { DEMO_PRODUCT_IDS, demoProducts } from '../../../src/domain/demo-catalog';
import { sampleAccount, sampleSubscription } from '../../../src/sample-data';
import { simulatorSeedFor } from '../../../src/partner-center/simulator-registration';
import { startSystemHarness, type SystemHarness } from '../support/system-harness';

let system: SystemHarness;

beforeAll(async () => {
  system = await startSystemHarness('microsoft_verdict', { askMicrosoft: true });
}, 120_000);

afterAll(async () => {
  await system?.close();
  expect(system.simulator.state.unmatchedRequests).toEqual([]);
});

const start = (sourceId: string, quantity: number, targetProductId: string = DEMO_PRODUCT_IDS.businessStandard) =>
  system.api(
    'POST',
    '/v1/upgrades',
    { sourceSubscriptionId: sourceId, targetProductId, quantity, destination: { type: 'new' } },
    { 'idempotency-key': randomUUID() },
  );

async function tenantFaults(tenantId: string, faults: Record<string, unknown>) {
  const response = await fetch(`${system.simulatorUrl}/admin/faults/tenants/${tenantId}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(faults),
  });
  expect(response.status).toBe(200);
}

/** Microsoft's catalog with Business Basic's path to Business Standard removed (ours still has it). */
async function microsoftDropsBasicToStandard(drop: boolean) {
  const products = demoProducts().map((product) =>
    product.productId === DEMO_PRODUCT_IDS.businessBasic && drop
      ? { ...product, upgradePaths: product.upgradePaths.filter((id) => id !== DEMO_PRODUCT_IDS.businessStandard) }
      : product,
  );
  const response = await fetch(`${system.simulatorUrl}/admin/seed`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ products: simulatorSeedFor({ accounts: [], subscriptions: [], products }).products }),
  });
  expect(response.status).toBe(200);
}

test('a target Microsoft refuses: VENDOR_NOT_ELIGIBLE in upgrade-options and 422 on start; other targets stay eligible', async () => {
  const account = sampleAccount();
  const source = sampleSubscription(account, { quantity: 5 });
  await system.seed({ accounts: [account], subscriptions: [source] });
  await microsoftDropsBasicToStandard(true);
  try {
    const options = await system.api('GET', `/v1/subscriptions/${source.id}/upgrade-options`);
    expect(options.status).toBe(200);
    expect(options.body.microsoftVerdict).toBe('applied');
    const standard = options.body.targets.find((target: { productId: string }) => target.productId === DEMO_PRODUCT_IDS.businessStandard);
    expect(standard.toNewSubscription).toMatchObject({
      eligible: false,
      reasons: [{ code: 'VENDOR_NOT_ELIGIBLE', details: { description: expect.stringContaining("not among Microsoft's transition targets") } }],
    });
    const premium = options.body.targets.find((target: { productId: string }) => target.productId === DEMO_PRODUCT_IDS.businessPremium);
    expect(premium.toNewSubscription.eligible).toBe(true);

    const refused = await start(source.id, 5);
    expect(refused.status).toBe(422);
    expect(refused.body.error).toMatchObject({ code: 'NOT_ELIGIBLE', details: { reasons: [{ code: 'VENDOR_NOT_ELIGIBLE' }] } });
    expect(await system.db.models.upgrades.countDocuments({ accountId: account.id })).toBe(0);
  } finally {
    await microsoftDropsBasicToStandard(false);
  }
});

test('conflicting services (no licence transfer): transition only, then our own reassignment through Graph; the upgrade completes', async () => {
  const account = sampleAccount();
  const source = sampleSubscription(account, { quantity: 6 });
  await system.seed({ accounts: [account], subscriptions: [source] });
  await tenantFaults(account.tenantId, { conflictingServices: true });

  const options = await system.api('GET', `/v1/subscriptions/${source.id}/upgrade-options`);
  const standard = options.body.targets.find((target: { productId: string }) => target.productId === DEMO_PRODUCT_IDS.businessStandard);
  expect(standard.toNewSubscription.eligible).toBe(true); // transition_only is still allowed

  const started = await start(source.id, 6);
  expect(started.status).toBe(202);
  const upgrade = await system.waitForUpgrade(started.body.upgradeId as string);
  expect(upgrade.status).toBe('completed');
  expect(upgrade.vendor.transition.transitionType).toBe('transition_only');
  expect(upgrade.seatReassignment).toMatchObject({ mode: 'automatic', state: 'done' });
  expect(upgrade.licenceMovedUserIds).toHaveLength(6);
});

test('a Partner Center outage: upgrade-options falls back to our verdict, flagged; a start is refused with 503 and changes nothing', async () => {
  const account = sampleAccount();
  const source = sampleSubscription(account, { quantity: 3 });
  await system.seed({ accounts: [account], subscriptions: [source] });
  await tenantFaults(account.tenantId, { errorRate5xx: 1 });

  const options = await system.api('GET', `/v1/subscriptions/${source.id}/upgrade-options`);
  expect(options.status).toBe(200);
  expect(options.body.microsoftVerdict).toBe('unavailable');
  expect(options.body.targets.find((target: { productId: string }) => target.productId === DEMO_PRODUCT_IDS.businessStandard).toNewSubscription.eligible).toBe(
    true,
  );

  const refused = await start(source.id, 3);
  expect(refused.status).toBe(503);
  expect(refused.body.error.code).toBe('VENDOR_UNAVAILABLE');
  expect(await system.db.models.upgrades.countDocuments({ accountId: account.id })).toBe(0);
  expect(await system.db.models.subscriptionLocks.countDocuments({ accountId: account.id })).toBe(0);
});
