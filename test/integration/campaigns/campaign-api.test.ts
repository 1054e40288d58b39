import { parse } from 'csv-parse/sync';
import { startHarness, seedWorld, P, type Harness, type World } from '../api/harness';

/**
 * The campaign contract without a worker (docs/campaigns.md): who may plan and read campaigns, what a bad request is
 * told, that the dry run's figures are the quotes' figures, paging, and the report. The run itself is covered by
 * campaign.test.ts.
 */
let h: Harness;
let world: World;

beforeAll(async () => {
  h = await startHarness('campaign-api');
  world = await seedWorld(h);
}, 120_000);

afterAll(async () => {
  await h?.close();
});

const campaignBody = (overrides: Record<string, unknown> = {}) => ({
  name: 'Basic to Standard',
  sourceProductId: P.businessBasic,
  targetProductId: P.businessStandard,
  destination: { type: 'new' },
  quantity: 'all',
  ...overrides,
});

test('a bad request is a 400 naming every field and its rule, and stores nothing', async () => {
  const before = (await h.call('GET', '/v1/campaigns')).body.campaigns.length;
  const r = await h.call('POST', '/v1/campaigns', {
    body: { name: '', sourceProductId: 'nope', targetProductId: P.businessStandard, destination: { type: 'existing' }, quantity: 2, extra: 1 },
  });
  expect(r.status).toBe(400);
  const fields = r.body.error.details.fields as Array<{ path: string; message: string }>;
  expect(fields.map((field) => field.path).sort()).toEqual(['destination.type', 'extra', 'name', 'quantity', 'sourceProductId']);
  expect(fields.find((field) => field.path === 'quantity')!.message).toContain('"all"');
  const same = await h.call('POST', '/v1/campaigns', { body: campaignBody({ targetProductId: P.businessBasic }) });
  expect(same.status).toBe(400);
  expect(same.body.error.details.fields).toEqual([{ path: 'targetProductId', message: 'must differ from sourceProductId' }]);
  expect((await h.call('GET', '/v1/campaigns')).body.campaigns).toHaveLength(before);
});

test("a reseller plans its own accounts' subscriptions only; a customer may not; another scope sees nothing", async () => {
  expect((await h.call('POST', '/v1/campaigns', { key: world.customerKey, body: campaignBody() })).status).toBe(403);
  expect((await h.call('GET', '/v1/campaigns', { key: world.customerKey })).status).toBe(403);

  const foreign = await h.call('POST', '/v1/campaigns', { key: world.resellerKey, body: campaignBody({ accountIds: ['cust-1', 'cust-3'] }) });
  expect(foreign.status).toBe(404);
  expect(foreign.body.error.details).toEqual({ field: 'accountIds', accountIds: ['cust-3'] });

  const created = await h.call('POST', '/v1/campaigns', { key: world.resellerKey, body: campaignBody() });
  expect(created.status).toBe(201);
  expect(created.headers.get('location')).toBe(`/v1/campaigns/${created.body.campaignId}`);
  const items = await h.call('GET', `/v1/campaigns/${created.body.campaignId}/items`, { key: world.resellerKey });
  // reseller-1's customers hold sub-1, sub-trial (cust-1) and sub-3 (cust-2); cust-3's sub-9 is reseller-2's.
  expect(items.body.items.map((item: { subscriptionId: string }) => item.subscriptionId).sort()).toEqual(['sub-1', 'sub-3', 'sub-trial']);

  const listed = await h.call('GET', '/v1/campaigns', { key: world.resellerKey });
  expect(listed.body.campaigns.map((campaign: { campaignId: string }) => campaign.campaignId)).toEqual([created.body.campaignId]);
  expect((await h.call('GET', `/v1/campaigns/${created.body.campaignId}`)).status).toBe(200); // the operator sees it

  // An operator's campaign over every account is not the reseller's to read.
  const operators = await h.call('POST', '/v1/campaigns', { body: campaignBody({ name: 'Everyone' }) });
  expect(operators.status).toBe(201);
  expect((await h.call('GET', `/v1/campaigns/${operators.body.campaignId}`, { key: world.resellerKey })).status).toBe(404);
  expect((await h.call('GET', `/v1/campaigns/${operators.body.campaignId}/report.csv`, { key: world.resellerKey })).status).toBe(404);
  expect((await h.call('POST', `/v1/campaigns/${operators.body.campaignId}/execute`, { key: world.resellerKey })).status).toBe(404);
});

