/**
 * Upgrades scheduled for a day, on the real services (FerretDB, the Temporal dev server, the Partner Center simulator
 * with Microsoft's verdict, a worker, the HTTP API): validation of `when` with the field and rule named, the quote for
 * the day, the record and listing, one scheduled upgrade per source, cancel leaving nothing behind, and the day's
 * hand-over from the ScheduledUpgradeWorkflow to the ordinary UpgradeWorkflow. The timer itself (days passing) is
 * covered on the time-skipping test server (test/workflow/scheduled-upgrade-workflow.test.ts). Every date is counted
 * from today.
 */
import { randomUUID } from 'node:crypto';
import { addDays, utcDateOf } from '../../../src/domain/dates';
import { DEMO_PRODUCT_IDS } from '../../../src/domain/demo-catalog';
import { sampleAccount, sampleSubscription } from '../../../src/sample-data';
import { createScheduledUpgradeActivities } from '../../../activities/scheduled-upgrades';
import { cancelUpgrade } from '../../../src/cli/commands/cancel';
import { SCHEDULED_UPGRADE_WORKFLOW_TYPE, scheduledWorkflowIdOf, type ScheduledUpgradeWorkflowInput } from '../../../workflows/scheduled-upgrade-contract';
import { startSystemHarness, type SystemHarness } from '../support/system-harness';

let system: SystemHarness;
const today = () => utcDateOf(new Date());

beforeAll(async () => {
  system = await startSystemHarness('scheduled_upgrades', { askMicrosoft: true });
}, 120_000);

afterAll(async () => {
  await system?.close();
});

async function seededSource(overrides: Parameters<typeof sampleSubscription>[1] = {}) {
  const account = sampleAccount();
  const source = sampleSubscription(account, { quantity: 10, ...overrides });
  await system.seed({ accounts: [account], subscriptions: [source] });
  return { account, source };
}

const requestFor = (sourceId: string, quantity = 4) => ({
  sourceSubscriptionId: sourceId,
  targetProductId: DEMO_PRODUCT_IDS.businessStandard,
  quantity,
  destination: { type: 'new' },
});
const schedule = (sourceId: string, date: string, key: string = randomUUID(), quantity = 4) =>
  system.api('POST', '/v1/upgrades', { ...requestFor(sourceId, quantity), when: { type: 'on_date', date } }, { 'idempotency-key': key });

/** Nothing left of a scheduled upgrade but its record: no slot, no lock, no running workflow. */
async function expectNothingBehind(upgradeId: string, sourceId: string) {
  const { models } = system.db;
  expect(await models.scheduledUpgradeSlots.countDocuments({ _id: sourceId })).toBe(0);
  expect(await models.subscriptionLocks.countDocuments({ upgradeId })).toBe(0);
  const description = await system.client.workflow.getHandle(scheduledWorkflowIdOf(upgradeId)).describe();
  expect(description.status.name).not.toBe('RUNNING');
}

describe('validation: a 4xx naming the field and the rule, and nothing written', () => {
  test.each([
    ['today', () => today(), 422, 'after_today'],
    ['a past day', () => addDays(today(), -3), 422, 'after_today'],
    ['a day after the source term', () => '__after_term__', 422, 'within_source_term'],
  ])('%s', async (_name, dateOf, status, rule) => {
    const { account, source } = await seededSource();
    const date = dateOf() === '__after_term__' ? addDays(source.termEnd, 1) : dateOf();
    for (const path of ['/v1/upgrades', '/v1/upgrades/quote']) {
      const response = await system.api('POST', path, { ...requestFor(source.id), when: { type: 'on_date', date } }, { 'idempotency-key': randomUUID() });
      expect(response.status).toBe(status);
      expect(response.body.error).toMatchObject({ code: 'INVALID_SCHEDULE', details: { field: 'when.date', rule } });
    }
    const options = await system.api('GET', `/v1/subscriptions/${source.id}/upgrade-options?date=${date}`);
    expect(options.status).toBe(422);
    expect(options.body.error).toMatchObject({ code: 'INVALID_SCHEDULE', details: { field: 'date', rule } });
    expect(await system.db.models.upgrades.countDocuments({ accountId: account.id })).toBe(0);
    expect(await system.db.models.scheduledUpgradeSlots.countDocuments({ _id: source.id })).toBe(0);
  });

  test('a date that is not a calendar day, or an unknown kind of when, is a 400 naming the field', async () => {
    const { source } = await seededSource();
    const notADay = await schedule(source.id, '2027-02-30');
    expect(notADay.status).toBe(400);
    expect(JSON.stringify(notADay.body.error.details)).toContain('when.date');
    const unknown = await system.api('POST', '/v1/upgrades', { ...requestFor(source.id), when: { type: 'someday' } }, { 'idempotency-key': randomUUID() });
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.body.error.details)).toContain('when');
  });
});

