import fc from 'fast-check';
import { checkEligibility, ELIGIBILITY_CODES, type EligibilityCode, type EligibilityInput } from '../../../src/domain/eligibility';
import { policyByName, POLICY_PROFILES, type EligibilityPolicy } from '../../../src/domain/eligibility-policies';
import { allowedQuantityRange, isQuantityInRange } from '../../../src/domain/upgrade-options';
import { account, BASIC, destinationSubscription, E3, NOW, PREMIUM, SPECIALIZED, STANDARD, subscription, testCatalog, TRIAL } from './fixtures';

/** An eligible request: 4 of 10 Basic seats to Standard, new or into the eligible existing destination. */
function baseInput(destinationType: 'new' | 'existing' = 'new'): EligibilityInput {
  const destination = destinationSubscription();
  return {
    source: subscription(),
    sourceAccount: account(),
    catalog: testCatalog(),
    now: NOW,
    targetProductId: STANDARD,
    quantity: 4,
    destination: destinationType === 'new' ? 'new' : { subscriptionId: destination.id, subscription: destination },
  };
}

type Mutation = (input: EligibilityInput) => EligibilityInput;
const withSource =
  (changes: Partial<EligibilityInput['source']>): Mutation =>
  (i) => ({ ...i, source: { ...i.source, ...changes } });
const withDestination =
  (changes: Partial<EligibilityInput['source']>): Mutation =>
  (i) => {
    if (i.destination === 'new' || !i.destination.subscription) throw new Error('needs an existing destination');
    return { ...i, destination: { ...i.destination, subscription: { ...i.destination.subscription, ...changes } } };
  };
const codesOf = (input: EligibilityInput) => checkEligibility(input).reasons.map((r) => r.code);

interface RuleCase {
  code: EligibilityCode;
  destination: 'new' | 'existing';
  pass: Mutation;
  fail: Mutation;
  message: string;
}

const identity: Mutation = (i) => i;