test("the dry run's figures are the single quotes' figures, the items page by eligibility, and the report lists every item", async () => {
  const created = await h.call('POST', '/v1/campaigns', { body: campaignBody({ accountIds: ['cust-1', 'cust-2', 'cust-3'] }) });
  expect(created.status).toBe(201);
  const { campaignId, summary } = created.body;
  expect(summary).toMatchObject({ total: 4, eligible: 3, ineligible: 1, byReason: { SOURCE_IS_TRIAL: 1 } });

  // Each eligible item is quoted as POST /v1/upgrades/quote quotes it: the totals are their sums.
  let credit = 0;
  let debit = 0;
  for (const [id, quantity] of [
    ['sub-1', 10],
    ['sub-3', 10],
    ['sub-9', 10],
  ] as const) {
    const quote = await h.call('POST', '/v1/upgrades/quote', {
      body: { sourceSubscriptionId: id, targetProductId: P.businessStandard, quantity, destination: { type: 'new' } },
    });
    expect(quote.status).toBe(200);
    credit += quote.body.quote.refund as number;
    debit += quote.body.quote.totalFees as number;
  }
  expect(summary.totals).toEqual([{ currency: 'USD', credit, debit }]);

  const ineligible = await h.call('GET', `/v1/campaigns/${campaignId}/items?eligible=false`);
  expect(ineligible.body.items).toEqual([
    expect.objectContaining({
      subscriptionId: 'sub-trial',
      eligible: false,
      outcome: 'skipped',
      reasons: [expect.objectContaining({ code: 'SOURCE_IS_TRIAL' })],
    }),
  ]);
  const firstPage = await h.call('GET', `/v1/campaigns/${campaignId}/items?eligible=true&limit=2`);
  const secondPage = await h.call('GET', `/v1/campaigns/${campaignId}/items?eligible=true&limit=2&cursor=${encodeURIComponent(firstPage.body.nextCursor)}`);
  expect([...firstPage.body.items, ...secondPage.body.items].map((item: { subscriptionId: string }) => item.subscriptionId)).toEqual([
    'sub-1',
    'sub-3',
    'sub-9',
  ]);
  expect(secondPage.body.nextCursor).toBeUndefined();
  expect((await h.call('GET', `/v1/campaigns/${campaignId}/items?eligible=maybe`)).body.error.details.fields[0].path).toBe('query.eligible');

  const view = await h.call('GET', `/v1/campaigns/${campaignId}`);
  expect(view.body).toMatchObject({
    status: 'planned',
    counts: { total: 4, pending: 3, running: 0, scheduled: 0, completed: 0, failed: 0, skipped: 1 },
    executedAt: null,
  });
  // A planned campaign has no run to pause.
  const pause = await h.call('POST', `/v1/campaigns/${campaignId}/pause`);
  expect(pause.status).toBe(409);
  expect(pause.body.error.code).toBe('CAMPAIGN_STATE_CONFLICT');

  const report = await h.call('GET', `/v1/campaigns/${campaignId}/report.csv`);
  const rows = parse(report.text, { columns: true }) as Array<Record<string, string>>;
  expect(rows.map((row) => [row.subscriptionId, row.eligible, row.outcome, row.reasons])).toEqual([
    ['sub-1', 'true', 'pending', ''],
    ['sub-3', 'true', 'pending', ''],
    ['sub-9', 'true', 'pending', ''],
    ['sub-trial', 'false', 'skipped', 'SOURCE_IS_TRIAL'],
  ]);
  expect(rows.filter((row) => row.eligible === 'true').reduce((sum, row) => sum + Number(row.credit), 0)).toBe(credit);
});

test('unknown campaigns are 404 on every route', async () => {
  for (const [method, path] of [
    ['GET', '/v1/campaigns/cmp_missing'],
    ['GET', '/v1/campaigns/cmp_missing/items'],
    ['GET', '/v1/campaigns/cmp_missing/report.csv'],
    ['POST', '/v1/campaigns/cmp_missing/execute'],
    ['POST', '/v1/campaigns/cmp_missing/cancel'],
  ] as const) {
    const r = await h.call(method, path);
    expect([path, r.status, r.body.error.code]).toEqual([path, 404, 'NOT_FOUND']);
  }
});

