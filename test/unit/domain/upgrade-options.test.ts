import { evaluateUpgradeOptions } from '../../../src/domain/upgrade-options';
import { account, destinationSubscription, E3, NOW, PREMIUM, STANDARD, subscription, testCatalog } from './fixtures';

describe('evaluateUpgradeOptions', () => {
  it('lists every target on the path with verdicts, the range, and every existing candidate with reasons', () => {
    const eligibleDest = destinationSubscription();
    const inWindow = destinationSubscription({ id: 'sub-dst-2', cancellationWindowEndsAt: '2025-04-14T00:00:00Z' });
    const otherProduct = destinationSubscription({ id: 'sub-e3', productId: E3 });
    const options = evaluateUpgradeOptions({
      source: subscription(),
      sourceAccount: account(),
      catalog: testCatalog(),
      now: NOW,
      accountSubscriptions: [subscription(), eligibleDest, inWindow, otherProduct],
    });
    expect(options.quantityRange).toEqual({ min: 1, max: 10, maxPartial: 9 });
    expect(options.evaluatedQuantity).toBe(10);
    expect(options.targets.map((t) => t.productId)).toEqual([STANDARD, PREMIUM]);
    const standard = options.targets[0]!;
    expect(standard).toMatchObject({ name: 'Business Standard', newSubscriptionUnitPrice: 2000, toNewSubscription: { eligible: true, reasons: [] } });
    expect(standard.existingDestinations.map((d) => [d.subscriptionId, d.verdict.eligible])).toEqual([
      ['sub-dst', true],
      ['sub-dst-2', false],
    ]);
    expect(standard.existingDestinations[1]!.verdict.reasons.map((r) => r.code)).toEqual(['DESTINATION_IN_CANCELLATION_WINDOW']);
    expect(options.targets[1]!.existingDestinations).toEqual([]);
  });
});
