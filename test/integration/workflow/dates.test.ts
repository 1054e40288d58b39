import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { movableClock, type MovableClock } from '../../../src/clock';
import { addDays, addMonths, daysInclusive, utcDateOf } from '../../../src/domain/dates';
import { DEMO_PRODUCT_IDS, demoProducts } from '../../../src/domain/demo-catalog';
import type { Account, Subscription } from '../../../src/domain/types';
import { sampleAccount, sampleSubscription } from '../../../src/sample-data';
import { prorated } from '../support/half-even';
import { startSystemHarness, type SystemHarness } from '../support/system-harness';

/**
 * Time travel through the HTTP API: one clock for the API and the activities, moved by the test (the simulator's own
 * clock moves with it). Nothing here depends on the day the test runs: every date is counted from today.
 */
let system: SystemHarness;
let clock: MovableClock;
const TODAY = utcDateOf(new Date());

/** Moves our clock and the simulator's (which only moves forward) to 10:00 UTC on `date`. */
function travelTo(date: string) {
  const target = new Date(`${date}T10:00:00Z`);
  const ahead = target.getTime() - clock().getTime();
  clock.travelTo(target);
  if (ahead > 0) system.simulator.advanceClock(ahead);
}

beforeAll(async () => {
  clock = movableClock(`${TODAY}T10:00:00Z`);
  system = await startSystemHarness('dates', { clock });
}, 120_000);

afterAll(async () => {
  await system?.close();
});

/** The sample subscription (10 seats of Business Basic, P1Y billed monthly, 735 a seat) on the given dates. */
function subscriptionOf(
  account: Account,
  fields: Partial<Subscription> & Pick<Subscription, 'termStart' | 'termEnd' | 'chargeStart' | 'chargeEnd'>,
): Subscription {
  return sampleSubscription(account, {
    purchasedAt: `${fields.termStart}T09:00:00.000Z`,
    cancellationWindowEndsAt: `${addDays(fields.termStart, 7)}T09:00:00.000Z`,
    ...fields,
  });
}

/** A monthly P1Y subscription from `termStart`, stored with its first cycle. */
function monthlyFrom(account: Account, termStart: string, extra: Partial<Subscription> = {}): Subscription {
  return subscriptionOf(account, {
    termStart,
    termEnd: addDays(addMonths(termStart, 12), -1),
    chargeStart: termStart,
    chargeEnd: addDays(addMonths(termStart, 1), -1),
    ...extra,
  });
}

/** Starts an upgrade of all seats to Standard that Partner Center refuses: it ends failed, before any conversion. */
async function failedUpgradeOf(source: Subscription): Promise<string> {
  await system.setFaults({ rejectTransitionsForSubscriptions: [source.externalId] });
  try {
    const started = await system.api('POST', '/v1/upgrades', toStandard(source.id), { 'idempotency-key': randomUUID() });
    expect(started.status).toBe(202);
    expect((await system.waitForUpgrade(started.body.upgradeId)).status).toBe('failed');
    return started.body.upgradeId as string;
  } finally {
    await system.setFaults({ rejectTransitionsForSubscriptions: [] });
  }
}

/** A subscription as `POST /v1/subscriptions/import` takes it: 10 seats of Business Basic, P1Y, no cycle given. */
const importItem = (accountId: string, termStart: string, extra: Record<string, unknown> = {}) => ({
  accountId,
  productId: DEMO_PRODUCT_IDS.businessBasic,
  quantity: 10,
  status: 'active',
  isTrial: false,
  term: 'P1Y',
  billingFrequency: 'monthly',
  termStart,
  termEnd: addDays(addMonths(termStart, 12), -1),
  purchasedAt: `${termStart}T09:00:00Z`,
  unitPrice: 735,
  currency: 'USD',
  ...extra,
});

const toStandard = (sourceSubscriptionId: string, quantity = 10) => ({
  sourceSubscriptionId,
  targetProductId: DEMO_PRODUCT_IDS.businessStandard,
  quantity,
  destination: { type: 'new' as const },
});

const listPrice = (productId: string) =>
  demoProducts()
    .find((p) => p.productId === productId)!
    .prices.find((p) => p.term === 'P1Y' && p.billingFrequency === 'monthly' && p.currency === 'USD')!.unitPrice;

