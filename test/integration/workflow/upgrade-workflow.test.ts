import { randomUUID } from 'node:crypto';
import { DEMO_PRODUCT_IDS } from '../../../src/domain/demo-catalog';
import { daysInclusive, utcDateOf } from '../../../src/domain/dates';
import { sampleAccount as makeAccount, sampleSubscription as makeSubscription } from '../../../src/sample-data';
import { createUpgradeActivities } from '../../../activities';
import { lockSubscriptions } from '../../../src/db/subscription-locks';
import { startUpgrade as startUpgradeUseCase } from '../../../src/upgrades/start';
import type { UpgradeUseCaseDeps } from '../../../src/upgrades/deps';
import { prorated } from '../support/half-even';
import { startSystemHarness, type SystemHarness } from '../support/system-harness';

/**
 * UpgradeWorkflow end to end: HTTP API → Temporal dev server → worker → FerretDB and the Partner Center simulator.
 */
let system: SystemHarness;

beforeAll(async () => {
  system = await startSystemHarness('workflow');
}, 120_000);

afterAll(async () => {
  await system?.close();
});

async function startUpgrade(body: unknown) {
  const response = await system.api('POST', '/v1/upgrades', body, { 'idempotency-key': randomUUID() });
  expect(response.status).toBe(202);
  return response.body.upgradeId as string;
}

async function counters() {
  return (await fetch(`${system.simulatorUrl}/admin/counters`)).json() as Promise<{ transitionsCreatedBySubscription: Record<string, number> }>;
}

/** Locks still held by this upgrade (scoped, so that one failing test cannot fail the next). */
async function locksHeldBy(upgradeId: string) {
  return system.db.models.subscriptionLocks.countDocuments({ upgradeId });
}

test('full upgrade to a new subscription converts the source in place, invoices once and reassigns seats automatically', async () => {
  const account = makeAccount();
  const source = makeSubscription(account, { quantity: 10, unitPrice: 735 });
  await system.seed({ accounts: [account], subscriptions: [source] });

  const upgradeId = await startUpgrade({
    sourceSubscriptionId: source.id,
    targetProductId: DEMO_PRODUCT_IDS.businessStandard,
    quantity: 10,
    destination: { type: 'new' },
  });
  const upgrade = await system.waitForUpgrade(upgradeId);
  expect(upgrade.status).toBe('completed');
  expect(upgrade.kind).toBe('full');

  const after = await system.db.models.subscriptions.findById(source.id).lean();
  expect(after).toMatchObject({ productId: DEMO_PRODUCT_IDS.businessStandard, quantity: 10, externalId: source.externalId, termEnd: source.termEnd });

  const invoices = await system.db.models.invoices.find({ upgradeId }).lean();
  expect(invoices.map((invoice) => invoice.type).sort()).toEqual(['credit', 'debit']);
  const today = utcDateOf(new Date());
  const days = daysInclusive(today, source.chargeEnd);
  const cycleDays = daysInclusive(source.chargeStart, source.chargeEnd);
  const credit = invoices.find((invoice) => invoice.type === 'credit')!;
  expect(credit.lines[0]!.amount).toBe(-prorated(735, 10, days, cycleDays));
  expect(credit.status).toBe('pending');
  const debit = invoices.find((invoice) => invoice.type === 'debit')!;
  expect(debit.lines[0]!.amount).toBe(prorated(after!.unitPrice, 10, days, cycleDays));
  expect(debit.tax).toBe(Math.round(debit.subtotal / 5)); // 20 % of an integer subtotal: exact or half-even within a cent

  expect((await counters()).transitionsCreatedBySubscription[source.externalId]).toBe(1);
  const notifications = await system.db.models.notifications.find({ upgradeId }).lean();
  expect(notifications.map((n) => n.event).sort()).toEqual(['seats_reassigned_automatically', 'upgrade_completed']);
  expect(await system.db.models.historyEntries.countDocuments({ upgradeId })).toBe(1);

  const description = await system.client.workflow.getHandle(upgradeId).describe();
  expect(description.searchAttributes.UpgradeStatus).toEqual(['completed']);
  expect(description.searchAttributes.UpgradeKind).toEqual(['full']);
  expect(await locksHeldBy(upgradeId)).toBe(0);

  const view = await system.api('GET', `/v1/upgrades/${upgradeId}`);
  expect(view.status).toBe(200);
  expect(view.body.status).toBe('completed');
});

