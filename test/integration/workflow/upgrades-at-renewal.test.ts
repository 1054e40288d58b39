/**
 * Upgrades at renewal on the real services (FerretDB, the Temporal dev server, the Partner Center simulator with
 * Microsoft's verdict, a worker, the HTTP API) with a moving clock: the API's and the activities' clock and the
 * simulator's clock jump to the renewal day. Scheduling writes Microsoft's scheduled change (auto-renew turned on, the
 * portal told); at the renewal Microsoft applies it and our subscription renews into the target with no proration
 * lines; a change removed mid-term ends the upgrade `rejected`; a cancel leaves nothing at Microsoft. The waiting
 * run's timer is replaced by a run due now, as in scheduled-upgrades.test.ts. Every date is counted from today.
 */
import { randomUUID } from 'node:crypto';
import { movableClock } from '../../../src/clock';
import { addDays, utcDateOf } from '../../../src/domain/dates';
import { DEMO_PRODUCT_IDS } from '../../../src/domain/demo-catalog';
import { sampleAccount, sampleSubscription } from '../../../src/sample-data';
import { scheduledWorkflowIdOf } from '../../../workflows/scheduled-upgrade-contract';
import { runRenewalDay } from '../support/renewal-day';
import { startSystemHarness, type SystemHarness } from '../support/system-harness';
import { confirmWhenWaiting, eventually } from '../support/waiting';

let system: SystemHarness;
const clock = movableClock(new Date());

beforeAll(async () => {
  system = await startSystemHarness('upgrades_at_renewal', { askMicrosoft: true, clock });
}, 120_000);

afterAll(async () => {
  await system?.close();
});

afterEach(() => clock.travelTo(new Date()));

/**
 * A Business Basic source of an annual term `monthsIntoTerm` months old. Microsoft's clock only moves forward: each
 * test that travels renews a source whose term ends later than the previous one's.
 */
async function seededSource(monthsIntoTerm: number, overrides: Parameters<typeof sampleSubscription>[1] = {}) {
  const account = sampleAccount();
  const today = utcDateOf(new Date());
  const source = sampleSubscription(account, { quantity: 10, ...overrides }, { today, monthsIntoTerm, daysIntoCycle: 3 });
  await system.seed({ accounts: [account], subscriptions: [source] });
  return { account, source };
}

const atRenewal = (sourceId: string, quantity = 10, destination: object = { type: 'new' }) => ({
  sourceSubscriptionId: sourceId,
  targetProductId: DEMO_PRODUCT_IDS.businessStandard,
  quantity,
  destination,
  when: { type: 'at_renewal' },
});

const atMicrosoft = (externalId: string) => system.simulator.state.subscriptions.get(externalId.toLowerCase())!;

/** Polls until the scheduled run has written (or refused) the change at Microsoft. */
async function writtenAtMicrosoft(upgradeId: string) {
  for (let attempt = 0; attempt < 150; attempt++) {
    const record = await system.db.models.upgrades.findById(upgradeId).lean();
    if ((record?.steps as Record<string, unknown> | undefined)?.written_to_microsoft || record?.status !== 'scheduled') return record;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`upgrade ${upgradeId}: the scheduled change was never written`);
}

/** How far the simulator's clock (real time plus its offset) was moved. */
let simulatorOffsetMs = 0;

/** Moves our clock and Microsoft's to `instant`. */
function travelTo(instant: string) {
  clock.travelTo(instant);
  const forwardMs = Math.max(0, Date.parse(instant) - (Date.now() + simulatorOffsetMs));
  system.simulator.advanceClock(forwardMs);
  simulatorOffsetMs += forwardMs;
}

test('refused for an existing destination: 422 naming the field and the rule, nothing written', async () => {
  const { account, source } = await seededSource(11);
  for (const path of ['/v1/upgrades', '/v1/upgrades/quote']) {
    const response = await system.api('POST', path, atRenewal(source.id, 10, { type: 'existing', subscriptionId: source.id }), {
      'idempotency-key': randomUUID(),
    });
    expect(response.status).toBe(422);
    expect(response.body.error).toMatchObject({ code: 'INVALID_SCHEDULE', details: { field: 'destination.type', rule: 'new_destination_only' } });
  }
  expect(await system.db.models.upgrades.countDocuments({ accountId: account.id })).toBe(0);
  expect(atMicrosoft(source.externalId).scheduledNextTermInstructions).toBeNull();
});