test('a subscription through 14 months: cycles roll, the term renews once (written once), an upgrade in month 13 bills the derived cycle', async () => {
  travelTo(TODAY);
  const account = sampleAccount();
  const source = monthlyFrom(account, TODAY, { billingAnchorDate: TODAY });
  await system.seed({ accounts: [account], subscriptions: [source] });

  for (let month = 0; month < 12; month++) {
    travelTo(addDays(addMonths(TODAY, month), 3));
    const view = await system.api('GET', `/v1/subscriptions/${source.id}`);
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({ termStart: TODAY, chargeStart: addMonths(TODAY, month), chargeEnd: addDays(addMonths(TODAY, month + 1), -1) });
    const options = await system.api('GET', `/v1/subscriptions/${source.id}/upgrade-options`);
    expect(options.status).toBe(200);
  }

  // Month 13: the term renewed the day after termEnd, at the catalog's price; written to the history once.
  const renewalDay = addMonths(TODAY, 12);
  travelTo(addDays(renewalDay, 3));
  const renewed = await system.api('GET', `/v1/subscriptions/${source.id}`);
  expect(renewed.body).toMatchObject({
    termStart: renewalDay,
    termEnd: addDays(addMonths(TODAY, 24), -1),
    chargeStart: renewalDay,
    chargeEnd: addDays(addMonths(TODAY, 13), -1),
    unitPrice: listPrice(DEMO_PRODUCT_IDS.businessBasic),
    status: 'active',
  });
  await system.api('GET', `/v1/subscriptions?accountId=${account.id}`);
  const history = await system.api('GET', `/v1/subscriptions/${source.id}/history`);
  expect(history.body.entries.filter((e: { event: string }) => e.event === 'renewed')).toEqual([
    expect.objectContaining({ upgradeId: null, after: expect.objectContaining({ termStart: renewalDay }) }),
  ]);

  const upgradeDate = addDays(renewalDay, 3);
  const cycleEnd = addDays(addMonths(TODAY, 13), -1);
  const quote = await system.api('POST', '/v1/upgrades/quote', toStandard(source.id));
  expect(quote.status).toBe(200);
  const days = daysInclusive(upgradeDate, cycleEnd);
  const cycleDays = daysInclusive(renewalDay, cycleEnd);
  expect(quote.body.credit.lines[0]).toMatchObject({ periodStart: upgradeDate, periodEnd: cycleEnd, days, cycleDays });
  expect(quote.body.credit.lines[0].amount).toBe(-prorated(listPrice(DEMO_PRODUCT_IDS.businessBasic), 10, days, cycleDays));
  expect(quote.body.debit.lines[0].amount).toBe(prorated(listPrice(DEMO_PRODUCT_IDS.businessStandard), 10, days, cycleDays));

  const started = await system.api('POST', '/v1/upgrades', toStandard(source.id), { 'idempotency-key': randomUUID() });
  expect(started.status).toBe(202);
  const upgrade = await system.waitForUpgrade(started.body.upgradeId);
  expect(upgrade.status).toBe('completed');
  expect(upgrade.upgradeDate).toBe(upgradeDate);
  const invoices = await system.db.models.invoices.find({ upgradeId: started.body.upgradeId }).sort({ _id: 1 }).lean();
  expect(invoices.map((i) => [i.type, i.lines[0]!.periodStart, i.lines[0]!.periodEnd, i.total])).toEqual([
    ['credit', upgradeDate, cycleEnd, quote.body.credit.total],
    ['debit', upgradeDate, cycleEnd, quote.body.debit.total],
  ]);

  // Month 14: the converted subscription keeps its anchor: the next cycle is the anchor's, the term the renewed one.
  travelTo(addDays(addMonths(TODAY, 13), 3));
  const after = await system.api('GET', `/v1/subscriptions/${source.id}`);
  expect(after.body).toMatchObject({
    productId: DEMO_PRODUCT_IDS.businessStandard,
    termStart: upgradeDate,
    termEnd: addDays(addMonths(TODAY, 24), -1),
    billingAnchorDate: TODAY,
    chargeStart: addMonths(TODAY, 13),
    chargeEnd: addDays(addMonths(TODAY, 14), -1),
  });
  const finalHistory = await system.api('GET', `/v1/subscriptions/${source.id}/history`);
  expect(finalHistory.body.entries.filter((e: { event: string }) => e.event === 'renewed')).toHaveLength(1);
}, 120_000);