const RULE_CASES: RuleCase[] = [
  {
    code: 'SOURCE_NOT_ACTIVE',
    destination: 'new',
    pass: identity,
    fail: withSource({ status: 'suspended' }),
    message: 'source subscription sub-src is suspended, not active',
  },
  {
    code: 'SOURCE_IS_TRIAL',
    destination: 'new',
    pass: identity,
    fail: withSource({ isTrial: true }),
    message: 'source subscription sub-src is a trial; trials are converted, not upgraded',
  },
  {
    code: 'SOURCE_IN_CANCELLATION_WINDOW',
    destination: 'new',
    pass: (i) => ({ ...withSource({ cancellationWindowEndsAt: '2025-04-12T09:00:00Z' })(i), policy: POLICY_PROFILES.prism }),
    fail: (i) => ({ ...withSource({ cancellationWindowEndsAt: '2025-04-15T10:00:00Z' })(i), policy: POLICY_PROFILES.prism }),
    message: 'source subscription sub-src is inside its cancellation window until 2025-04-15T10:00:00Z; the prism policy refuses upgrades inside it',
  },
  {
    code: 'TARGET_NOT_ON_UPGRADE_PATH',
    destination: 'new',
    pass: (i) => ({ ...i, targetProductId: PREMIUM }),
    fail: (i) => ({ ...i, targetProductId: E3 }),
    message: `Office 365 E3 (${E3}) is not on the upgrade path of Business Basic (${BASIC})`,
  },
  {
    code: 'DOWNGRADE_NOT_ALLOWED',
    destination: 'new',
    pass: identity,
    fail: (i) => ({ ...withSource({ productId: PREMIUM })(i), targetProductId: STANDARD }),
    message: `Business Standard (${STANDARD}) is below Business Premium (${PREMIUM}) on an upgrade path; NCE never downgrades`,
  },
  {
    code: 'OFFER_TYPE_NOT_ALLOWED',
    destination: 'new',
    pass: withSource({ productId: SPECIALIZED }),
    fail: withSource({ productId: TRIAL }),
    message: 'a trial offer cannot be upgraded to a standard offer; only standard→standard and specialized→standard are allowed',
  },
  {
    code: 'TARGET_PRICE_NOT_AVAILABLE',
    destination: 'new',
    pass: withSource({ currency: 'EUR' }),
    fail: withSource({ currency: 'GBP' }),
    message: 'Business Standard has no GBP price for a P1Y term billed monthly, so it cannot be co-termed with the source',
  },
  {
    code: 'QUANTITY_INVALID',
    destination: 'new',
    pass: (i) => ({ ...i, quantity: 10 }),
    fail: (i) => ({ ...i, quantity: 12 }),
    message: "quantity 12 is above the source's 10 seats; seats can't be added during an upgrade",
  },
  {
    code: 'REMAINDER_BELOW_MINIMUM',
    destination: 'new',
    pass: (i) => ({ ...i, catalog: testCatalog({ [BASIC]: { minQuantity: 5 } }), quantity: 5 }),
    fail: (i) => ({ ...i, catalog: testCatalog({ [BASIC]: { minQuantity: 5 } }), quantity: 6 }),
    message: "upgrading 6 of 10 seats would leave 4 seats on the source, below Business Basic's minimum of 5",
  },
  {
    code: 'UPGRADE_IN_PROGRESS',
    destination: 'new',
    pass: (i) => ({ ...i, busySubscriptionIds: ['sub-other'] }),
    fail: (i) => ({ ...i, busySubscriptionIds: ['sub-src'] }),
    message: 'source subscription sub-src already has an upgrade running',
  },
  {
    code: 'NOT_AUTHORIZED_FOR_ACCOUNT',
    destination: 'new',
    pass: (i) => ({ ...i, caller: new Set(['acc-1']) }),
    fail: (i) => ({ ...i, caller: { mayActOnAccount: (id: string) => id === 'acc-2' } }),
    message: 'the caller may not act on account acc-1',
  },
  {
    code: 'PARTNER_ID_REQUIRED',
    destination: 'new',
    pass: (i) => ({ ...i, sourceAccount: account({ role: 'standard_reseller', partnerId: undefined }) }),
    fail: (i) => ({ ...i, sourceAccount: account({ role: 'indirect_reseller', partnerId: '  ' }) }),
    message: 'account acc-1 trades as indirect_reseller and needs a partner id (MPN), but has none',
  },
  {
    code: 'DESTINATION_NOT_FOUND',
    destination: 'existing',
    pass: identity,
    fail: (i) => ({ ...i, destination: { subscriptionId: 'sub-missing', subscription: undefined } }),
    message: 'destination subscription sub-missing does not exist on this platform',
  },
  {
    code: 'DESTINATION_NOT_ACTIVE',
    destination: 'existing',
    pass: identity,
    fail: withDestination({ status: 'cancelled' }),
    message: 'destination subscription sub-dst is cancelled, not active',
  },
  {
    code: 'DESTINATION_IS_TRIAL',
    destination: 'existing',
    pass: identity,
    fail: withDestination({ isTrial: true }),
    message: 'destination subscription sub-dst is a trial',
  },
  {
    code: 'DESTINATION_PRODUCT_MISMATCH',
    destination: 'existing',
    pass: identity,
    fail: withDestination({ productId: PREMIUM }),
    message: `destination subscription sub-dst is Business Premium (${PREMIUM}), not the chosen target Business Standard (${STANDARD})`,
  },
  {
    code: 'DESTINATION_DIFFERENT_ACCOUNT',
    destination: 'existing',
    pass: identity,
    fail: withDestination({ accountId: 'acc-2' }),
    message: 'destination subscription sub-dst belongs to account acc-2, the source to acc-1',
  },
  {
    code: 'CURRENCY_MISMATCH',
    destination: 'existing',
    pass: identity,
    fail: withDestination({ currency: 'EUR' }),
    message: "destination subscription sub-dst is billed in EUR, the source in USD; one upgrade's credit and debit must be in one currency",
  },
  {
    code: 'DESTINATION_IN_CANCELLATION_WINDOW',
    destination: 'existing',
    pass: withDestination({ cancellationWindowEndsAt: '2025-04-12T09:00:00Z' }),
    fail: withDestination({ cancellationWindowEndsAt: '2025-04-12T09:00:01Z' }),
    message: 'destination subscription sub-dst is inside its cancellation window until 2025-04-12T09:00:01Z',
  },
  {
    code: 'DESTINATION_TERM_SHORTER',
    destination: 'existing',
    pass: withDestination({ term: 'P3Y' }),
    fail: withDestination({ term: 'P1M' }),
    message: "destination subscription sub-dst has a P1M term, shorter than the source's P1Y",
  },
  {
    code: 'DESTINATION_ENDS_EARLIER',
    destination: 'existing',
    pass: withDestination({ termEnd: '2025-12-31' }),
    fail: withDestination({ termEnd: '2025-12-30' }),
    message: "destination subscription sub-dst ends 2025-12-30, before the source's 2025-12-31",
  },
  {
    code: 'DESTINATION_PARTNER_MISMATCH',
    destination: 'existing',
    pass: identity,
    fail: withDestination({ partnerId: 'MPN-9' }),
    message: 'destination subscription sub-dst has partner of record MPN-9, the source MPN-1',
  },
  {
    code: 'DESTINATION_BILLING_MISMATCH',
    destination: 'existing',
    pass: (i) => ({ ...withDestination({ billingFrequency: 'annual' })(i), policy: POLICY_PROFILES.microsoft }),
    fail: (i) => ({ ...withDestination({ billingFrequency: 'annual' })(i), policy: POLICY_PROFILES.infinigate }),
    message:
      'destination subscription sub-dst is P1Y billed annual, the source P1Y billed monthly; the infinigate policy requires the same billing frequency and term',
  },
];

