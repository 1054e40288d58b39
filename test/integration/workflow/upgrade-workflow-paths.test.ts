import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { standardWebhookSecret } from '../../../activities/notifications';
import { addDays, addMonths } from '../../../src/domain/dates';
import { DEMO_PRODUCT_IDS } from '../../../src/domain/demo-catalog';
import type { Installment, Subscription } from '../../../src/domain/types';
import { confirmSeatReassignmentUpdate, getUpgradeStateQuery, UPGRADE_WORKFLOW_TYPE, type UpgradeWorkflowInput } from '../../../workflows/messages';
import { sampleAccount as makeAccount, sampleSubscription as makeSubscription } from '../../../src/sample-data';
import { startSystemHarness, type SystemHarness } from '../support/system-harness';
import { confirmWhenWaiting, eventually } from '../support/waiting';

/** The other paths of UpgradeWorkflow: installments, full → existing, throttling, reminders, lean history, legibility. */
let system: SystemHarness;

beforeAll(async () => {
  system = await startSystemHarness('paths');
}, 120_000);

afterAll(async () => {
  await system?.close();
});

async function startUpgrade(body: unknown): Promise<string> {
  const response = await system.api('POST', '/v1/upgrades', body, { 'idempotency-key': randomUUID() });
  expect(response.status).toBe(202);
  return response.body.upgradeId;
}

/** The pending monthly installments after the current cycle, as a billing system would hold them. */
function withInstallments(subscription: Subscription): Subscription {
  const installments: Installment[] = [];
  for (let start = addDays(subscription.chargeEnd, 1); start <= subscription.termEnd; start = addMonths(start, 1)) {
    installments.push({
      periodStart: start,
      periodEnd: addDays(addMonths(start, 1), -1),
      amount: subscription.unitPrice * subscription.quantity,
      quantity: subscription.quantity,
      status: 'pending',
    });
  }
  return { ...subscription, installmentPlan: { installments } };
}

test('annual term billed monthly: the current installment is prorated, future ones are cancelled and re-planned', async () => {
  const account = makeAccount();
  const source = withInstallments(makeSubscription(account, { quantity: 10, unitPrice: 735 }));
  const futureCycles = source.installmentPlan!.installments.length;
  await system.seed({ accounts: [account], subscriptions: [source] });

  const upgradeId = await startUpgrade({
    sourceSubscriptionId: source.id,
    targetProductId: DEMO_PRODUCT_IDS.businessStandard,
    quantity: 4,
    destination: { type: 'new' },
  });
  await confirmWhenWaiting(system, upgradeId);
  expect((await system.waitForUpgrade(upgradeId)).status).toBe('completed');

  const created = await system.db.models.subscriptions.findOne({ accountId: account.id, productId: DEMO_PRODUCT_IDS.businessStandard }).lean();
  const plan = created!.installmentPlan!.installments;
  expect(plan).toHaveLength(futureCycles);
  expect(plan.every((i) => i.status === 'pending' && i.quantity === 4 && i.amount === created!.unitPrice * 4)).toBe(true);
  expect(plan[0]!.periodStart).toBe(addDays(source.chargeEnd, 1));

  const sourceAfter = await system.db.models.subscriptions.findById(source.id).lean();
  const sourcePlan = sourceAfter!.installmentPlan!.installments;
  expect(sourcePlan.filter((i) => i.status === 'cancelled')).toHaveLength(futureCycles);
  const reissued = sourcePlan.filter((i) => i.status === 'pending');
  expect(reissued).toHaveLength(futureCycles);
  expect(reissued.every((i) => i.quantity === 6 && i.amount === 735 * 6)).toBe(true);
  // Only the current installment is credited and debited: one line each, within the current cycle.
  const credit = await system.db.models.invoices.findById(`${upgradeId}:credit`).lean();
  expect(credit!.lines).toHaveLength(1);
  expect(credit!.lines[0]!.periodEnd).toBe(source.chargeEnd);
});

test('full upgrade into an existing subscription cancels the source and moves every seat', async () => {
  const account = makeAccount();
  const source = makeSubscription(account, { quantity: 6 });
  const destination = makeSubscription(account, {
    productId: DEMO_PRODUCT_IDS.businessPremium,
    quantity: 2,
    unitPrice: 2310,
    termEnd: addDays(source.termEnd, 30),
    purchasedAt: '2025-01-01T00:00:00.000Z',
    cancellationWindowEndsAt: '2025-01-08T00:00:00.000Z',
  });
  await system.seed({ accounts: [account], subscriptions: [source, destination] });
  const upgradeId = await startUpgrade({
    sourceSubscriptionId: source.id,
    targetProductId: DEMO_PRODUCT_IDS.businessPremium,
    quantity: 6,
    destination: { type: 'existing', subscriptionId: destination.id },
  });
  const upgrade = await system.waitForUpgrade(upgradeId);
  expect(upgrade.status).toBe('completed');
  expect(upgrade.kind).toBe('full');
  expect(await system.db.models.subscriptions.findById(source.id).lean()).toMatchObject({ status: 'cancelled', quantity: 0 });
  expect(await system.db.models.subscriptions.findById(destination.id).lean()).toMatchObject({ quantity: 8, unitPrice: 2310, termEnd: destination.termEnd });
  expect(upgrade.seatReassignment).toMatchObject({ mode: 'automatic', state: 'done' });
});

