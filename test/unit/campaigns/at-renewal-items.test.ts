import { itemOutcomeOf } from '../../../src/campaigns/item-outcome';
import { summaryOf } from '../../../src/campaigns/plan';
import { itemUpgradeStatus, mayStillChange, type CurrentUpgrade } from '../../../src/campaigns/read';
import { campaignItemsDone } from '../../../workflows/campaign-messages';

/** The pure rules of at-renewal campaign items (docs/campaigns.md, "At renewal"): their outcome, counts and totals. */

const upgrade = (status: string, overrides: Partial<CurrentUpgrade> = {}): CurrentUpgrade => ({
  status,
  dueDate: null,
  error: null,
  writtenAtMicrosoft: false,
  ...overrides,
});

describe('an item follows its upgrade', () => {
  it("an upgrade at renewal is the campaign's part done only once Microsoft holds its change", () => {
    expect(itemOutcomeOf(upgrade('scheduled', { dueDate: '2027-03-01' }))).toBeUndefined();
    expect(itemOutcomeOf(upgrade('scheduled', { dueDate: '2027-03-01', writtenAtMicrosoft: true }))).toEqual({ outcome: 'scheduled' });
  });

  it('Microsoft refusing the change fails the item with the rule that refused it; a cancel by someone fails it too', () => {
    const refused = upgrade('rejected', {
      error: { code: 'NOT_ELIGIBLE', details: { reasons: [{ code: 'VENDOR_NOT_ELIGIBLE' }, { code: 'SOURCE_NOT_ACTIVE' }] } },
    });
    expect(itemOutcomeOf(refused)).toEqual({ outcome: 'failed', outcomeReason: 'NOT_ELIGIBLE: VENDOR_NOT_ELIGIBLE, SOURCE_NOT_ACTIVE' });
    expect(itemOutcomeOf(upgrade('failed', { error: { code: 'VENDOR_REJECTED' } }))).toEqual({ outcome: 'failed', outcomeReason: 'VENDOR_REJECTED' });
    expect(itemOutcomeOf(upgrade('rejected'))).toEqual({ outcome: 'failed', outcomeReason: 'rejected' });
    expect(itemOutcomeOf(upgrade('cancelled'))).toEqual({ outcome: 'failed', outcomeReason: 'cancelled' });
  });

  it('immediate upgrades as before: completed (flagged while the seats wait for a hand), or still on their way', () => {
    expect(itemOutcomeOf(upgrade('completed'))).toEqual({ outcome: 'completed', seatReassignmentPending: false });
    expect(itemOutcomeOf(upgrade('awaiting_manual_seat_reassignment'))).toEqual({ outcome: 'completed', seatReassignmentPending: true });
    for (const status of ['accepted', 'awaiting_vendor', 'applying', 'needs_attention']) expect(itemOutcomeOf(upgrade(status))).toBeUndefined();
  });
});

test('done counts scheduled items, and a run carried over from before they existed still counts', () => {
  expect(campaignItemsDone({ total: 10, pending: 1, running: 1, scheduled: 4, completed: 2, failed: 1, skipped: 1 })).toBe(8);
  expect(campaignItemsDone({ total: 10, pending: 1, running: 1, completed: 6, failed: 1, skipped: 1 })).toBe(8);
});

test("the summary of an at-renewal dry run: nothing prorated, the renewed terms' first cycle summed per currency", () => {
  const eligible = (currency: string, firstCycleCharge: number) => ({
    eligible: true,
    reasons: [],
    currency,
    credit: 0,
    debit: 0,
    renewal: { termStart: '2027-03-01', termEnd: '2028-02-29', unitPrice: firstCycleCharge / 4, firstCycleCharge, turnsAutoRenewOn: false },
  });
  const summary = summaryOf([
    eligible('USD', 5_000),
    eligible('EUR', 1_200),
    eligible('USD', 2_500),
    { eligible: false, reasons: [{ code: 'SOURCE_IS_TRIAL' }], currency: null, credit: null, debit: null, renewal: null },
  ]);
  expect(summary).toEqual({
    total: 4,
    eligible: 3,
    ineligible: 1,
    byReason: { SOURCE_IS_TRIAL: 1 },
    totals: [
      { currency: 'EUR', credit: 0, debit: 0, renewalFirstCycleCharge: 1_200 },
      { currency: 'USD', credit: 0, debit: 0, renewalFirstCycleCharge: 7_500 },
    ],
  });
  // An immediate campaign's totals carry no renewal figure.
  expect(summaryOf([{ eligible: true, reasons: [], currency: 'USD', credit: -300, debit: 900, renewal: null }]).totals).toEqual([
    { currency: 'USD', credit: -300, debit: 900 },
  ]);
});

test("the report reads only the upgrades that may have moved since the item's outcome; a completed one is known", () => {
  const item = (outcome: string, upgradeId: string | null, seatReassignmentPending = false) => ({ outcome, upgradeId, seatReassignmentPending }) as never;
  expect(mayStillChange(item('scheduled', 'upg_1'))).toBe(true);
  expect(mayStillChange(item('failed', 'upg_1'))).toBe(true);
  expect(mayStillChange(item('running', 'upg_1'))).toBe(true);
  expect(mayStillChange(item('completed', 'upg_1', true))).toBe(true);
  expect(mayStillChange(item('completed', 'upg_1'))).toBe(false);
  expect(mayStillChange(item('skipped', null))).toBe(false);
  const read = new Map([['upg_1', upgrade('completed', { dueDate: '2027-03-01' })]]);
  expect(itemUpgradeStatus(item('scheduled', 'upg_1'), read)).toBe('completed');
  expect(itemUpgradeStatus(item('completed', 'upg_2'), read)).toBe('completed');
  expect(itemUpgradeStatus(item('scheduled', 'upg_gone'), read)).toBeNull();
  expect(itemUpgradeStatus(item('skipped', null), read)).toBeNull();
});