describe('eligibility rules: one passing and one failing case per code', () => {
  it('the base requests are eligible', () => {
    expect(checkEligibility(baseInput('new'))).toEqual({ eligible: true, reasons: [] });
    expect(checkEligibility(baseInput('existing'))).toEqual({ eligible: true, reasons: [] });
  });

  it("covers every code (Microsoft's own verdict, VENDOR_NOT_ELIGIBLE, in vendor-eligibility.test.ts; SCHEDULED_CHANGE_REMOVED, an upgrade at renewal's outcome, in upgrades-at-renewal.test.ts)", () => {
    const notRules = new Set(['VENDOR_NOT_ELIGIBLE', 'SCHEDULED_CHANGE_REMOVED']);
    expect(new Set(RULE_CASES.map((c) => c.code))).toEqual(new Set(ELIGIBILITY_CODES.filter((code) => !notRules.has(code))));
  });

  describe.each(RULE_CASES)('$code', ({ code, destination, pass, fail, message }) => {
    it('passes', () => {
      expect(checkEligibility(pass(baseInput(destination))).reasons).toEqual([]);
    });
    it('fails with a sentence naming the values', () => {
      const verdict = checkEligibility(fail(baseInput(destination)));
      expect(verdict.eligible).toBe(false);
      expect(verdict.reasons).toContainEqual({ code, message });
    });
  });
});

