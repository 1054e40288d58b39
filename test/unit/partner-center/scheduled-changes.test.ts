/**
 * Microsoft's scheduled changes through the real client, over HTTP, against the simulator: the PATCH with If-Match
 * (a stale ETag is 412), auto-renew required, the instructions read back on GET, applied by the renewal when the
 * simulator's clock passes it, removed by a PATCH clearing them, and deleted by an immediate transition.
 */
import { VendorBusinessRejectionError, VendorPreconditionFailedError } from '../../../src/partner-center';
import { BASIC, errorOf, eventually, type SimulatorFixture, startSimulator, STANDARD, SUB, TENANT } from './simulator-fixture';

let fixture: SimulatorFixture;
/** The simulator's clock, moved by the tests only. */
let simulatedNow = Date.parse('2026-03-01T09:00:00Z');
beforeEach(async () => {
  simulatedNow = Date.parse('2026-03-01T09:00:00Z');
  fixture = await startSimulator({ now: () => simulatedNow });
});
afterEach(() => fixture.close());

const [standardProductId, standardSkuId, standardAvailabilityId] = STANDARD.split(':') as [string, string, string];
const upgradeAtRenewal = (quantity: number) => ({
  product: { productId: standardProductId, skuId: standardSkuId, availabilityId: standardAvailabilityId, billingCycle: 'monthly', termDuration: 'P1Y' },
  quantity,
});
const read = () => fixture.client.getSubscription(TENANT, SUB.source);
const DAY_MS = 86_400_000;

test('a scheduled upgrade is read back, applied by the renewal (new term, target, quantity), then gone', async () => {
  const before = await read();
  expect(before.attributes?.etag).toEqual(expect.any(String));
  expect(before.scheduledNextTermInstructions).toBeUndefined();
  const written = await fixture.client.updateRenewalSettings(TENANT, before, { autoRenewEnabled: true, scheduledNextTermInstructions: upgradeAtRenewal(8) });
  expect(written.scheduledNextTermInstructions).toEqual(upgradeAtRenewal(8));
  expect(written.attributes?.etag).not.toBe(before.attributes?.etag);
  expect((await read()).scheduledNextTermInstructions).toEqual(upgradeAtRenewal(8));

  // The term ends 2027-01-31: the renewal starts at 00:00 UTC on 2027-02-01, not before.
  simulatedNow = Date.parse('2027-01-31T23:59:00Z');
  const lastDay = await read();
  expect([lastDay.offerId, lastDay.quantity, lastDay.commitmentEndDate?.slice(0, 10)]).toEqual([BASIC, 10, '2027-01-31']);
  simulatedNow = Date.parse('2027-02-01T00:00:00Z');
  const renewed = await read();
  expect(renewed).toMatchObject({ quantity: 8, effectiveStartDate: '2027-02-01', commitmentEndDate: '2028-01-31', scheduledNextTermInstructions: undefined });
});

test('a stale ETag is 412; a subscription without auto-renew cannot take a scheduled change; a PATCH clearing it removes it', async () => {
  const first = await read();
  await fixture.client.updateRenewalSettings(TENANT, first, { autoRenewEnabled: true, scheduledNextTermInstructions: upgradeAtRenewal(10) });
  const stale = await errorOf(fixture.client.updateRenewalSettings(TENANT, first, { autoRenewEnabled: true, scheduledNextTermInstructions: null }));
  expect(stale).toBeInstanceOf(VendorPreconditionFailedError);
  expect((await read()).scheduledNextTermInstructions).toEqual(upgradeAtRenewal(10));

  const refused = await errorOf(
    fixture.client.updateRenewalSettings(TENANT, await read(), { autoRenewEnabled: false, scheduledNextTermInstructions: upgradeAtRenewal(10) }),
  );
  expect(refused).toBeInstanceOf(VendorBusinessRejectionError);

  await fixture.client.updateRenewalSettings(TENANT, await read(), { autoRenewEnabled: true, scheduledNextTermInstructions: null });
  expect((await read()).scheduledNextTermInstructions).toBeUndefined();
});

test('an immediate transition deletes every scheduled change of its source', async () => {
  await fixture.client.updateRenewalSettings(TENANT, await read(), { autoRenewEnabled: true, scheduledNextTermInstructions: upgradeAtRenewal(10) });
  await fixture.client.createTransition(
    TENANT,
    SUB.source,
    { toCatalogItemId: STANDARD, quantity: 4, transitionType: 'transition_only' },
    { requestId: 'scheduled-changes-test' },
  );
  simulatedNow += DAY_MS;
  const after = await eventually(async () => {
    const subscription = await read();
    return subscription.quantity === 6 ? subscription : undefined;
  });
  expect(after.scheduledNextTermInstructions).toBeUndefined();
});