test('a 429 and 5xx storm at Partner Center delays the upgrade but still creates exactly one transition', async () => {
  const account = makeAccount();
  const source = makeSubscription(account, { quantity: 3 });
  await system.seed({ accounts: [account], subscriptions: [source] });
  await system.setFaults({ throttle: { requestsPerWindow: 1, windowMs: 1_000, retryAfterSeconds: 1 }, errorRate5xx: 0.3 });
  try {
    const upgradeId = await startUpgrade({
      sourceSubscriptionId: source.id,
      targetProductId: DEMO_PRODUCT_IDS.businessStandard,
      quantity: 3,
      destination: { type: 'new' },
    });
    expect((await system.waitForUpgrade(upgradeId)).status).toBe('completed');
    const counters = (await (await fetch(`${system.simulatorUrl}/admin/counters`)).json()) as {
      transitionsCreatedBySubscription: Record<string, number>;
      throttledResponses: number;
    };
    expect(counters.transitionsCreatedBySubscription[source.externalId]).toBe(1);
    expect(counters.throttledResponses).toBeGreaterThan(0);
  } finally {
    await system.setFaults({ throttle: null, errorRate5xx: 0 });
  }
});

test('a manual reassignment that nobody confirms is reminded, escalated once, and completes on confirmation', async () => {
  const account = makeAccount();
  const source = makeSubscription(account, { quantity: 10 });
  await system.seed({ accounts: [account], subscriptions: [source] });
  // Started directly (not through the API) to give it reminder intervals of milliseconds instead of hours.
  const upgradeId = `upg_reminders_${randomBytes(4).toString('hex')}`;
  const input: UpgradeWorkflowInput = {
    upgradeId,
    accountId: account.id,
    request: { sourceSubscriptionId: source.id, targetProductId: DEMO_PRODUCT_IDS.businessStandard, quantity: 4, destination: { type: 'new' } },
    requestedByKeyId: 'test',
    acceptedAt: new Date().toISOString(),
    requestFingerprint: 'test',
    seatReassignment: { reminderIntervalMs: 400, escalateAfterMs: 1_000 },
  };
  const handle = await system.client.workflow.start(UPGRADE_WORKFLOW_TYPE, { taskQueue: system.taskQueue, workflowId: upgradeId, args: [input] });
  const state = await eventually(
    () => handle.query(getUpgradeStateQuery),
    (s) => (s.seatReassignment?.remindersSent ?? 0) >= 4,
  );
  expect(state.status).toBe('awaiting_manual_seat_reassignment');
  expect(state.seatReassignment).toMatchObject({ mode: 'manual', state: 'awaiting_confirmation', escalated: true });
  expect(state.currentDetails).toMatch(/reminder\(s\) sent, escalated/);

  const confirmed = await handle.executeUpdate(confirmSeatReassignmentUpdate, { args: [{ confirmedBy: 'ops@contoso.example' }] });
  expect(confirmed.seatReassignment?.confirmedBy).toBe('ops@contoso.example');
  await handle.result();
  const events = (await system.db.models.notifications.find({ upgradeId }).lean()).map((n) => n.event);
  expect(events.filter((e) => e === 'manual_seat_reassignment_required')).toHaveLength(1);
  expect(events.filter((e) => e === 'manual_seat_reassignment_escalated')).toHaveLength(1);
  expect(events.filter((e) => e === 'manual_seat_reassignment_reminder').length).toBeGreaterThanOrEqual(4);
  // A second confirmation is refused: nothing waits any more.
  await expect(handle.executeUpdate(confirmSeatReassignmentUpdate, { args: [{ confirmedBy: 'late' }] })).rejects.toThrow();
});