describe('more rule details', () => {
  it('QUANTITY_INVALID: zero, fractions, a new subscription beyond the target maximum, an existing one pushed over it', () => {
    expect(checkEligibility({ ...baseInput(), quantity: 0 }).reasons).toContainEqual({
      code: 'QUANTITY_INVALID',
      message: 'quantity 0 is invalid: an upgrade moves a whole number of seats, at least 1',
    });
    expect(codesOf({ ...baseInput(), quantity: 2.5 })).toEqual(['QUANTITY_INVALID']);
    const smallTarget = testCatalog({ [STANDARD]: { maxQuantity: 3 } });
    expect(checkEligibility({ ...baseInput(), catalog: smallTarget }).reasons).toEqual([
      { code: 'QUANTITY_INVALID', message: 'a new Business Standard subscription takes 1 to 3 seats; quantity 4 is outside that range' },
    ]);
    expect(checkEligibility({ ...baseInput('existing'), catalog: testCatalog({ [STANDARD]: { maxQuantity: 8 } }) }).reasons).toEqual([
      { code: 'QUANTITY_INVALID', message: "moving 4 seats would take destination subscription sub-dst to 9 seats, above Business Standard's maximum of 8" },
    ]);
  });

  it('a full upgrade is always allowed, whatever the product minimum', () => {
    const input = { ...baseInput(), catalog: testCatalog({ [BASIC]: { minQuantity: 50 } }), quantity: 10 };
    expect(checkEligibility(input).eligible).toBe(true);
  });

  it('UPGRADE_IN_PROGRESS also applies to the destination', () => {
    expect(checkEligibility({ ...baseInput('existing'), busySubscriptionIds: new Set(['sub-dst']) }).reasons).toEqual([
      { code: 'UPGRADE_IN_PROGRESS', message: 'destination subscription sub-dst already has an upgrade running' },
    ]);
  });

  it('unknown products are reported, not thrown', () => {
    expect(checkEligibility({ ...baseInput(), targetProductId: 'NOPE:1:2' }).reasons).toEqual([
      { code: 'TARGET_NOT_ON_UPGRADE_PATH', message: 'target product NOPE:1:2 is not in the catalog' },
    ]);
    expect(codesOf({ ...baseInput(), source: subscription({ productId: 'GONE:1:2' }) })).toContain('TARGET_NOT_ON_UPGRADE_PATH');
  });

  it('a downgrade is also off the path: both reasons are reported', () => {
    expect(codesOf({ ...baseInput(), source: subscription({ productId: PREMIUM }), targetProductId: BASIC })).toEqual([
      'TARGET_NOT_ON_UPGRADE_PATH',
      'DOWNGRADE_NOT_ALLOWED',
    ]);
  });

  it('the source in its window is allowed under the default policy', () => {
    const input = { ...baseInput(), source: subscription({ cancellationWindowEndsAt: '2025-04-15T10:00:00Z' }) };
    expect(checkEligibility(input).eligible).toBe(true);
  });

  it('returns ALL failing reasons, source and destination together', () => {
    const input: EligibilityInput = {
      ...baseInput('existing'),
      source: subscription({ status: 'suspended', isTrial: true }),
      quantity: 11,
      busySubscriptionIds: ['sub-src'],
      caller: new Set<string>(),
      sourceAccount: account({ partnerId: undefined }),
    };
    const withDest = withDestination({ status: 'expired', isTrial: true, accountId: 'acc-9', term: 'P1M', termEnd: '2025-06-30', partnerId: 'X' })(input);
    expect(codesOf(withDest)).toEqual([
      'SOURCE_NOT_ACTIVE',
      'SOURCE_IS_TRIAL',
      'QUANTITY_INVALID',
      'UPGRADE_IN_PROGRESS',
      'NOT_AUTHORIZED_FOR_ACCOUNT',
      'PARTNER_ID_REQUIRED',
      'DESTINATION_NOT_ACTIVE',
      'DESTINATION_IS_TRIAL',
      'DESTINATION_DIFFERENT_ACCOUNT',
      'DESTINATION_TERM_SHORTER',
      'DESTINATION_ENDS_EARLIER',
      'DESTINATION_PARTNER_MISMATCH',
    ]);
  });
});

