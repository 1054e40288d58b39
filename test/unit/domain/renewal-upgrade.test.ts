/** The pure rules of an upgrade at renewal (src/domain/renewal-upgrade.ts) and the renewal waiting for it, across dates. */
import { planRenewalUpgrade, renewalDateOf, renewalRequestProblem } from '../../../src/domain/renewal-upgrade';
import { projectSubscription } from '../../../src/domain/subscription-on-date';
import { account, BASIC, E3, NOW, PREMIUM, STANDARD, subscription, testCatalog } from './fixtures';

const request = (overrides: Record<string, unknown> = {}) => ({
  sourceSubscriptionId: 'sub-src',
  targetProductId: STANDARD,
  quantity: 12,
  destination: { type: 'new' as const },
  ...overrides,
});
const plan = (overrides: Partial<Parameters<typeof planRenewalUpgrade>[0]> = {}) =>
  planRenewalUpgrade({ request: request(), source: subscription(), sourceAccount: account(), catalog: testCatalog(), now: NOW, ...overrides });

test.each([
  ['2025-12-31', '2026-01-01'],
  ['2024-02-28', '2024-02-29'],
  ['2026-02-28', '2026-03-01'],
])('a term ending %s renews at 00:00 UTC on %s', (termEnd, renewalDate) => {
  expect(renewalDateOf({ termEnd })).toBe(renewalDate);
});

test("the next term at the target's price on the renewal day, for any seat count the target allows; auto-renew off is turned on", () => {
  const result = plan({ source: subscription({ autoRenew: false }) });
  expect(result).toEqual({
    ok: true,
    quote: expect.objectContaining({
      renewalDate: '2026-01-01',
      termStart: '2026-01-01',
      termEnd: '2026-12-31',
      quantity: 12,
      unitPrice: 2000,
      firstCycleCharge: 24_000,
      turnsAutoRenewOn: true,
    }),
  });
});

test('an existing destination is refused by field and rule; a new one is not', () => {
  expect(renewalRequestProblem(request({ destination: { type: 'existing', subscriptionId: 'sub-dst' } }))).toMatchObject({
    field: 'destination.type',
    rule: 'new_destination_only',
  });
  expect(renewalRequestProblem(request())).toBeUndefined();
});

test("Microsoft's scheduled eligibilities decide the path: a target only Microsoft lists passes, one it does not list is refused", () => {
  const offPath = { request: request({ targetProductId: E3 }) };
  expect(plan(offPath)).toMatchObject({ ok: false, reasons: [{ code: 'TARGET_NOT_ON_UPGRADE_PATH' }] });
  expect(plan({ ...offPath, microsoftSchedulesTarget: true })).toMatchObject({ ok: true });
  expect(plan({ request: request({ targetProductId: PREMIUM }), microsoftSchedulesTarget: false })).toMatchObject({
    ok: false,
    reasons: [{ code: 'VENDOR_NOT_ELIGIBLE' }],
  });
});

test('mid-term rules do not apply (inside the cancellation window), the target seat limits do', () => {
  expect(plan({ source: subscription({ cancellationWindowEndsAt: '2030-01-01T00:00:00Z' }) })).toMatchObject({ ok: true });
  expect(plan({ request: request({ quantity: 301 }) })).toMatchObject({ ok: false, reasons: [{ code: 'QUANTITY_INVALID' }] });
});

test('the renewal of a subscription with an upgrade at renewal pending waits; without it, it renews', () => {
  const source = subscription({ productId: BASIC });
  const pending = { ...source, renewalUpgrade: { upgradeId: 'upg-1', targetProductId: STANDARD, quantity: 12 } };
  for (const date of ['2026-01-01', '2026-01-02']) {
    expect(projectSubscription(pending, date).subscription).toMatchObject({ termStart: '2025-01-01', termEnd: '2025-12-31', status: 'active' });
    expect(projectSubscription(pending, date).renewals).toEqual([]);
    expect(projectSubscription(source, date).subscription).toMatchObject({ termStart: '2026-01-01', termEnd: '2026-12-31' });
  }
  // Before the term's end nothing differs.
  expect(projectSubscription(pending, '2025-06-15').subscription.chargeStart).toBe(projectSubscription(source, '2025-06-15').subscription.chargeStart);
});
