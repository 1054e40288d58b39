/**
 * An at-renewal campaign on the real services (FerretDB, the Temporal dev server, the Partner Center simulator with
 * Microsoft's verdicts, a worker, the HTTP API) with a moving clock (docs/campaigns.md, "At renewal"): 8 Business Basic
 * subscriptions over 2 accounts, renewing on three different days counted from today — a trial and a suspended one
 * (ineligible), one with a single upgrade at renewal scheduled after the dry run and one locked by a running upgrade
 * (both skipped at the run, naming the other upgrade), four scheduled. The dry run prices each as the single
 * at-renewal quote does (the target's price on its renewal day, nothing prorated); the run writes Microsoft's scheduled
 * change once per item and completes without waiting for the renewals. Then the clock passes the renewals and the
 * report, exported again, reads the upgrades' current statuses. The waiting runs' timers are replaced by runs due now,
 * as in upgrades-at-renewal.test.ts. First the CLI plans such campaigns, taking the schedule as the API's `when`.
 */
import { randomUUID } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import { movableClock } from '../../../src/clock';
import { lockSubscriptions } from '../../../src/db/subscription-locks';
import { addDays, utcDateOf } from '../../../src/domain/dates';
import { DEMO_PRODUCT_IDS } from '../../../src/domain/demo-catalog';
import type { Subscription } from '../../../src/domain/types';
import { sampleAccount, sampleSubscription } from '../../../src/sample-data';
import { campaignWorkflowIdOf, getCampaignProgressQuery } from '../../../workflows/campaign-messages';
import { campaignApi, campaignRequest, untilCampaign, type CampaignApi } from '../../../scripts/support/campaign-driver';
import { cliBinary } from '../support/cli-binary';
import { runRenewalDay } from '../support/renewal-day';
import { OPERATOR_KEY, startSystemHarness, type SystemHarness } from '../support/system-harness';

let system: SystemHarness;
let api: CampaignApi;
const clock = movableClock(new Date());

beforeAll(async () => {
  system = await startSystemHarness('campaign_at_renewal', { askMicrosoft: true, clock, campaignWorkflowOptions: { followIntervalMs: 300 } });
  api = campaignApi(system.apiUrl, OPERATOR_KEY);
}, 120_000);

afterAll(async () => {
  await system?.close();
});

const P = DEMO_PRODUCT_IDS;
const atMicrosoft = (externalId: string) => system.simulator.state.subscriptions.get(externalId.toLowerCase())!;
const writesAtMicrosoft = (externalId: string) => system.simulator.state.counters.scheduledChangesWrittenBySubscription[externalId.toLowerCase()] ?? 0;

async function report(campaignId: string): Promise<Array<Record<string, string>>> {
  const answer = await api.call('GET', `/v1/campaigns/${campaignId}/report.csv`);
  expect(answer.status).toBe(200);
  return parse(answer.text, { columns: true }) as Array<Record<string, string>>;
}

