import { forbiddenKeys } from '../../../src/api/routing';
import { productsFromServicesDefinition } from '../../../src/api/routes/catalog';
import { upgradeSummary } from '../../../src/temporal/upgrade-client';

describe('forbiddenKeys', () => {
  test('names $-keys at any depth, including inside arrays', () => {
    expect(forbiddenKeys({ a: { $gt: 1 }, list: [{ ok: 1 }, { $where: 'x' }] })).toEqual(
      expect.arrayContaining([
        { path: 'a.$gt', message: expect.any(String) },
        { path: 'list.1.$where', message: expect.any(String) },
      ]),
    );
    expect(forbiddenKeys({ a: 'has $ inside', b: ['$literal'] })).toEqual([]);
  });

  test('very deep nesting is refused without recursion', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(forbiddenKeys(deep)).toEqual([expect.objectContaining({ message: expect.stringContaining('nested deeper') })]);
  });
});

test('vendor services definition → catalog products (decimal strings to minor units, erpPrice is the sell price)', () => {
  const { products, skippedPrices } = productsFromServicesDefinition([
    {
      catalogItemId: 'A:1:2',
      title: 'A',
      description: undefined,
      offerType: 'Standard',
      segment: undefined,
      minimumQuantity: 1,
      maximumQuantity: 300,
      entraSkuId: 'sku',
      skuPartNumber: undefined,
      upgradeTargets: [{ catalogItemId: 'B:1:2', title: undefined }],
      prices: [
        { termDuration: 'P1Y', billingCycle: 'Annual', currency: 'JPY', unitPrice: '1200', erpPrice: '1500' },
        { termDuration: 'P1Y', billingCycle: 'monthly', currency: 'USD', unitPrice: '6.125', erpPrice: undefined },
      ],
    },
  ]);
  expect(products[0]).toMatchObject({ offerType: 'standard', segment: 'commercial', upgradePaths: ['B:1:2'] });
  expect(products[0]!.prices).toEqual([{ term: 'P1Y', billingFrequency: 'annual', currency: 'JPY', unitPrice: 1500, unitCost: 1200 }]);
  expect(skippedPrices).toEqual([{ productId: 'A:1:2', reason: expect.stringContaining('decimals') }]);
});

test('workflow summary reads as one line', () => {
  const input = {
    upgradeId: 'upg_1',
    accountId: 'acc',
    requestedByKeyId: 'k',
    acceptedAt: '2025-04-12T10:00:00Z',
    requestFingerprint: 'f',
    request: { sourceSubscriptionId: 's', targetProductId: 't', quantity: 4, destination: { type: 'new' as const } },
  };
  expect(
    upgradeSummary(input, {
      kind: 'partial',
      sourceQuantity: 10,
      sourceProductName: 'Microsoft 365 Business Basic',
      targetProductName: 'Microsoft 365 Business Standard',
    }),
  ).toBe('Partial upgrade: 4 × Microsoft 365 Business Basic → Microsoft 365 Business Standard, new subscription');
});