test("the quote and upgrade-options for a day are that day's prices", async () => {
  const { source } = await seededSource();
  const date = addDays(today(), 10);
  const now = await system.api('POST', '/v1/upgrades/quote', requestFor(source.id));
  const later = await system.api('POST', '/v1/upgrades/quote', { ...requestFor(source.id), when: { type: 'on_date', date } });
  expect(now.status).toBe(200);
  expect(later.status).toBe(200);
  expect(now.body.upgradeDate).toBe(today());
  expect(later.body.upgradeDate).toBe(date);
  // Ten days further into the cycle: a different day count on the credit line.
  expect(later.body.credit.lines[0].periodStart).toBe(date);
  expect(later.body.credit.lines[0].days).not.toBe(now.body.credit.lines[0].days);

  const options = await system.api('GET', `/v1/subscriptions/${source.id}/upgrade-options?date=${date}&quantity=4`);
  expect(options.status).toBe(200);
  const standard = options.body.targets.find((target: { productId: string }) => target.productId === DEMO_PRODUCT_IDS.businessStandard);
  expect(standard.toNewSubscription.pricePreview.quote).toEqual(later.body.quote);
});

test('scheduled: recorded with its day and quote, listed, one per source, source unlocked; cancel leaves nothing behind', async () => {
  const { account, source } = await seededSource();
  const date = addDays(today(), 7);
  const key = randomUUID();
  const scheduled = await schedule(source.id, date, key);
  expect(scheduled.status).toBe(202);
  expect(scheduled.body).toMatchObject({ status: 'scheduled', dueDate: date });
  const { upgradeId } = scheduled.body as { upgradeId: string };
  // The same request again is the same upgrade; the same key for another day is refused.
  expect((await schedule(source.id, date, key)).body).toMatchObject({ upgradeId, status: 'scheduled' });
  expect((await schedule(source.id, addDays(date, 1), key)).body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');

  const shown = await system.api('GET', `/v1/upgrades/${upgradeId}`);
  expect(shown.body).toMatchObject({ status: 'scheduled', dueDate: date, when: { type: 'on_date', date }, upgradeDate: date, live: false });
  expect(shown.body.plan.quote.currency).toBe('USD');
  const listed = await system.api('GET', `/v1/upgrades?accountId=${account.id}&status=scheduled`);
  expect(listed.body.upgrades.map((upgrade: { upgradeId: string; dueDate: string }) => [upgrade.upgradeId, upgrade.dueDate])).toEqual([[upgradeId, date]]);

  // One scheduled upgrade per source; the source itself is not locked while it waits.
  const second = await schedule(source.id, addDays(date, 2), randomUUID(), 2);
  expect(second.status).toBe(409);
  expect(second.body.error).toMatchObject({ code: 'UPGRADE_ALREADY_SCHEDULED', details: { upgradeId, dueDate: date } });
  expect(await system.db.models.subscriptionLocks.countDocuments({ _id: source.id })).toBe(0);
  // An immediate upgrade of the source is told of the scheduled one.
  const quoteNow = await system.api('POST', '/v1/upgrades/quote', requestFor(source.id, 2));
  expect(quoteNow.body.warnings).toEqual([expect.objectContaining({ code: 'SCHEDULED_UPGRADE_PENDING', upgradeId, dueDate: date })]);
  const options = await system.api('GET', `/v1/subscriptions/${source.id}/upgrade-options`);
  expect(options.body.scheduledUpgrade).toEqual({ upgradeId, dueDate: date });

  // Operators find it in Temporal by its due date ("due within the next 8 days").
  const dueBefore = `${addDays(today(), 8)}T00:00:00Z`;
  const query = `WorkflowType = "${SCHEDULED_UPGRADE_WORKFLOW_TYPE}" AND UpgradeStatus = "scheduled" AND UpgradeDueDate < "${dueBefore}" AND UpgradeAccountId = "${account.id}"`;
  const found: string[] = [];
  for (let attempt = 0; attempt < 50 && found.length === 0; attempt++) {
    for await (const run of system.client.workflow.list({ query })) found.push(run.workflowId);
    if (found.length === 0) await new Promise((resolve) => setTimeout(resolve, 200));
  }
  expect(found).toEqual([scheduledWorkflowIdOf(upgradeId)]);

  const cancelled = await system.api('POST', `/v1/upgrades/${upgradeId}/cancel`);
  expect(cancelled.status).toBe(200);
  expect(cancelled.body).toEqual({ upgradeId, status: 'cancelled' });
  const record = await system.db.models.upgrades.findById(upgradeId).lean();
  expect(record).toMatchObject({ status: 'cancelled', steps: { cancelled: { status: 'completed' } } });
  await system.client.workflow.getHandle(scheduledWorkflowIdOf(upgradeId)).result();
  await expectNothingBehind(upgradeId, source.id);
  expect((await system.api('POST', `/v1/upgrades/${upgradeId}/cancel`)).body.error.code).toBe('NOT_SCHEDULED');
  expect((await system.api('POST', '/v1/upgrades/quote', requestFor(source.id, 2))).body.warnings).toBeUndefined();
  // The source may be scheduled again.
  const again = await schedule(source.id, addDays(date, 1));
  expect(again.status).toBe(202);
  await system.api('POST', `/v1/upgrades/${again.body.upgradeId}/cancel`);
});

test('an upgrade that runs now cannot be cancelled (409)', async () => {
  const { source } = await seededSource();
  const started = await system.api('POST', '/v1/upgrades', requestFor(source.id, 10), { 'idempotency-key': randomUUID() });
  expect(started.status).toBe(202);
  const refused = await system.api('POST', `/v1/upgrades/${started.body.upgradeId}/cancel`);
  expect(refused.status).toBe(409);
  expect(refused.body.error.code).toBe('NOT_SCHEDULED');
  await system.waitForUpgrade(started.body.upgradeId);
});

/** Replaces the waiting run by one due today, as the day coming would: the real activities and UpgradeWorkflow run. */
async function runDueToday(upgradeId: string, accountId: string) {
  const handle = system.client.workflow.getHandle(scheduledWorkflowIdOf(upgradeId));
  await handle.terminate('the test brings the day forward');
  const input: ScheduledUpgradeWorkflowInput = {
    upgradeId,
    accountId,
    dueDate: today(),
    seatReassignment: system.upgradeUseCases.seatReassignment,
  };
  const run = await system.client.workflow.start(SCHEDULED_UPGRADE_WORKFLOW_TYPE, {
    taskQueue: system.taskQueue,
    workflowId: `${scheduledWorkflowIdOf(upgradeId)}:today`,
    args: [input],
  });
  return run.result();
}

test('on its day: re-checked through the start use case, locked, recorded as accepted, and run to completion by the UpgradeWorkflow', async () => {
  const { account, source } = await seededSource();
  const scheduled = await schedule(source.id, addDays(today(), 3), randomUUID(), 10);
  expect(scheduled.status).toBe(202);
  const { upgradeId } = scheduled.body as { upgradeId: string };
  await expect(runDueToday(upgradeId, account.id)).resolves.toEqual({ upgradeId, outcome: 'started' });
  const record = await system.waitForUpgrade(upgradeId);
  expect(record).toMatchObject({ status: 'completed', upgradeDate: today(), dueDate: addDays(today(), 3) });
  expect(Object.keys(record.steps)).toEqual(expect.arrayContaining(['scheduled', 'accepted', 'validated', 'completed']));
  expect(await system.db.models.invoices.countDocuments({ upgradeId })).toBe(2);
  expect(await system.db.models.scheduledUpgradeSlots.countDocuments({ _id: source.id })).toBe(0);
  expect(await system.db.models.subscriptionLocks.countDocuments({ upgradeId })).toBe(0);
});

test('no longer eligible on its day: rejected with its reasons and the webhook outbox entry, nothing locked', async () => {
  const { account, source } = await seededSource();
  const scheduled = await schedule(source.id, addDays(today(), 4));
  const { upgradeId } = scheduled.body as { upgradeId: string };
  // Mid-term, someone suspends the source.
  await system.db.models.subscriptions.updateOne({ _id: source.id }, { $set: { status: 'suspended' } });
  await expect(runDueToday(upgradeId, account.id)).resolves.toEqual({ upgradeId, outcome: 'rejected' });
  const record = await system.db.models.upgrades.findById(upgradeId).lean();
  expect(record).toMatchObject({ status: 'rejected', error: { code: 'NOT_ELIGIBLE', details: { reasons: [{ code: 'SOURCE_NOT_ACTIVE' }] } } });
  expect(await system.db.models.notifications.countDocuments({ upgradeId, event: 'upgrade_failed' })).toBe(1);
  await expectNothingBehind(upgradeId, source.id);
});

test('the day re-check asks Microsoft: a re-check while Partner Center is silent throws (the activity retries), changing nothing', async () => {
  const { account, source } = await seededSource();
  const scheduled = await schedule(source.id, addDays(today(), 5));
  const { upgradeId } = scheduled.body as { upgradeId: string };
  const input: ScheduledUpgradeWorkflowInput = {
    upgradeId,
    accountId: account.id,
    dueDate: today(),
    seatReassignment: system.upgradeUseCases.seatReassignment,
  };
  await fetch(`${system.simulatorUrl}/admin/faults/tenants/${account.tenantId}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ errorRate5xx: 1 }),
  });
  try {
    // The activity as the worker runs it (Microsoft asked afresh, no cache).
    const { beginScheduledUpgrade } = createScheduledUpgradeActivities(system.activityDeps);
    await expect(beginScheduledUpgrade(input, new Date().toISOString())).rejects.toMatchObject({ code: 'VENDOR_UNAVAILABLE' });
  } finally {
    await fetch(`${system.simulatorUrl}/admin/faults/tenants/${account.tenantId}`, { method: 'DELETE' });
  }
  expect((await system.db.models.upgrades.findById(upgradeId).lean())?.status).toBe('scheduled');
  expect(await system.db.models.subscriptionLocks.countDocuments({ upgradeId })).toBe(0);
  await system.api('POST', `/v1/upgrades/${upgradeId}/cancel`);
});

test('the CLI cancels with the same use case, as the operator, and says why it refuses', async () => {
  const { source } = await seededSource();
  const scheduled = await schedule(source.id, addDays(today(), 6));
  const { upgradeId } = scheduled.body as { upgradeId: string };
  await expect(cancelUpgrade(system.upgradeUseCases, upgradeId)).resolves.toEqual({ upgradeId, status: 'cancelled' });
  await system.client.workflow.getHandle(scheduledWorkflowIdOf(upgradeId)).result();
  await expectNothingBehind(upgradeId, source.id);
  await expect(cancelUpgrade(system.upgradeUseCases, upgradeId)).rejects.toThrow(/cancel refused: NOT_SCHEDULED: .* is cancelled, not scheduled/);
});

test('a scheduled workflow terminated by hand: the cancel still ends the record and frees the slot', async () => {
  const { source } = await seededSource();
  const scheduled = await schedule(source.id, addDays(today(), 8));
  const { upgradeId } = scheduled.body as { upgradeId: string };
  await system.client.workflow.getHandle(scheduledWorkflowIdOf(upgradeId)).terminate('an operator did it by hand');
  const cancelled = await system.api('POST', `/v1/upgrades/${upgradeId}/cancel`);
  expect(cancelled.status).toBe(200);
  expect((await system.db.models.upgrades.findById(upgradeId).lean())?.status).toBe('cancelled');
  await expectNothingBehind(upgradeId, source.id);
});
