import type { VendorSubscription } from '../../../src/partner-center/partner-center-schemas';
import { expectedAfterConversion, readBackMismatches } from '../../../activities/conversion-read-back';
import { eligiblePlan } from '../domain/fixtures';

/** What Partner Center must show after each kind of conversion, by the plan, and the differences the read-back reports. */
const plan = eligiblePlan;

const shown = (id: string, offerId: string, quantity: number): VendorSubscription => ({
  id,
  offerId,
  quantity,
  status: 'active',
  termDuration: 'P1Y',
  billingCycle: 'monthly',
  isTrial: false,
  offerName: undefined,
  friendlyName: undefined,
  effectiveStartDate: undefined,
  commitmentEndDate: undefined,
  cancellationAllowedUntilDate: undefined,
  autoRenewEnabled: undefined,
  partnerId: undefined,
  scheduledNextTermInstructions: undefined,
  attributes: undefined,
});

test('full → new: the source itself now holds every seat of the target offer (any availability)', () => {
  const full = plan({});
  const target = `${full.vendor.toCatalogItemId.split(':').slice(0, 2).join(':')}:OTHER-AVAILABILITY`;
  const expected = expectedAfterConversion(full, full.vendor.toCatalogItemId, full.vendor.fromSubscriptionId);
  expect(expected).toEqual([expect.objectContaining({ role: 'source', vendorSubscriptionId: full.vendor.fromSubscriptionId, quantity: full.quantity })]);
  expect(readBackMismatches(expected, [shown(full.vendor.fromSubscriptionId, target, full.quantity)])).toEqual([]);
  expect(readBackMismatches(expected, [shown(full.vendor.fromSubscriptionId, full.vendor.fromCatalogItemId, full.quantity)])).toEqual([
    expect.objectContaining({ role: 'source', field: 'offer', found: full.vendor.fromCatalogItemId }),
  ]);
});

test('partial → new: the source keeps the rest of its offer, the new subscription the moved seats; one missing is named', () => {
  const partial = plan({ quantity: 4 });
  const expected = expectedAfterConversion(partial, partial.vendor.toCatalogItemId, 'vendor-new');
  expect(expected.map((e) => [e.role, e.vendorSubscriptionId, e.quantity])).toEqual([
    ['source', partial.vendor.fromSubscriptionId, partial.sourceChange.set.quantity],
    ['destination', 'vendor-new', 4],
  ]);
  const sourceLeft = partial.sourceChange.set.quantity!;
  expect(readBackMismatches(expected, [shown('s', partial.vendor.fromCatalogItemId, sourceLeft), shown('n', partial.vendor.toCatalogItemId, 4)])).toEqual([]);
  expect(readBackMismatches(expected, [shown('s', partial.vendor.fromCatalogItemId, sourceLeft + 1), undefined])).toEqual([
    { role: 'source', vendorSubscriptionId: partial.vendor.fromSubscriptionId, field: 'quantity', expected: sourceLeft, found: sourceLeft + 1 },
    { role: 'destination', vendorSubscriptionId: 'vendor-new', field: 'missing', expected: 'vendor-new', found: null },
  ]);
});

test('→ existing: the destination gains the seats; a source the upgrade empties is not compared (Microsoft may show 0 or cancelled)', () => {
  const whole = plan({ destination: { type: 'existing', subscriptionId: 'sub-dst' } });
  const expected = expectedAfterConversion(whole, whole.vendor.toCatalogItemId, undefined);
  expect(expected).toEqual([
    expect.objectContaining({ role: 'destination', vendorSubscriptionId: whole.vendor.toSubscriptionId, quantity: whole.destinationChange!.set.quantity }),
  ]);
});