test('the CLI takes the schedule as the API takes `when`: --at-renewal and --date, refused naming the option', async () => {
  const today = utcDateOf(clock());
  const account = sampleAccount();
  const source = sampleSubscription(account, { quantity: 7 }, { today, monthsIntoTerm: 10, daysIntoCycle: 2 });
  const trial = sampleSubscription(account, { isTrial: true }, { today, monthsIntoTerm: 10, daysIntoCycle: 2 });
  await system.seed({ accounts: [account], subscriptions: [source, trial] });
  const cli = cliBinary({
    ...process.env,
    MONGODB_DATABASE: system.db.connection.name,
    TEMPORAL_TASK_QUEUE: system.taskQueue,
    NODE_ENV: 'development',
  });
  const create = (...options: string[]) =>
    cli(['campaign', 'create', '--name', 'CLI', '--source', P.businessBasic, '--target', P.businessStandard, '--accounts', account.id, ...options]);

  const atRenewal = await create('--at-renewal', '--json');
  expect(atRenewal.code).toBe(0);
  const planned = JSON.parse(atRenewal.stdout) as { campaignId: string; summary: Record<string, any> };
  const quote = await api.ok('POST', '/v1/upgrades/quote', {
    sourceSubscriptionId: source.id,
    targetProductId: P.businessStandard,
    quantity: 7,
    destination: { type: 'new' },
    when: { type: 'at_renewal' },
  });
  expect(planned.summary).toMatchObject({ total: 2, eligible: 1, byReason: { SOURCE_IS_TRIAL: 1 } });
  expect(planned.summary.totals).toEqual([{ currency: 'USD', credit: 0, debit: 0, renewalFirstCycleCharge: quote.renewal.firstCycleCharge }]);
  const shown = await cli(['campaign', 'show', planned.campaignId]);
  expect(shown.stdout).toContain("each at its source's renewal");
  expect((await api.ok('GET', `/v1/campaigns/${planned.campaignId}`)).when).toEqual({ type: 'at_renewal' });

  const day = addDays(today, 20);
  const onDate = await create('--date', day);
  expect(onDate.code).toBe(0);
  expect(onDate.stdout).toContain(`, on ${day}: 1 of 2 subscriptions eligible`);

  // The command line is wrong (exit 2): not a calendar day, or both schedules at once. The day's rules are the use
  // case's (exit 1, as the API's 422).
  const notADay = await create('--date', '2027-02-30');
  expect([notADay.code, notADay.stderr]).toEqual([2, expect.stringContaining('--date must be a calendar date YYYY-MM-DD, got "2027-02-30"')]);
  const both = await create('--date', day, '--at-renewal');
  expect([both.code, both.stderr]).toEqual([2, expect.stringMatching(/--date.*cannot be used with.*--at-renewal/)]);
  const sameDay = await create('--date', today);
  expect([sameDay.code, sameDay.stderr]).toEqual([1, expect.stringContaining('INVALID_SCHEDULE: when.date must be after today')]);
}, 120_000);