describe('policies', () => {
  it('are selectable by name', () => {
    expect(policyByName('interworks')).toBe(POLICY_PROFILES.interworks);
    expect(() => policyByName('acme')).toThrow('unknown eligibility policy "acme"');
  });

  it('interworks requires a strictly later end date; microsoft and infinigate accept the same date', () => {
    const sameEnd = withDestination({ termEnd: '2025-12-31' })(baseInput('existing'));
    expect(checkEligibility({ ...sameEnd, policy: POLICY_PROFILES.microsoft }).eligible).toBe(true);
    expect(checkEligibility({ ...sameEnd, policy: POLICY_PROFILES.infinigate }).eligible).toBe(true);
    expect(checkEligibility({ ...sameEnd, policy: POLICY_PROFILES.interworks }).reasons).toEqual([
      {
        code: 'DESTINATION_ENDS_EARLIER',
        message: "destination subscription sub-dst ends 2025-12-31, not after the source's 2025-12-31 (the interworks policy requires a later end date)",
      },
    ]);
  });

  it('infinigate also requires the same term ("same Billing Term and Plan duration")', () => {
    const longerTerm = withDestination({ term: 'P3Y', termEnd: '2027-12-31' })(baseInput('existing'));
    expect(checkEligibility({ ...longerTerm, policy: POLICY_PROFILES.microsoft }).eligible).toBe(true);
    expect(codesOf({ ...longerTerm, policy: POLICY_PROFILES.infinigate })).toEqual(['DESTINATION_BILLING_MISMATCH']);
  });

  const policyArb = fc.record({
    name: fc.constant('custom'),
    destinationEndDate: fc.constantFrom('sameOrLater' as const, 'later' as const),
    destinationBilling: fc.constantFrom('ignored' as const, 'sameFrequency' as const, 'sameFrequencyAndTerm' as const),
    sourceInCancellationWindow: fc.constantFrom('allowed' as const, 'refused' as const),
  });
  const scenarioArb = fc.record({
    destTerm: fc.constantFrom('P1M' as const, 'P1Y' as const, 'P3Y' as const),
    destBilling: fc.constantFrom('monthly' as const, 'annual' as const),
    destEndOffset: fc.integer({ min: -3, max: 3 }),
    sourceWindowEndsLater: fc.boolean(),
    destActive: fc.boolean(),
  });
  const POLICY_CODES: EligibilityCode[] = ['DESTINATION_ENDS_EARLIER', 'DESTINATION_BILLING_MISMATCH', 'SOURCE_IN_CANCELLATION_WINDOW'];

  it('a policy only changes the rules it names (property)', () => {
    fc.assert(
      fc.property(policyArb, policyArb, scenarioArb, (policyA: EligibilityPolicy, policyB: EligibilityPolicy, s) => {
        const termEnd = `2025-12-${String(28 + s.destEndOffset).padStart(2, '0')}`;
        const input = withDestination({ term: s.destTerm, billingFrequency: s.destBilling, termEnd, status: s.destActive ? 'active' : 'suspended' })({
          ...baseInput('existing'),
          source: subscription({ termEnd: '2025-12-28', cancellationWindowEndsAt: s.sourceWindowEndsLater ? '2025-04-13T00:00:00Z' : '2025-01-08T00:00:00Z' }),
        });
        const other = (policy: EligibilityPolicy) => codesOf({ ...input, policy }).filter((c) => !POLICY_CODES.includes(c));
        expect(other(policyA)).toEqual(other(policyB));
      }),
      { numRuns: 200 },
    );
  });

  it('stricter settings only ever add reasons (property)', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const termEnd = `2025-12-${String(28 + s.destEndOffset).padStart(2, '0')}`;
        const input = withDestination({ term: s.destTerm, billingFrequency: s.destBilling, termEnd })({
          ...baseInput('existing'),
          source: subscription({ termEnd: '2025-12-28', cancellationWindowEndsAt: s.sourceWindowEndsLater ? '2025-04-13T00:00:00Z' : '2025-01-08T00:00:00Z' }),
        });
        const loose: EligibilityPolicy = {
          name: 'loose',
          destinationEndDate: 'sameOrLater',
          destinationBilling: 'ignored',
          sourceInCancellationWindow: 'allowed',
        };
        const stricter: EligibilityPolicy[] = [
          { ...loose, destinationEndDate: 'later' },
          { ...loose, destinationBilling: 'sameFrequency' },
          { ...loose, destinationBilling: 'sameFrequencyAndTerm' },
          { ...loose, sourceInCancellationWindow: 'refused' },
        ];
        const looseCodes = codesOf({ ...input, policy: loose });
        for (const policy of stricter) {
          const strictCodes = codesOf({ ...input, policy });
          expect(strictCodes).toEqual(expect.arrayContaining(looseCodes));
        }
        const frequencyOnly = codesOf({ ...input, policy: stricter[1] });
        expect(codesOf({ ...input, policy: stricter[2] })).toEqual(expect.arrayContaining(frequencyOnly));
      }),
      { numRuns: 200 },
    );
  });
});