test('cancel before the renewal: the change is removed at Microsoft, auto-renew as it was, nothing left here', async () => {
  const { source } = await seededSource(11, { autoRenew: false });
  const scheduled = await system.api('POST', '/v1/upgrades', atRenewal(source.id), { 'idempotency-key': randomUUID() });
  const { upgradeId } = scheduled.body as { upgradeId: string };
  await writtenAtMicrosoft(upgradeId);
  expect(atMicrosoft(source.externalId).scheduledNextTermInstructions).not.toBeNull();
  const cancelled = await system.api('POST', `/v1/upgrades/${upgradeId}/cancel`);
  expect(cancelled.status).toBe(200);
  await system.client.workflow.getHandle(scheduledWorkflowIdOf(upgradeId)).result();
  expect(atMicrosoft(source.externalId)).toMatchObject({ scheduledNextTermInstructions: null, autoRenewEnabled: false });
  const stored = await system.db.models.subscriptions.findById(source.id).lean();
  expect(stored?.renewalUpgrade).toBeUndefined();
  expect(stored?.autoRenew).toBe(false);
  expect((await system.db.models.upgrades.findById(upgradeId).lean())?.status).toBe('cancelled');
  expect(await system.db.models.scheduledUpgradeSlots.countDocuments({ _id: source.id })).toBe(0);
  expect(await system.db.models.subscriptionLocks.countDocuments({ upgradeId })).toBe(0);
});

test("an immediate upgrade re-applies the source's scheduled quantity change that Microsoft deleted", async () => {
  const { account, source } = await seededSource(2);
  const vendor = system.activityDeps.vendor;
  const [productId = '', skuId = '', availabilityId = ''] = DEMO_PRODUCT_IDS.businessBasic.split(':');
  const fewerSeats = { product: { productId, skuId, availabilityId, billingCycle: 'monthly', termDuration: 'P1Y' }, quantity: 3 };
  // At Microsoft, the customer asked for 3 seats from the next term (a scheduled change that is not an upgrade).
  await vendor.updateRenewalSettings(account.tenantId, await vendor.getSubscription(account.tenantId, source.externalId), {
    autoRenewEnabled: true,
    scheduledNextTermInstructions: fewerSeats,
  });
  const partialUpgrade = { sourceSubscriptionId: source.id, targetProductId: DEMO_PRODUCT_IDS.businessStandard, quantity: 4, destination: { type: 'new' } };
  // upgrade-options shows it, read from Partner Center.
  const options = await system.api('GET', `/v1/subscriptions/${source.id}/upgrade-options`);
  expect(options.body.scheduledChangeAtMicrosoft).toEqual({
    read: 'read',
    change: { catalogItemId: DEMO_PRODUCT_IDS.businessBasic.toLowerCase(), quantity: 3, termDuration: 'P1Y', billingCycle: 'monthly' },
  });
  // The quote too: Microsoft will delete it, and this partial upgrade writes it again.
  const quote = await system.api('POST', '/v1/upgrades/quote', partialUpgrade);
  expect(quote.status).toBe(200);
  expect(quote.body.warnings).toEqual([
    expect.objectContaining({
      code: 'MICROSOFT_SCHEDULED_CHANGE_DELETED',
      fate: 'reapplied',
      scheduledChange: { catalogItemId: DEMO_PRODUCT_IDS.businessBasic.toLowerCase(), quantity: 3, termDuration: 'P1Y', billingCycle: 'monthly' },
    }),
  ]);
  const started = await system.api('POST', '/v1/upgrades', partialUpgrade, { 'idempotency-key': randomUUID() });
  expect(started.status).toBe(202);
  // A partial upgrade waits for the licences to be confirmed by hand (docs/upgrade-kinds.md).
  await confirmWhenWaiting(system, started.body.upgradeId);
  const record = await system.waitForUpgrade(started.body.upgradeId);
  expect(record).toMatchObject({ status: 'completed', scheduledChangesDeleted: { instructions: { quantity: 3 } } });
  expect(record.steps.scheduled_changes.detail).toMatch(/^re-applied/);
  // The conversion deleted it; the upgrade wrote it again on the remaining source.
  expect(atMicrosoft(source.externalId)).toMatchObject({ quantity: 6, scheduledNextTermInstructions: fewerSeats });
}, 90_000);

