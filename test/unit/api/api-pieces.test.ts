import { forbiddenKeys } from '../../../src/api/routing';
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
