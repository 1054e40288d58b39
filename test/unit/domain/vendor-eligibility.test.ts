/** Microsoft's verdict as part of eligibility: reasons with Microsoft's codes, their order, the transition type. */
import { microsoftReasons, transitionTypeAllowed, withMicrosoftVerdict, type MicrosoftEligibility } from '../../../src/domain/vendor-eligibility';
import { createMicrosoftEligibilitySource } from '../../../src/partner-center/microsoft-eligibility';

const TARGET = 'CFQ7TTC0LDPB:0001:CFQ7TTC0K9ZH';
const conflictingServices = { code: 3, description: 'Transition type incompatible: conflicting services for license transfer.' };

const item = (overrides: Partial<MicrosoftEligibility> = {}): MicrosoftEligibility => ({
  catalogItemId: TARGET,
  transitionTypes: [
    { type: 'transition_only', eligible: true, errors: [] },
    { type: 'transition_with_license_transfer', eligible: true, errors: [] },
  ],
  destinations: [
    { subscriptionId: 'dest-ok', eligible: true, errors: [] },
    { subscriptionId: 'dest-short', eligible: false, errors: [{ code: 3, description: "The destination's term is shorter than the source's." }] },
  ],
  ...overrides,
});

describe('microsoftReasons', () => {
  it('passes a listed target (any letter case) and an eligible destination', () => {
    expect(microsoftReasons([item()], TARGET.toLowerCase())).toEqual([]);
    expect(microsoftReasons([item()], TARGET, 'DEST-OK')).toEqual([]);
  });

  it('refuses a target Microsoft does not list', () => {
    expect(microsoftReasons([item()], 'OTHER:0001:0001')).toEqual([
      expect.objectContaining({ code: 'VENDOR_NOT_ELIGIBLE', details: { description: expect.stringContaining('OTHER:0001:0001') } }),
    ]);
  });

  it("refuses a target with no eligible transition type, with Microsoft's first code and description", () => {
    const refused = item({
      transitionTypes: [
        { type: 'transition_only', eligible: false, errors: [{ code: 2, description: 'Subscription status is not active.' }] },
        { type: 'transition_with_license_transfer', eligible: false, errors: [conflictingServices] },
      ],
    });
    expect(microsoftReasons([refused], TARGET)).toEqual([
      {
        code: 'VENDOR_NOT_ELIGIBLE',
        message: 'Microsoft refuses this upgrade: Subscription status is not active.',
        details: { microsoftCode: 2, description: 'Subscription status is not active.' },
      },
    ]);
  });

  it('refuses an existing destination Microsoft refuses (its code) or does not list', () => {
    expect(microsoftReasons([item()], TARGET, 'dest-short')[0]?.details).toEqual({
      microsoftCode: 3,
      description: "The destination's term is shorter than the source's.",
    });
    expect(microsoftReasons([item()], TARGET, 'dest-unknown')[0]?.code).toBe('VENDOR_NOT_ELIGIBLE');
  });

  it('comes after the local reasons', () => {
    const local = { eligible: false, reasons: [{ code: 'QUANTITY_INVALID' as const, message: 'quantity' }] };
    const verdict = withMicrosoftVerdict(local, microsoftReasons([], TARGET));
    expect(verdict.reasons.map((reason) => reason.code)).toEqual(['QUANTITY_INVALID', 'VENDOR_NOT_ELIGIBLE']);
    expect(withMicrosoftVerdict({ eligible: true, reasons: [] }, [])).toEqual({ eligible: true, reasons: [] });
  });
});

describe('transitionTypeAllowed', () => {
  it('keeps the planned type when Microsoft allows it', () => {
    expect(transitionTypeAllowed(item(), 'transition_with_license_transfer')).toBe('transition_with_license_transfer');
    expect(transitionTypeAllowed(item(), 'transition_only')).toBe('transition_only');
  });

  it('falls back to transition only when the licence transfer is refused (conflicting services, code 3)', () => {
    const conflicting = item({
      transitionTypes: [
        { type: 'transition_only', eligible: true, errors: [] },
        { type: 'transition_with_license_transfer', eligible: false, errors: [conflictingServices] },
      ],
    });
    expect(transitionTypeAllowed(conflicting, 'transition_with_license_transfer')).toBe('transition_only');
  });

  it('allows nothing when Microsoft allows no type or does not list the target', () => {
    expect(transitionTypeAllowed(item({ transitionTypes: [{ type: 'none', eligible: true, errors: [] }] }), 'transition_only')).toBeUndefined();
    expect(transitionTypeAllowed(undefined, 'transition_only')).toBeUndefined();
  });
});

describe("the API's cache of Microsoft's verdict", () => {
  it('reuses an answer per source for its age, asks again after it, and keeps no failure', async () => {
    let now = 0;
    let calls = 0;
    let failNext = false;
    const client = {
      async getTransitionEligibilities() {
        calls += 1;
        if (failNext) throw new Error('503');
        return [];
      },
    };
    const source = createMicrosoftEligibilitySource(client, 60_000, () => now);
    await source.get('tenant', 'sub-1');
    await source.get('TENANT', 'SUB-1');
    expect(calls).toBe(1);
    await source.get('tenant', 'sub-2');
    expect(calls).toBe(2);
    now = 60_000;
    failNext = true;
    await expect(source.get('tenant', 'sub-1')).rejects.toThrow('503');
    failNext = false;
    await source.get('tenant', 'sub-1');
    expect(calls).toBe(4);
  });
});