test('partial upgrade to a new subscription waits for the manual seat confirmation, then completes', async () => {
  const account = makeAccount();
  const source = makeSubscription(account, { quantity: 10 });
  await system.seed({ accounts: [account], subscriptions: [source] });

  const upgradeId = await startUpgrade({
    sourceSubscriptionId: source.id,
    targetProductId: DEMO_PRODUCT_IDS.businessStandard,
    quantity: 4,
    destination: { type: 'new' },
  });
  const handle = system.client.workflow.getHandle(upgradeId);
  for (let i = 0; i < 100; i++) {
    const record = await system.db.models.upgrades.findById(upgradeId).lean();
    if (record?.status === 'awaiting_manual_seat_reassignment') break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const waiting = await system.api('GET', `/v1/upgrades/${upgradeId}`);
  expect(waiting.body.status).toBe('awaiting_manual_seat_reassignment');
  // The status is recorded just before the notification is written: give the notification its moment.
  for (let i = 0; i < 50 && (await system.db.models.notifications.countDocuments({ upgradeId, event: 'manual_seat_reassignment_required' })) === 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(await system.db.models.notifications.countDocuments({ upgradeId, event: 'manual_seat_reassignment_required' })).toBe(1);

  const confirmed = await system.api('POST', `/v1/upgrades/${upgradeId}/seat-reassignment`, { note: 'licences assigned in the admin centre' });
  expect(confirmed.status).toBe(200);
  await handle.result();

  const remaining = await system.db.models.subscriptions.findById(source.id).lean();
  expect(remaining).toMatchObject({ quantity: 6, productId: DEMO_PRODUCT_IDS.businessBasic, status: 'active' });
  const created = await system.db.models.subscriptions.findOne({ accountId: account.id, productId: DEMO_PRODUCT_IDS.businessStandard }).lean();
  expect(created).toMatchObject({
    quantity: 4,
    termEnd: source.termEnd,
    chargeEnd: source.chargeEnd,
    cancellationWindowEndsAt: source.cancellationWindowEndsAt,
  });
  expect(created!.externalId).not.toBe(source.externalId);
  expect(await system.db.models.invoices.countDocuments({ upgradeId })).toBe(2);
  expect(await locksHeldBy(upgradeId)).toBe(0);
});

test('partial upgrade into an existing subscription moves the seats and debits on the destination cycle', async () => {
  const account = makeAccount();
  const source = makeSubscription(account, { quantity: 10 });
  const destination = makeSubscription(account, {
    productId: DEMO_PRODUCT_IDS.businessStandard,
    quantity: 3,
    unitPrice: 1470,
    purchasedAt: '2025-01-01T00:00:00.000Z',
    cancellationWindowEndsAt: '2025-01-08T00:00:00.000Z',
  });
  await system.seed({ accounts: [account], subscriptions: [source, destination] });

  const upgradeId = await startUpgrade({
    sourceSubscriptionId: source.id,
    targetProductId: DEMO_PRODUCT_IDS.businessStandard,
    quantity: 4,
    destination: { type: 'existing', subscriptionId: destination.id },
  });
  await system.api('GET', `/v1/upgrades/${upgradeId}`);
  for (let i = 0; i < 100; i++) {
    const record = await system.db.models.upgrades.findById(upgradeId).lean();
    if (record?.status === 'awaiting_manual_seat_reassignment') break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  expect((await system.api('POST', `/v1/upgrades/${upgradeId}/seat-reassignment`, {})).status).toBe(200);
  // Confirming again: the record may still say it waits, but the workflow (the update's validator) has the last word.
  const again = await system.api('POST', `/v1/upgrades/${upgradeId}/seat-reassignment`, {});
  expect([again.status, again.body.error?.code]).toEqual([409, 'NOTHING_AWAITING_CONFIRMATION']);
  const upgrade = await system.waitForUpgrade(upgradeId);
  expect(upgrade.status).toBe('completed');

  const [sourceAfter, destinationAfter] = await Promise.all([
    system.db.models.subscriptions.findById(source.id).lean(),
    system.db.models.subscriptions.findById(destination.id).lean(),
  ]);
  expect(sourceAfter!.quantity + destinationAfter!.quantity).toBe(13); // seats conserved
  expect(destinationAfter!.quantity).toBe(7);
  const debit = await system.db.models.invoices.findById(`${upgradeId}:debit`).lean();
  const today = utcDateOf(new Date());
  expect(debit!.lines[0]).toMatchObject({
    subscriptionId: destination.id,
    unitPrice: 1470,
    amount: prorated(1470, 4, daysInclusive(today, destination.chargeEnd), daysInclusive(destination.chargeStart, destination.chargeEnd)),
  });
  expect(await system.db.models.historyEntries.countDocuments({ upgradeId })).toBe(2);
});

test('a vendor rejection fails the upgrade cleanly: nothing changed, locks released, failure notified', async () => {
  const account = makeAccount();
  const source = makeSubscription(account, { quantity: 5 });
  await system.seed({ accounts: [account], subscriptions: [source] });
  await system.setFaults({ rejectTransitionsForSubscriptions: [source.externalId] });
  try {
    const upgradeId = await startUpgrade({
      sourceSubscriptionId: source.id,
      targetProductId: DEMO_PRODUCT_IDS.businessStandard,
      quantity: 5,
      destination: { type: 'new' },
    });
    const upgrade = await system.waitForUpgrade(upgradeId);
    expect(upgrade.status).toBe('failed');
    expect(upgrade.error.code).toBe('VendorBusinessRejectionError');
    const after = await system.db.models.subscriptions.findById(source.id).lean();
    expect(after).toMatchObject({ productId: source.productId, quantity: 5 });
    expect(await system.db.models.subscriptionLocks.findById(source.id).lean()).toBeNull();
    expect(await system.db.models.invoices.countDocuments({ upgradeId })).toBe(0);
    expect(await system.db.models.notifications.countDocuments({ upgradeId, event: 'upgrade_failed' })).toBe(1);
    const description = await system.client.workflow.getHandle(upgradeId).describe();
    expect(description.status.name).toBe('FAILED');
    expect(description.searchAttributes.UpgradeStatus).toEqual(['failed']);
  } finally {
    await system.setFaults({ rejectTransitionsForSubscriptions: [] });
  }
});

test('a worker restarted while the vendor converts still yields exactly one transition and one invoice of each kind', async () => {
  const account = makeAccount();
  const source = makeSubscription(account, { quantity: 8 });
  await system.seed({ accounts: [account], subscriptions: [source] });
  await system.setFaults({ completionDelayMs: 3_000, errorRate5xx: 0.3 });
  try {
    const upgradeId = await startUpgrade({
      sourceSubscriptionId: source.id,
      targetProductId: DEMO_PRODUCT_IDS.businessPremium,
      quantity: 8,
      destination: { type: 'new' },
    });
    for (let i = 0; i < 100; i++) {
      const record = await system.db.models.upgrades.findById(upgradeId).lean();
      if (record?.vendor) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await system.restartWorker();
    const upgrade = await system.waitForUpgrade(upgradeId);
    expect(upgrade.status).toBe('completed');
    expect((await counters()).transitionsCreatedBySubscription[source.externalId]).toBe(1);
    expect(await system.db.models.invoices.countDocuments({ upgradeId })).toBe(2);
    expect(await locksHeldBy(upgradeId)).toBe(0);
  } finally {
    await system.setFaults({ completionDelayMs: 200, errorRate5xx: 0 });
  }
});

test('the steps after the conversion, run again as a retry would, write nothing twice and fill in what an interrupted attempt missed', async () => {
  const account = makeAccount();
  const source = makeSubscription(account, { quantity: 6 });
  await system.seed({ accounts: [account], subscriptions: [source] });
  const upgradeId = await startUpgrade({
    sourceSubscriptionId: source.id,
    targetProductId: DEMO_PRODUCT_IDS.businessStandard,
    quantity: 6,
    destination: { type: 'new' },
  });
  const upgrade = await system.waitForUpgrade(upgradeId);
  expect(upgrade.status).toBe('completed');
  const activities = createUpgradeActivities(system.activityDeps);

  // Completing again (first: the steps re-run below set earlier statuses), told which subscriptions it held, one of
  // them still locked as after a crash before the release: the lock goes, the record keeps its first ending.
  const ended = await system.db.models.upgrades.findById(upgradeId).lean();
  await lockSubscriptions(system.db.models, upgradeId, account.id, [source.id]);
  expect(await locksHeldBy(upgradeId)).toBe(1);
  await activities.completeUpgrade(upgradeId, [source.id]);
  expect(await system.db.models.upgrades.findById(upgradeId).lean()).toEqual(ended);
  expect(await locksHeldBy(upgradeId)).toBe(0);

  const invoicesOf = () => system.db.models.invoices.find({ upgradeId }).sort({ _id: 1 }).lean();
  const [credit, debit] = await invoicesOf();
  const subscriptionBefore = await system.db.models.subscriptions.findById(source.id).lean();

  // An attempt that stopped after the credit: the retry issues the debit alone, identical, and keeps the credit.
  await system.db.models.invoices.deleteOne({ _id: debit!._id });
  await expect(activities.issueInvoices(upgradeId, source.id)).resolves.toEqual({ creditInvoiceId: credit!._id, debitInvoiceId: debit!._id });
  const reissued = await invoicesOf();
  expect(reissued.map((invoice) => [invoice._id, invoice.total, invoice.lines.length])).toEqual(
    [credit, debit].map((invoice) => [invoice!._id, invoice!.total, invoice!.lines.length]),
  );
  expect(reissued[0]!.createdAt).toEqual(credit!.createdAt);
  await activities.issueInvoices(upgradeId, source.id);
  expect(await system.db.models.invoices.countDocuments({ upgradeId })).toBe(2);

  // Applying the changes again changes nothing and writes no second history entry.
  await expect(activities.applySubscriptionChanges(upgradeId, upgrade.vendor.outcome)).resolves.toEqual({ destinationSubscriptionId: source.id });
  const subscriptionAfter = await system.db.models.subscriptions.findById(source.id).lean();
  expect(subscriptionAfter).toEqual(subscriptionBefore);
  expect(await system.db.models.historyEntries.countDocuments({ upgradeId })).toBe(1);

  // A notification sent again finds its outbox entry: still one per event.
  const outbox = await system.db.models.notifications.find({ upgradeId }).lean();
  await expect(activities.sendUpgradeNotification(upgradeId, 'upgrade_completed')).resolves.toBe('no_webhook');
  expect(await system.db.models.notifications.find({ upgradeId }).lean()).toEqual(outbox);

  // The vendor steps again: the recorded transition and its outcome come back, no second request, no poll needed.
  const transitionsCreated = async () => (await counters()).transitionsCreatedBySubscription[source.externalId];
  expect(await transitionsCreated()).toBe(1);
  const requested = await activities.requestVendorTransition(upgradeId, 0);
  expect(requested).toEqual(upgrade.vendor);
  await expect(activities.awaitVendorTransition(upgradeId, requested)).resolves.toEqual(upgrade.vendor.outcome);
  expect(await transitionsCreated()).toBe(1);

  // The API wrote the accepted step with the record; the run's first activity added nothing to it.
  expect(ended!.steps.accepted).toEqual({ status: 'completed', at: ended!.createdAt });
});

test('an API that died after recording the upgrade and before starting its run: the repeated request starts it, and it completes', async () => {
  const account = makeAccount();
  const source = makeSubscription(account, { quantity: 4 });
  await system.seed({ accounts: [account], subscriptions: [source] });
  const body = { sourceSubscriptionId: source.id, targetProductId: DEMO_PRODUCT_IDS.businessStandard, quantity: 4, destination: { type: 'new' as const } };
  const idempotencyKey = randomUUID();
  // The start use case as the API runs it (the operator key), with a Temporal start that never returns: the locks and
  // the record are written, the run never starts (the process died there).
  const neverStarts = { ...system.upgradeUseCases.temporalClient, workflow: { start: () => new Promise(() => undefined) } };
  const dying = { ...system.upgradeUseCases, temporalClient: neverStarts } as unknown as UpgradeUseCaseDeps;
  void startUpgradeUseCase(dying, { keyId: 'operator-bootstrap', mayActOnAccount: () => true }, body, idempotencyKey);
  const recorded = async () => system.db.models.upgrades.findOne({ 'request.sourceSubscriptionId': source.id }).lean();
  for (let i = 0; i < 100 && !(await recorded()); i++) await new Promise((resolve) => setTimeout(resolve, 50));
  const upgradeId = String((await recorded())!._id);
  expect(await system.db.models.subscriptionLocks.findById(source.id).lean()).toMatchObject({ upgradeId });
  await expect(system.client.workflow.getHandle(upgradeId).describe()).rejects.toThrow();

  const repeated = await system.api('POST', '/v1/upgrades', body, { 'idempotency-key': idempotencyKey });
  expect(repeated.status).toBe(202);
  expect(repeated.body.upgradeId).toBe(upgradeId);
  const upgrade = await system.waitForUpgrade(upgradeId);
  expect(upgrade.status).toBe('completed');
  expect(await locksHeldBy(upgradeId)).toBe(0);
  // Repeated once more, the ended run is left alone.
  expect((await system.api('POST', '/v1/upgrades', body, { 'idempotency-key': idempotencyKey })).status).toBe(202);
});