test('an immediate upgrade of a source with an upgrade at renewal ends that one rejected at once, with its webhook, and does not put its change back', async () => {
  const { source } = await seededSource(3);
  const scheduled = await system.api('POST', '/v1/upgrades', atRenewal(source.id), { 'idempotency-key': randomUUID() });
  const { upgradeId } = scheduled.body as { upgradeId: string };
  await writtenAtMicrosoft(upgradeId);
  const started = await system.api(
    'POST',
    '/v1/upgrades',
    { sourceSubscriptionId: source.id, targetProductId: DEMO_PRODUCT_IDS.businessStandard, quantity: 4, destination: { type: 'new' } },
    { 'idempotency-key': randomUUID() },
  );
  await confirmWhenWaiting(system, started.body.upgradeId);
  const immediate = await system.waitForUpgrade(started.body.upgradeId);
  expect(immediate.steps.scheduled_changes.detail).toContain(`the upgrade at renewal ${upgradeId} it replaces ended rejected`);
  expect(await system.db.models.upgrades.findById(upgradeId).lean()).toMatchObject({
    status: 'rejected',
    error: { details: { reasons: [{ code: 'SCHEDULED_CHANGE_REMOVED' }] } },
  });
  expect(await system.db.models.notifications.countDocuments({ upgradeId, event: 'upgrade_failed' })).toBe(1);
  expect(await system.db.models.scheduledUpgradeSlots.countDocuments({ _id: source.id })).toBe(0);
  expect((await system.db.models.subscriptions.findById(source.id).lean())?.renewalUpgrade).toBeUndefined();
  expect(atMicrosoft(source.externalId).scheduledNextTermInstructions).toBeNull();
  // Its run, woken by the immediate upgrade, ends now rather than on the renewal day: the Temporal UI says rejected.
  const scheduledRun = system.client.workflow.getHandle(scheduledWorkflowIdOf(upgradeId));
  await expect(scheduledRun.result()).resolves.toMatchObject({ upgradeId, outcome: 'rejected' });
  expect((await scheduledRun.describe()).searchAttributes.UpgradeStatus).toEqual(['rejected']);
  expect(await system.db.models.notifications.countDocuments({ upgradeId, event: 'upgrade_failed' })).toBe(1);
}, 90_000);

test('written to Microsoft when scheduled, then applied at the renewal: the source renews into the target at its price, no proration lines', async () => {
  const { account, source } = await seededSource(11, { autoRenew: false });
  const renewalDate = addDays(source.termEnd, 1);
  const options = await system.api('GET', `/v1/subscriptions/${source.id}/upgrade-options?when=at_renewal&quantity=12`);
  expect(options.status).toBe(200);
  const standard = options.body.targets.find((target: { productId: string }) => target.productId === DEMO_PRODUCT_IDS.businessStandard);
  expect(standard).toMatchObject({ toNewSubscription: { eligible: true, pricePreview: { credit: 0, debit: 0 } }, existingDestinations: [] });
  const quote = await system.api('POST', '/v1/upgrades/quote', atRenewal(source.id, 12));
  expect(quote.status).toBe(200);
  expect(quote.body).toMatchObject({ upgradeDate: renewalDate, credit: { lines: [], total: 0 }, debit: { lines: [], total: 0 }, quote: { total: 0 } });
  expect(quote.body.renewal).toMatchObject({ renewalDate, termStart: renewalDate, quantity: 12, turnsAutoRenewOn: true });
  const standardPrice = quote.body.renewal.unitPrice as number;
  expect(standard.toNewSubscription.pricePreview.renewal).toMatchObject(quote.body.renewal);
  expect(options.body.microsoftVerdict).toBe('applied');
  expect(standardPrice).toBeGreaterThan(source.unitPrice);

  const scheduled = await system.api('POST', '/v1/upgrades', atRenewal(source.id, 12), { 'idempotency-key': randomUUID() });
  expect(scheduled.status).toBe(202);
  expect(scheduled.body).toMatchObject({ status: 'scheduled', dueDate: renewalDate });
  const { upgradeId } = scheduled.body as { upgradeId: string };
  await writtenAtMicrosoft(upgradeId);
  const [productId, skuId, availabilityId] = DEMO_PRODUCT_IDS.businessStandard.split(':');
  expect(atMicrosoft(source.externalId)).toMatchObject({
    autoRenewEnabled: true,
    scheduledNextTermInstructions: { product: { productId, skuId, availabilityId, termDuration: 'P1Y', billingCycle: 'monthly' }, quantity: 12 },
  });
  const marked = await system.db.models.subscriptions.findById(source.id).lean();
  expect(marked).toMatchObject({ autoRenew: true, renewalUpgrade: { upgradeId, quantity: 12 } });
  // The portal is told auto-renew was turned on (the run's next activity).
  await eventually(
    () => system.db.models.notifications.countDocuments({ upgradeId, event: 'auto_renew_enabled' }),
    (count) => count === 1,
  );

  // The renewal day: Microsoft renews (its clock); ours waits for the upgrade rather than renew into the old product.
  travelTo(`${renewalDate}T00:30:00.000Z`);
  const waiting = await system.api('GET', `/v1/subscriptions/${source.id}`);
  expect(waiting.body).toMatchObject({ productId: DEMO_PRODUCT_IDS.businessBasic, termEnd: source.termEnd });

  await expect(runRenewalDay(system, upgradeId, account.id)).resolves.toEqual({ upgradeId, outcome: 'renewed' });
  expect(atMicrosoft(source.externalId)).toMatchObject({ offerId: DEMO_PRODUCT_IDS.businessStandard, quantity: 12, scheduledNextTermInstructions: null });
  const renewed = await system.api('GET', `/v1/subscriptions/${source.id}`);
  expect(renewed.body).toMatchObject({
    productId: DEMO_PRODUCT_IDS.businessStandard,
    quantity: 12,
    termStart: renewalDate,
    unitPrice: standardPrice,
    chargeStart: renewalDate,
  });
  const record = await system.db.models.upgrades.findById(upgradeId).lean();
  expect(record).toMatchObject({ status: 'completed', upgradeDate: renewalDate, steps: { renewed: { status: 'completed' } } });
  // No proration: no credit or debit invoice of the upgrade; the renewal is the subscription's history entry.
  expect(await system.db.models.invoices.countDocuments({ upgradeId })).toBe(0);
  expect(await system.db.models.historyEntries.findById(`renewal:${source.id}:${renewalDate}`).lean()).toMatchObject({ upgradeId, event: 'renewed' });
  expect(await system.db.models.notifications.countDocuments({ upgradeId, event: 'upgrade_completed' })).toBe(1);
  expect(await system.db.models.scheduledUpgradeSlots.countDocuments({ _id: source.id })).toBe(0);
});