test('planned with renewal-day prices and no proration, scheduled once each at Microsoft, completed at once; after the renewals the report shows them completed', async () => {
  const today = utcDateOf(clock());
  const accounts = [sampleAccount(), sampleAccount()];
  // Renewals on three different days (9, 10 and 11 months into an annual term); one source's auto-renew is off.
  const sources: Subscription[] = accounts.flatMap((account, a) =>
    [0, 1, 2, 3].map((s) =>
      sampleSubscription(
        account,
        {
          id: `rnw-${a}-${s}-${randomUUID().slice(0, 8)}`,
          quantity: 4 + s,
          ...(a === 0 && s === 3 ? { isTrial: true } : {}),
          ...(a === 1 && s === 3 ? { status: 'suspended' as const } : {}),
          ...(a === 1 && s === 0 ? { autoRenew: false } : {}),
        },
        { today, monthsIntoTerm: 9 + ((a + s) % 3), daysIntoCycle: 2 },
      ),
    ),
  );
  await system.seed({ accounts, subscriptions: sources });
  const [alreadyScheduled, locked, ...toSchedule] = sources.filter((source) => !source.isTrial && source.status === 'active');
  expect(toSchedule).toHaveLength(4);

  // The dry run: each item judged and priced as the single at-renewal quote does.
  const created = await api.call(
    'POST',
    '/v1/campaigns',
    campaignRequest(
      'Basic to Standard at renewal',
      accounts.map((account) => account.id),
      { when: { type: 'at_renewal' } },
    ),
  );
  expect(created.status).toBe(201);
  const { campaignId, summary } = created.body;
  expect(summary).toMatchObject({ total: 8, eligible: 6, ineligible: 2, byReason: { SOURCE_IS_TRIAL: 1, SOURCE_NOT_ACTIVE: 1 } });
  const planned = (await api.ok('GET', `/v1/campaigns/${campaignId}/items?eligible=true`)).items as Array<Record<string, any>>;
  let firstCycles = 0;
  for (const item of planned) {
    const source = sources.find((candidate) => candidate.id === item.subscriptionId)!;
    const quote = await api.ok('POST', '/v1/upgrades/quote', {
      sourceSubscriptionId: source.id,
      targetProductId: P.businessStandard,
      quantity: source.quantity,
      destination: { type: 'new' },
      when: { type: 'at_renewal' },
    });
    expect(quote.upgradeDate).toBe(addDays(source.termEnd, 1));
    expect(quote.credit.lines).toEqual([]);
    expect(quote.debit.lines).toEqual([]);
    expect(item).toMatchObject({
      credit: 0,
      debit: 0,
      dueDate: quote.upgradeDate,
      renewal: { termStart: quote.renewal.termStart, unitPrice: quote.renewal.unitPrice, firstCycleCharge: quote.renewal.firstCycleCharge },
    });
    expect(item.renewal.turnsAutoRenewOn).toBe(source.autoRenew === false);
    // The target's price on the renewal day, not the source's.
    expect(item.renewal.unitPrice).toBeGreaterThan(source.unitPrice);
    firstCycles += quote.renewal.firstCycleCharge as number;
  }
  expect(new Set(planned.map((item) => item.dueDate)).size).toBe(3);
  expect(summary.totals).toEqual([{ currency: 'USD', credit: 0, debit: 0, renewalFirstCycleCharge: firstCycles }]);

  // After the dry run: one source gets its own upgrade at renewal, another is locked by a running upgrade.
  const { body: single } = await system.api(
    'POST',
    '/v1/upgrades',
    {
      sourceSubscriptionId: alreadyScheduled!.id,
      targetProductId: P.businessPremium,
      quantity: alreadyScheduled!.quantity,
      destination: { type: 'new' },
      when: { type: 'at_renewal' },
    },
    { 'idempotency-key': randomUUID() },
  );
  expect(single.status).toBe('scheduled');
  await lockSubscriptions(system.db.models, 'upg_running_elsewhere', locked!.accountId, [locked!.id], 'start');

  expect((await api.call('POST', `/v1/campaigns/${campaignId}/execute`)).status).toBe(202);
  const done = await untilCampaign(api, campaignId, 'the campaign to complete', (view) => view.status === 'completed', 60_000);
  expect(done.counts).toEqual({ total: 8, pending: 0, running: 0, scheduled: 4, completed: 0, failed: 0, skipped: 4 });
  const workflow = system.client.workflow.getHandle(campaignWorkflowIdOf(campaignId));
  expect((await workflow.query(getCampaignProgressQuery)).counts).toEqual(done.counts);
  expect((await workflow.describe()).searchAttributes).toMatchObject({ CampaignStatus: ['completed'], CampaignItemsTotal: [8], CampaignItemsDone: [8] });

  const items = new Map(
    ((await api.ok('GET', `/v1/campaigns/${campaignId}/items`)).items as Array<Record<string, any>>).map((item) => [item.subscriptionId as string, item]),
  );
  expect(items.get(alreadyScheduled!.id)).toMatchObject({ outcome: 'skipped', outcomeReason: expect.stringContaining(single.upgradeId as string) });
  expect(items.get(locked!.id)).toMatchObject({ outcome: 'skipped', outcomeReason: expect.stringContaining('upg_running_elsewhere') });
  const [productId, skuId, availabilityId] = P.businessStandard.split(':');
  for (const source of toSchedule) {
    const item = items.get(source.id)!;
    expect(item).toMatchObject({ outcome: 'scheduled', upgradeStatus: 'scheduled', dueDate: addDays(source.termEnd, 1) });
    // Microsoft holds the change, written once; the upgrade is the one a single start with the item's key gets, and
    // any other key finds the source's one slot taken.
    expect(atMicrosoft(source.externalId)).toMatchObject({
      autoRenewEnabled: true,
      scheduledNextTermInstructions: { product: { productId, skuId, availabilityId }, quantity: source.quantity },
    });
    expect(writesAtMicrosoft(source.externalId)).toBe(1);
    const request = { sourceSubscriptionId: source.id, targetProductId: P.businessStandard, quantity: source.quantity, destination: { type: 'new' } };
    const sameKey = await system.api(
      'POST',
      '/v1/upgrades',
      { ...request, when: { type: 'at_renewal' } },
      { 'idempotency-key': `campaign:${campaignId}:${source.id}` },
    );
    expect([sameKey.status, sameKey.body]).toEqual([202, { upgradeId: item.upgradeId, status: 'scheduled', dueDate: item.dueDate }]);
    const otherKey = await system.api('POST', '/v1/upgrades', { ...request, when: { type: 'at_renewal' } }, { 'idempotency-key': randomUUID() });
    expect([otherKey.status, otherKey.body.error]).toEqual([
      409,
      expect.objectContaining({ code: 'UPGRADE_ALREADY_SCHEDULED', details: expect.objectContaining({ upgradeId: item.upgradeId }) }),
    ]);
  }
  // Each scheduled upgrade records its campaign (the report reads them in one indexed query); a single one none.
  expect((await system.db.models.upgrades.find({ campaignId }, { _id: 1 }).lean()).map((upgrade) => upgrade._id).sort()).toEqual(
    toSchedule.map((source) => items.get(source.id)!.upgradeId as string).sort(),
  );
  expect(await system.db.models.upgrades.findById(single.upgradeId as string, { campaignId: 1 }).lean()).not.toHaveProperty('campaignId');
  // Another campaign over the same sources skips them all (each already has an upgrade scheduled), writing nothing.
  const again = await api.ok('POST', '/v1/campaigns', campaignRequest('Again', [accounts[0]!.id], { when: { type: 'at_renewal' } }));
  await api.ok('POST', `/v1/campaigns/${again.campaignId as string}/execute`);
  const againDone = await untilCampaign(api, again.campaignId as string, 'the second campaign to complete', (view) => view.status === 'completed', 60_000);
  expect(againDone.counts).toMatchObject({ scheduled: 0, skipped: 4 });
  for (const source of toSchedule) expect(writesAtMicrosoft(source.externalId)).toBe(1);
  // Executing the completed campaign again is refused: nothing is scheduled twice.
  expect((await api.call('POST', `/v1/campaigns/${campaignId}/execute`)).status).toBe(409);

  // Cancelling the campaign's upgrades is per upgrade: the first one is cancelled, its change removed at Microsoft.
  const [cancelled, ...renewing] = toSchedule;
  expect((await api.call('POST', `/v1/upgrades/${items.get(cancelled!.id)!.upgradeId as string}/cancel`)).status).toBe(200);
  expect(atMicrosoft(cancelled!.externalId).scheduledNextTermInstructions).toBeNull();
  expect((await api.call('POST', `/v1/upgrades/${single.upgradeId as string}/cancel`)).status).toBe(200);

  // Past every renewal: Microsoft renews (its clock), each upgrade's run renews our subscription into the target.
  const lastRenewal = [...renewing]
    .map((source) => addDays(source.termEnd, 1))
    .sort()
    .at(-1)!;
  clock.travelTo(`${lastRenewal}T02:00:00.000Z`);
  system.simulator.advanceClock(Date.parse(`${lastRenewal}T02:00:00.000Z`) - Date.now());
  for (const source of renewing) {
    await expect(runRenewalDay(system, items.get(source.id)!.upgradeId as string, source.accountId)).resolves.toMatchObject({ outcome: 'renewed' });
    expect(await system.db.models.subscriptions.findById(source.id).lean()).toMatchObject({
      productId: P.businessStandard,
      termStart: addDays(source.termEnd, 1),
    });
  }

  // The report, exported now, reads each upgrade as it stands; the campaign's own counts are its part, as they were.
  // One upgrade recorded before upgrades carried their campaign is read by its id.
  await system.db.models.upgrades.updateOne({ _id: items.get(renewing[0]!.id)!.upgradeId as string }, { $unset: { campaignId: 1 } });
  const rows = new Map((await report(campaignId)).map((row) => [row.subscriptionId!, row]));
  for (const source of renewing) {
    expect(rows.get(source.id)).toMatchObject({
      outcome: 'scheduled',
      upgradeStatus: 'completed',
      dueDate: addDays(source.termEnd, 1),
      credit: '0',
      debit: '0',
    });
  }
  expect(rows.get(cancelled!.id)).toMatchObject({ outcome: 'scheduled', upgradeStatus: 'cancelled' });
  expect(rows.get(locked!.id)).toMatchObject({ outcome: 'skipped', upgradeId: '', upgradeStatus: '' });
  expect(rows.get(sources.find((source) => source.isTrial)!.id)).toMatchObject({ eligible: 'false', reasons: 'SOURCE_IS_TRIAL', dueDate: '' });
  expect(
    (await api.ok('GET', `/v1/campaigns/${campaignId}/items?outcome=scheduled`)).items.map((item: { upgradeStatus: string }) => item.upgradeStatus).sort(),
  ).toEqual(['cancelled', 'completed', 'completed', 'completed']);
  expect((await api.ok('GET', `/v1/campaigns/${campaignId}`)).counts).toEqual(done.counts);
}, 180_000);