test('a run is legible in the Temporal UI and its history stays lean however long the vendor takes', async () => {
  const account = makeAccount();
  const source = makeSubscription(account, { quantity: 10 });
  await system.seed({ accounts: [account], subscriptions: [source] });
  await system.setFaults({ completionDelayMs: 4_000 });
  try {
    const upgradeId = await startUpgrade({
      sourceSubscriptionId: source.id,
      targetProductId: DEMO_PRODUCT_IDS.businessStandard,
      quantity: 10,
      destination: { type: 'new' },
    });
    const handle = system.client.workflow.getHandle(upgradeId);
    const waiting = await eventually(
      () => handle.query(getUpgradeStateQuery),
      (s) => s.status === 'awaiting_vendor' && /Waiting/.test(s.currentDetails),
    );
    expect(waiting.currentDetails).toMatch(/Waiting for Partner Center/);
    await handle.result();
    const description = await handle.describe();
    expect(await description.staticSummary()).toBe('Full upgrade: 10 × Microsoft 365 Business Basic → Microsoft 365 Business Standard, in place');
    expect(description.searchAttributes).toMatchObject({
      UpgradeStatus: ['completed'],
      UpgradeAccountId: [account.id],
      UpgradeSourceSubscriptionId: [source.id],
      UpgradeTargetProductId: [DEMO_PRODUCT_IDS.businessStandard],
      UpgradeKind: ['full'],
      UpgradeDestinationType: ['new'],
    });
    const history = await handle.fetchHistory();
    // Polling a 4 s conversion every 100–500 ms happens inside one activity: the history does not grow with it.
    // The lean shape's budget (workflows/patches.ts, LEAN_SHAPE): 74 events before it.
    expect(history.events!.length).toBeLessThanOrEqual(60);
    process.stdout.write(`history events, full → new with automatic seats: ${history.events!.length}\n`);
    // Every activity carries a readable summary for the UI's timeline.
    const scheduled = history.events!.filter((event) => event.activityTaskScheduledEventAttributes);
    const summaries = scheduled.map((event) => Buffer.from(event.userMetadata?.summary?.data ?? []).toString('utf8'));
    expect(summaries.length).toBeGreaterThan(5);
    expect(summaries.filter((summary) => summary.length < 3)).toEqual([]);
    expect(summaries).toContain('"Partner Center: POST transition (stable MS-RequestId)"');
  } finally {
    await system.setFaults({ completionDelayMs: 200 });
  }
});

test('notifications reach the account webhook signed, once per event, after the receiver recovers', async () => {
  const received: Array<{ headers: IncomingMessage['headers']; body: string }> = [];
  let failuresLeft = 1;
  const receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      if (failuresLeft-- > 0) {
        response.writeHead(503).end();
        return;
      }
      received.push({ headers: request.headers, body });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  try {
    const account = makeAccount({ webhookUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/nce` });
    const source = makeSubscription(account, { quantity: 2 });
    await system.seed({ accounts: [account], subscriptions: [source] });
    const upgradeId = await startUpgrade({
      sourceSubscriptionId: source.id,
      targetProductId: DEMO_PRODUCT_IDS.businessStandard,
      quantity: 2,
      destination: { type: 'new' },
    });
    expect((await system.waitForUpgrade(upgradeId)).status).toBe('completed');

    expect(received.map((r) => r.headers['x-nce-event']).sort()).toEqual(['seats_reassigned_automatically', 'upgrade_completed']);
    for (const { headers, body } of received) {
      const [timestampPart, signaturePart] = String(headers['x-nce-signature']).split(',');
      const expected = createHmac('sha256', 'test-signing-secret-0123')
        .update(`${timestampPart!.slice(2)}.${body}`)
        .digest('hex');
      expect(signaturePart).toBe(`v1=${expected}`);
      // The Standard Webhooks headers verify with the off-the-shelf library, keyed by the same secret.
      expect(headers['webhook-id']).toBe(headers['x-nce-delivery']);
      expect(() => new Webhook(standardWebhookSecret('test-signing-secret-0123')).verify(body, headers as Record<string, string>)).not.toThrow();
      expect(JSON.parse(body)).toMatchObject({ upgradeId, accountId: account.id, id: headers['x-nce-delivery'] });
    }
    const outbox = await system.db.models.notifications.find({ upgradeId }).lean();
    expect(outbox.every((n) => n.status === 'delivered')).toBe(true);
    expect(outbox.reduce((sum, n) => sum + n.attempts, 0)).toBe(3); // one refused attempt, then one each
  } finally {
    receiver.close();
  }
});

test('a subscription imported through the API (no mongoose defaults on upsert) upgrades like a seeded one', async () => {
  const account = makeAccount();
  const template = makeSubscription(account, { quantity: 6 });
  await system.seed({ accounts: [account], subscriptions: [] });
  // Exactly the fields an import carries (no mongoose-side ones such as cancellationWindowEndsAt).
  const importedFields = [
    'id',
    'externalId',
    'accountId',
    'productId',
    'quantity',
    'status',
    'isTrial',
    'term',
    'billingFrequency',
    'termStart',
    'termEnd',
    'chargeStart',
    'chargeEnd',
    'purchasedAt',
    'unitPrice',
    'currency',
    'partnerId',
  ] as const;
  const { id } = template;
  const imported = await system.api('POST', '/v1/subscriptions/import', {
    subscriptions: [Object.fromEntries(importedFields.map((field) => [field, template[field]]))],
  });
  expect(imported.status).toBe(200);
  await system.seed({ accounts: [account], subscriptions: [template] }); // the in-process simulator learns it too
  await system.db.models.subscriptions.updateOne({ _id: id }, { $unset: { appliedUpgradeIds: 1 } }); // as the import left it

  const upgradeId = await startUpgrade({
    sourceSubscriptionId: id,
    targetProductId: DEMO_PRODUCT_IDS.businessStandard,
    quantity: 2,
    destination: { type: 'new' },
  });
  await confirmWhenWaiting(system, upgradeId);
  expect((await system.waitForUpgrade(upgradeId)).status).toBe('completed');
  expect(await system.db.models.subscriptions.findById(id).lean()).toMatchObject({ quantity: 4 });
});