test("Microsoft's scheduled change removed mid-term (an immediate change in Partner Center): rejected at the renewal with that reason and a webhook; the source renews as it is", async () => {
  const { account, source } = await seededSource(10);
  const scheduled = await system.api('POST', '/v1/upgrades', atRenewal(source.id), { 'idempotency-key': randomUUID() });
  const { upgradeId } = scheduled.body as { upgradeId: string };
  await writtenAtMicrosoft(upgradeId);
  // A quote for an immediate upgrade says Microsoft would delete the change.
  const quoteNow = await system.api('POST', '/v1/upgrades/quote', {
    sourceSubscriptionId: source.id,
    targetProductId: DEMO_PRODUCT_IDS.businessStandard,
    quantity: 4,
    destination: { type: 'new' },
  });
  expect(quoteNow.body.warnings).toEqual([
    expect.objectContaining({ code: 'SCHEDULED_UPGRADE_PENDING', upgradeId, message: expect.stringMatching(/Microsoft delete it/) }),
  ]);
  // Mid-term, someone converts 4 seats in Partner Center itself: Microsoft deletes every scheduled change of the source.
  const tenantId = account.tenantId;
  await system.activityDeps.vendor.createTransition(
    tenantId,
    source.externalId,
    { toCatalogItemId: DEMO_PRODUCT_IDS.businessStandard, quantity: 4, transitionType: 'transition_only' },
    { requestId: randomUUID() },
  );
  await eventually(
    () => system.activityDeps.vendor.getSubscription(tenantId, source.externalId),
    (subscription) => subscription.scheduledNextTermInstructions === undefined,
  );

  const renewalDate = addDays(source.termEnd, 1);
  travelTo(`${renewalDate}T01:00:00.000Z`);
  await expect(runRenewalDay(system, upgradeId, account.id)).resolves.toEqual({ upgradeId, outcome: 'rejected' });
  const record = await system.db.models.upgrades.findById(upgradeId).lean();
  expect(record).toMatchObject({ status: 'rejected', error: { details: { reasons: [{ code: 'SCHEDULED_CHANGE_REMOVED' }] } } });
  expect(await system.db.models.notifications.countDocuments({ upgradeId, event: 'upgrade_failed' })).toBe(1);
  const renewed = await system.api('GET', `/v1/subscriptions/${source.id}`);
  expect(renewed.body).toMatchObject({ productId: DEMO_PRODUCT_IDS.businessBasic, termStart: renewalDate });
  expect(renewed.body.renewalUpgrade).toBeUndefined();
});