describe('quantity bounds', () => {
  it('allowedQuantityRange: full always, partials leave the minimum', () => {
    const catalog = testCatalog({ [BASIC]: { minQuantity: 3 } });
    const range = allowedQuantityRange(subscription({ quantity: 10 }), catalog.require(BASIC));
    expect(range).toEqual({ min: 1, max: 10, maxPartial: 7 });
    expect([0, 1, 7, 8, 9, 10, 11].map((q) => isQuantityInRange(range, q))).toEqual([false, true, true, false, false, true, false]);
    expect(allowedQuantityRange(subscription({ quantity: 2 }), catalog.require(BASIC))).toEqual({ min: 1, max: 2, maxPartial: 0 });
  });

  it('the engine accepts exactly the quantities the range allows (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: -5, max: 50 }),
        (sourceQuantity, minQuantity, quantity) => {
          const catalog = testCatalog({ [BASIC]: { minQuantity }, [STANDARD]: { maxQuantity: 1000 } });
          const input = { ...baseInput(), catalog, source: subscription({ quantity: sourceQuantity }), quantity };
          const range = allowedQuantityRange(input.source, catalog.require(BASIC));
          expect(checkEligibility(input).eligible).toBe(isQuantityInRange(range, quantity));
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('all reasons are returned (property)', () => {
  const INDEPENDENT_FAILURES: readonly [EligibilityCode, Mutation][] = [
    ['SOURCE_NOT_ACTIVE', withSource({ status: 'expired' })],
    ['SOURCE_IS_TRIAL', withSource({ isTrial: true })],
    ['QUANTITY_INVALID', (i) => ({ ...i, quantity: 11 })],
    ['UPGRADE_IN_PROGRESS', (i) => ({ ...i, busySubscriptionIds: ['sub-src'] })],
    ['NOT_AUTHORIZED_FOR_ACCOUNT', (i) => ({ ...i, caller: new Set<string>() })],
    ['PARTNER_ID_REQUIRED', (i) => ({ ...i, sourceAccount: account({ partnerId: undefined }) })],
    ['DESTINATION_NOT_ACTIVE', withDestination({ status: 'suspended' })],
    ['DESTINATION_IS_TRIAL', withDestination({ isTrial: true })],
    ['DESTINATION_DIFFERENT_ACCOUNT', withDestination({ accountId: 'acc-2' })],
    ['DESTINATION_IN_CANCELLATION_WINDOW', withDestination({ cancellationWindowEndsAt: '2025-05-01T00:00:00Z' })],
    ['DESTINATION_PARTNER_MISMATCH', withDestination({ partnerId: 'MPN-2' })],
    ['DESTINATION_ENDS_EARLIER', withDestination({ termEnd: '2025-11-30' })],
  ];

  it('any combination of independent failures yields exactly those codes', () => {
    fc.assert(
      fc.property(fc.subarray([...INDEPENDENT_FAILURES]), (chosen) => {
        const input = chosen.reduce((acc, [, mutate]) => mutate(acc), baseInput('existing'));
        expect(new Set(codesOf(input))).toEqual(new Set(chosen.map(([code]) => code)));
      }),
      { numRuns: 200 },
    );
  });
});