test('a scheduled campaign: `when` as for a single upgrade, each item priced for its day; a day outside a term or not after today is refused', async () => {
  const accountIds = ['cust-1', 'cust-2', 'cust-3'];
  const day = '2025-06-01'; // after NOW (2025-04-12), within every source's term (to 2026-01-09)
  const created = await h.call('POST', '/v1/campaigns', { body: campaignBody({ accountIds, when: { type: 'on_date', date: day } }) });
  expect(created.status).toBe(201);
  expect(created.body.summary).toMatchObject({ total: 4, eligible: 3, byReason: { SOURCE_IS_TRIAL: 1 } });
  // Each item is quoted as a single upgrade scheduled for that day would be (not as today: less of the term is left).
  let credit = 0;
  let debit = 0;
  for (const id of ['sub-1', 'sub-3', 'sub-9']) {
    const quote = await h.call('POST', '/v1/upgrades/quote', {
      body: { sourceSubscriptionId: id, targetProductId: P.businessStandard, quantity: 10, destination: { type: 'new' }, when: { type: 'on_date', date: day } },
    });
    expect(quote.status).toBe(200);
    credit += quote.body.quote.refund as number;
    debit += quote.body.quote.totalFees as number;
  }
  expect(created.body.summary.totals).toEqual([{ currency: 'USD', credit, debit }]);
  const today = await h.call('POST', '/v1/campaigns', { body: campaignBody({ accountIds }) });
  expect(today.body.summary.totals[0].debit).not.toBe(debit);
  const view = await h.call('GET', `/v1/campaigns/${created.body.campaignId}`);
  expect(view.body).toMatchObject({ status: 'planned', when: { type: 'on_date', date: day } });
  expect((await h.call('GET', `/v1/campaigns/${today.body.campaignId}`)).body.when).toBeNull();

  // Executed before its day, it is `scheduled` (its run waits on a timer: test/workflow/campaign-workflow.test.ts).
  const executed = await h.call('POST', `/v1/campaigns/${created.body.campaignId}/execute`);
  expect([executed.status, executed.body.status]).toEqual([202, 'scheduled']);
  expect((await h.call('GET', `/v1/campaigns/${created.body.campaignId}`)).body.status).toBe('scheduled');

  // A day after the sources' terms: each item is ineligible for it, with the single upgrade's reason.
  const late = await h.call('POST', '/v1/campaigns', { body: campaignBody({ accountIds, when: { type: 'on_date', date: '2026-02-01' } }) });
  expect(late.status).toBe(201);
  expect(late.body.summary).toMatchObject({ eligible: 0, byReason: { INVALID_SCHEDULE: 3, SOURCE_IS_TRIAL: 1 } });

  // Today, or a malformed `when`: refused, naming the field and the rule, and nothing stored.
  const before = (await h.call('GET', '/v1/campaigns')).body.campaigns.length;
  const sameDay = await h.call('POST', '/v1/campaigns', { body: campaignBody({ accountIds, when: { type: 'on_date', date: '2025-04-12' } }) });
  expect(sameDay.status).toBe(422);
  expect(sameDay.body.error).toMatchObject({ code: 'INVALID_SCHEDULE', details: { field: 'when.date', rule: 'after_today' } });
  const malformed = await h.call('POST', '/v1/campaigns', { body: campaignBody({ when: { type: 'on_date', date: '2025-02-30' } }) });
  expect(malformed.status).toBe(400);
  expect(malformed.body.error.details.fields.map((field: { path: string }) => field.path)).toEqual(['when.date']);
  expect((await h.call('GET', '/v1/campaigns')).body.campaigns).toHaveLength(before);
});

test('an at-renewal campaign: each item judged and priced as the single at-renewal quote, nothing prorated', async () => {
  const accountIds = ['cust-1', 'cust-2', 'cust-3'];
  const created = await h.call('POST', '/v1/campaigns', { body: campaignBody({ accountIds, when: { type: 'at_renewal' } }) });
  expect(created.status).toBe(201);
  const { campaignId, summary } = created.body;
  expect(summary).toMatchObject({ total: 4, eligible: 3, ineligible: 1, byReason: { SOURCE_IS_TRIAL: 1 } });
  let firstCycles = 0;
  const items = (await h.call('GET', `/v1/campaigns/${campaignId}/items?eligible=true`)).body.items as Array<Record<string, any>>;
  expect(items.map((item) => item.subscriptionId)).toEqual(['sub-1', 'sub-3', 'sub-9']);
  for (const item of items) {
    const quote = await h.call('POST', '/v1/upgrades/quote', {
      body: {
        sourceSubscriptionId: item.subscriptionId,
        targetProductId: P.businessStandard,
        quantity: 10,
        destination: { type: 'new' },
        when: { type: 'at_renewal' },
      },
    });
    expect(quote.status).toBe(200);
    const { termStart, termEnd, unitPrice, firstCycleCharge, turnsAutoRenewOn } = quote.body.renewal;
    expect(item).toMatchObject({
      credit: 0,
      debit: 0,
      dueDate: quote.body.upgradeDate,
      renewal: { termStart, termEnd, unitPrice, firstCycleCharge, turnsAutoRenewOn },
      outcome: 'pending',
      upgradeId: null,
      upgradeStatus: null,
    });
    firstCycles += firstCycleCharge as number;
  }
  expect(summary.totals).toEqual([{ currency: 'USD', credit: 0, debit: 0, renewalFirstCycleCharge: firstCycles }]);
  expect((await h.call('GET', `/v1/campaigns/${campaignId}`)).body.when).toEqual({ type: 'at_renewal' });
  const rows = parse((await h.call('GET', `/v1/campaigns/${campaignId}/report.csv`)).text, { columns: true }) as Array<Record<string, string>>;
  expect(rows.find((row) => row.subscriptionId === 'sub-1')).toMatchObject({
    dueDate: items[0]!.dueDate,
    renewalUnitPrice: String(items[0]!.renewal.unitPrice),
  });
});