test("the issue's reproduction: a stored cycle that ended answers 200 with the cycle holding the date, and the quote prorates on it", async () => {
  // Stored as imports stored it before cycles were derived: a cycle, no anchor.
  travelTo(addMonths(TODAY, 16));
  const today = utcDateOf(clock());
  const termStart = addMonths(today, -5);
  const account = sampleAccount();
  const source = subscriptionOf(account, {
    termStart,
    termEnd: addDays(addMonths(termStart, 12), -1),
    chargeStart: addMonths(termStart, 3),
    chargeEnd: addDays(addMonths(termStart, 4), -1),
  });
  await system.seed({ accounts: [account], subscriptions: [source] });
  const cycleStart = addMonths(termStart, 5);
  const cycleEnd = addDays(addMonths(termStart, 6), -1);

  const options = await system.api('GET', `/v1/subscriptions/${source.id}/upgrade-options`);
  expect(options.status).toBe(200);
  expect(options.body.targets[0].toNewSubscription).toMatchObject({ eligible: true });
  const view = await system.api('GET', `/v1/subscriptions/${source.id}`);
  expect(view.body).toMatchObject({ chargeStart: cycleStart, chargeEnd: cycleEnd, billingAnchorDate: termStart });

  const quote = await system.api('POST', '/v1/upgrades/quote', toStandard(source.id));
  expect(quote.status).toBe(200);
  const days = daysInclusive(today, cycleEnd);
  const cycleDays = daysInclusive(cycleStart, cycleEnd);
  expect(quote.body.credit.lines[0]).toMatchObject({ periodStart: today, periodEnd: cycleEnd, days, cycleDays, amount: -prorated(735, 10, days, cycleDays) });

  const started = await system.api('POST', '/v1/upgrades', toStandard(source.id), { 'idempotency-key': randomUUID() });
  expect(started.status).toBe(202);
  expect((await system.waitForUpgrade(started.body.upgradeId)).status).toBe('completed');
}, 60_000);

test('imports: the issue’s cycle is accepted as a hint; a cycle that contradicts the term is a 400 naming the fields', async () => {
  const account = sampleAccount();
  await system.seed({ accounts: [account], subscriptions: [] });
  const item = importItem(account.id, '2026-06-15', { chargeStart: '2026-09-15', chargeEnd: '2026-10-14' });
  const accepted = await system.api('POST', '/v1/subscriptions/import', { subscriptions: [item] });
  expect(accepted.status).toBe(200);
  expect(accepted.body.subscriptions[0]).toMatchObject({ billingAnchorDate: '2026-06-15', autoRenew: true });

  const refused = await system.api('POST', '/v1/subscriptions/import', { subscriptions: [{ ...item, chargeStart: '2026-09-20', chargeEnd: '2026-10-19' }] });
  expect(refused.status).toBe(400);
  expect(refused.body.error.details.fields.map((f: { path: string }) => f.path).sort()).toEqual(['subscriptions.0.chargeEnd', 'subscriptions.0.chargeStart']);
  // The same cycle is fine with the anchor it implies.
  const anchored = await system.api('POST', '/v1/subscriptions/import', {
    subscriptions: [{ ...item, chargeStart: '2026-09-20', chargeEnd: '2026-10-19', billingAnchorDate: '2026-05-20' }],
  });
  expect(anchored.status).toBe(200);
});

test('an expired subscription (auto-renew off) answers 422 SOURCE_NOT_ACTIVE, and its expiry is written once', async () => {
  travelTo(addMonths(TODAY, 30));
  const today = utcDateOf(clock());
  const termStart = addMonths(today, -13);
  const account = sampleAccount();
  const source = monthlyFrom(account, termStart, { autoRenew: false });
  await system.seed({ accounts: [account], subscriptions: [source] });

  for (const path of ['/v1/upgrades/quote', '/v1/upgrades']) {
    const response = await system.api('POST', path, toStandard(source.id), { 'idempotency-key': randomUUID() });
    expect(response.status).toBe(422);
    expect(response.body.error.details.reasons.map((r: { code: string }) => r.code)).toEqual(['SOURCE_NOT_ACTIVE']);
  }
  const options = await system.api('GET', `/v1/subscriptions/${source.id}/upgrade-options`);
  expect(options.body.targets[0].toNewSubscription.reasons.map((r: { code: string }) => r.code)).toEqual(['SOURCE_NOT_ACTIVE']);
  expect((await system.api('GET', `/v1/subscriptions/${source.id}`)).body.status).toBe('expired');
  const history = await system.api('GET', `/v1/subscriptions/${source.id}/history`);
  expect(history.body.entries.map((e: { event: string }) => e.event)).toEqual(['expired']);
});

