import { retryReplans } from '../../../src/upgrades/replan-on-retry';

describe('a retry re-plans only when Microsoft never converted', () => {
  it('re-plans with no transition recorded, or a conversion Partner Center failed', () => {
    expect(retryReplans(null)).toBe(true);
    expect(retryReplans(undefined)).toBe(true);
    expect(retryReplans({ outcome: { conversion: 'failed' } })).toBe(true);
  });

  it('keeps the frozen plan once a transition was requested and did not fail (it may have been charged)', () => {
    expect(retryReplans({})).toBe(false);
    expect(retryReplans({ outcome: { conversion: 'completed' } })).toBe(false);
  });
});