test('upgrade-options, quote and start never answer 5xx over random subscriptions and dates', async () => {
  const account = sampleAccount();
  await system.seed({ accounts: [account], subscriptions: [] });
  const base = utcDateOf(clock());
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: 720 }),
      fc.constantFrom(...(['monthly', 'annual'] as const)),
      fc.boolean(),
      fc.integer({ min: 0, max: 3 * 366 }),
      fc.integer({ min: 1, max: 10 }),
      async (startOffset, billingFrequency, autoRenew, readOffset, quantity) => {
        const termStart = addDays(base, startOffset - 360);
        const [id] = (
          await system.api('POST', '/v1/subscriptions/import', {
            subscriptions: [importItem(account.id, termStart, { billingFrequency, autoRenew, unitPrice: billingFrequency === 'monthly' ? 735 : 8820 })],
          })
        ).body.subscriptions.map((s: { id: string }) => s.id);
        travelTo(addDays(base, readOffset));
        const responses = [
          await system.api('GET', `/v1/subscriptions/${id}/upgrade-options?quantity=${quantity}`),
          await system.api('POST', '/v1/upgrades/quote', toStandard(id, quantity)),
          await system.api('POST', '/v1/upgrades', toStandard(id, quantity), { 'idempotency-key': randomUUID() }),
        ];
        for (const response of responses) expect(response.status).toBeLessThan(500);
      },
    ),
    { numRuns: 25 },
  );
}, 120_000);

test('a retry after Partner Center refused the transition re-plans on the retry date; the record keeps both plans', async () => {
  const firstDay = addDays(addMonths(TODAY, 40), 2);
  travelTo(firstDay);
  const account = sampleAccount();
  const termStart = addMonths(firstDay, -2);
  const source = monthlyFrom(account, termStart, { billingAnchorDate: termStart });
  await system.seed({ accounts: [account], subscriptions: [source] });
  const upgradeId = await failedUpgradeOf(source);
  const firstQuote = (await system.db.models.upgrades.findById(upgradeId).lean())!.plan as { quote: { total: number } };

  // A month and a half later, in another cycle: a new upgrade date and a new quote.
  const retryDay = addDays(firstDay, 45);
  travelTo(retryDay);
  const retried = await system.api('POST', `/v1/upgrades/${upgradeId}/retry`);
  expect(retried.status).toBe(202);
  expect(retried.body.plan).toMatchObject({ replanned: true, previous: { upgradeDate: firstDay }, current: { upgradeDate: retryDay } });
  const upgrade = await system.waitForUpgrade(upgradeId);
  expect(upgrade.status).toBe('completed');
  expect(upgrade.upgradeDate).toBe(retryDay);
  expect(upgrade.replans).toEqual([
    expect.objectContaining({
      previous: expect.objectContaining({ upgradeDate: firstDay, quote: firstQuote.quote }),
      current: expect.objectContaining({ upgradeDate: retryDay }),
    }),
  ]);
  const view = await system.api('GET', `/v1/upgrades/${upgradeId}`);
  expect(view.body.replans).toHaveLength(1);
  expect(view.body.plan.upgradeDate).toBe(retryDay);
  const cycleStart = addMonths(termStart, 3);
  const cycleEnd = addDays(addMonths(termStart, 4), -1);
  const invoices = await system.db.models.invoices.find({ upgradeId }).sort({ _id: 1 }).lean();
  const days = daysInclusive(retryDay, cycleEnd);
  expect(invoices.map((i) => [i.type, i.lines[0]!.periodStart, i.lines[0]!.periodEnd, i.lines[0]!.amount])).toEqual([
    ['credit', retryDay, cycleEnd, -prorated(735, 10, days, daysInclusive(cycleStart, cycleEnd))],
    ['debit', retryDay, cycleEnd, prorated(listPrice(DEMO_PRODUCT_IDS.businessStandard), 10, days, daysInclusive(cycleStart, cycleEnd))],
  ]);
}, 90_000);

test('a retry of an upgrade that is no longer eligible on the retry date is a 422 and leaves it failed', async () => {
  const firstDay = addDays(addMonths(TODAY, 60), 2);
  travelTo(firstDay);
  const account = sampleAccount();
  const termStart = addMonths(firstDay, -11);
  const source = monthlyFrom(account, termStart, { billingAnchorDate: termStart, autoRenew: false });
  await system.seed({ accounts: [account], subscriptions: [source] });
  const upgradeId = await failedUpgradeOf(source);
  travelTo(addMonths(firstDay, 2)); // the term ended without auto-renew
  const retried = await system.api('POST', `/v1/upgrades/${upgradeId}/retry`);
  expect(retried.status).toBe(422);
  expect(retried.body.error.details.reasons.map((r: { code: string }) => r.code)).toEqual(['SOURCE_NOT_ACTIVE']);
  const record = await system.db.models.upgrades.findById(upgradeId).lean();
  expect(record).toMatchObject({ status: 'failed', retries: 0, replans: [] });
  expect(await system.db.models.subscriptionLocks.countDocuments({ upgradeId })).toBe(0);
}, 90_000);
