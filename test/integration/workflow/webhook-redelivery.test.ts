import { randomUUID } from 'node:crypto';
import { createNotificationActivities } from '../../../activities/notifications';
import { createWebhookRedeliveryActivities } from '../../../activities/webhook-redelivery';
import { sampleAccount } from '../../../src/sample-data';
import { scheduleIdFor } from '../../../src/temporal/maintenance-schedules';
import { startSystemHarness, type SystemHarness } from '../support/system-harness';
import { eventually } from '../support/waiting';
import { recordCompletedUpgrade, startTestReceiver } from '../support/webhook-receivers';

/**
 * Undeliverable webhooks are redelivered and listed (issue 20, finding 6): the `webhook-redelivery` Schedule that the
 * system registers at start retries them (to the account's current URL, same `webhook-id`), backing off, until its
 * window ends; `GET /v1/webhooks/deliveries?status=failed` lists them in the caller's scope and
 * `POST /v1/webhooks/deliveries/:id/redeliver` tries one now.
 */
let system: SystemHarness;

beforeAll(async () => {
  system = await startSystemHarness('webhook_redelivery');
}, 120_000);

afterAll(async () => {
  await system?.close();
});

/** An account whose upgrade's `upgrade_completed` could not be delivered: the run's delivery failed, then it gave up. */
async function undeliverableEntry(webhookUrl: string, failedAt?: Date): Promise<{ accountId: string; deliveryId: string }> {
  const account = sampleAccount({ id: `acc-${randomUUID().slice(0, 8)}`, webhookUrl });
  await system.seed({ accounts: [account], subscriptions: [] });
  const upgradeId = await recordCompletedUpgrade(system, account.id, 'upg_redeliver');
  const activities = createNotificationActivities({ ...system.activityDeps, ...(failedAt ? { clock: () => failedAt } : {}) });
  await expect(activities.sendUpgradeNotification(upgradeId, 'upgrade_completed')).rejects.toThrow(/webhook (answered HTTP 503|unreachable)/);
  await activities.markNotificationUndeliverable(upgradeId, 'upgrade_completed');
  return { accountId: account.id, deliveryId: `${upgradeId}:upgrade_completed` };
}

async function apiKey(role: 'reseller' | 'customer', accountIds: string[]): Promise<Record<string, string>> {
  const created = await system.api('POST', '/v1/api-keys', { role, accountIds });
  expect(created.status).toBe(201);
  return { authorization: `Bearer ${created.body.key as string}` };
}

test('the schedule redelivers a failed webhook to the fixed URL, once, with the same webhook-id; the list shows it failed, then delivered', async () => {
  const down = await startTestReceiver(503);
  const fixed = await startTestReceiver(204);
  try {
    const { accountId, deliveryId } = await undeliverableEntry(down.url);
    const other = await undeliverableEntry(down.url);

    const failed = await system.api('GET', `/v1/webhooks/deliveries?status=failed&accountId=${accountId}`);
    expect(failed.status).toBe(200);
    expect(failed.body.deliveries).toEqual([
      expect.objectContaining({
        id: deliveryId,
        status: 'failed',
        attempts: 1,
        lastError: 'webhook answered HTTP 503',
        redelivery: { attempts: 0, nextAttemptAt: null, endedAt: null },
      }),
    ]);
    // A reseller sees its own account's deliveries only; a customer key none.
    const reseller = await apiKey('reseller', [accountId]);
    const seen = await system.api('GET', '/v1/webhooks/deliveries?status=failed', undefined, reseller);
    expect(seen.body.deliveries.map((d: { id: string }) => d.id)).toEqual([deliveryId]);
    expect((await system.api('GET', `/v1/webhooks/deliveries?accountId=${other.accountId}`, undefined, reseller)).status).toBe(404);
    expect((await system.api('POST', `/v1/webhooks/deliveries/${other.deliveryId}/redeliver`, undefined, reseller)).status).toBe(404);
    expect((await system.api('GET', '/v1/webhooks/deliveries', undefined, await apiKey('customer', [accountId]))).status).toBe(403);

    // The portal fixes its receiver; the next scheduled run delivers what it missed.
    await system.db.models.accounts.updateOne({ _id: accountId }, { $set: { webhookUrl: fixed.url } });
    await system.db.models.accounts.updateOne({ _id: other.accountId }, { $set: { webhookUrl: fixed.url } });
    await system.client.schedule.getHandle(scheduleIdFor('webhook-redelivery', system.taskQueue)).trigger();
    const delivered = await eventually(
      () => system.db.models.notifications.find({ _id: { $in: [deliveryId, other.deliveryId] } }).lean(),
      (entries) => entries.every((entry) => entry.status === 'delivered'),
      30_000,
    );
    expect(delivered.map((entry) => entry.status)).toEqual(['delivered', 'delivered']);
    expect(fixed.received.map((r) => r.headers['webhook-id']).sort()).toEqual([deliveryId, other.deliveryId].sort());
    expect(JSON.parse(fixed.received.find((r) => r.headers['webhook-id'] === deliveryId)!.body)).toMatchObject({ id: deliveryId, event: 'upgrade_completed' });

    const listed = await system.api('GET', `/v1/webhooks/deliveries?status=delivered&accountId=${accountId}`);
    expect(listed.body.deliveries).toEqual([
      expect.objectContaining({
        id: deliveryId,
        status: 'delivered',
        webhookUrl: fixed.url,
        attempts: 2,
        lastError: null,
        redelivery: expect.objectContaining({ attempts: 1 }),
      }),
    ]);
    // Delivered: nothing to redeliver.
    const again = await system.api('POST', `/v1/webhooks/deliveries/${deliveryId}/redeliver`);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('DELIVERY_NOT_FAILED');
    expect(fixed.received).toHaveLength(2);
  } finally {
    down.server.close();
    fixed.server.close();
  }
}, 60_000);

test.each([
  ['a leap-year month end', '2028-02-28T22:00:00.000Z'],
  ['a year end', '2030-12-31T23:50:00.000Z'],
])(
  'scheduled redeliveries back off and stop when the window ends (%s); a redeliver request still delivers it',
  async (_label, start) => {
    const down = await startTestReceiver(503);
    try {
      const failedAt = new Date(start);
      const { deliveryId } = await undeliverableEntry(down.url, failedAt);
      let now = failedAt;
      const redelivery = createWebhookRedeliveryActivities({
        ...system.activityDeps,
        clock: () => now,
        webhooks: { ...system.activityDeps.webhooks, redelivery: { intervalMs: 15 * 60_000, windowDays: 1 } },
      });
      const entry = () => system.db.models.notifications.findById(deliveryId).lean();
      const at = (minutes: number) => new Date(failedAt.getTime() + minutes * 60_000);
      const mine = () => redelivery.redeliverDueWebhooks();

      // Due at once; after a failure the next try waits the interval, then twice that.
      expect(await mine()).toMatchObject({ tried: 1, failed: 1 });
      expect(await entry()).toMatchObject({ status: 'undeliverable', redeliveryAttempts: 1, nextRedeliveryAt: at(15) });
      now = at(10);
      expect((await mine()).tried).toBe(0);
      now = at(15);
      expect(await mine()).toMatchObject({ tried: 1, failed: 1 });
      expect(await entry()).toMatchObject({ redeliveryAttempts: 2, nextRedeliveryAt: at(45) });
      // Near the end of the one-day window the next backoff (1 h) would pass it: the schedule stops.
      now = at(23 * 60 + 30);
      expect(await mine()).toMatchObject({ tried: 1, ended: 1 });
      expect(await entry()).toMatchObject({ status: 'undeliverable', redeliveryAttempts: 3, nextRedeliveryAt: null, redeliveryEndedAt: now });
      now = at(3 * 24 * 60);
      expect((await mine()).tried).toBe(0);
      expect(down.received).toHaveLength(1 + 3);

      // An operator redelivers it by hand: failed while the receiver is down, delivered once it is back.
      const stillDown = await system.api('POST', `/v1/webhooks/deliveries/${deliveryId}/redeliver`);
      expect(stillDown.status).toBe(200);
      expect(stillDown.body).toMatchObject({ outcome: 'failed', delivery: { status: 'failed', lastError: 'webhook answered HTTP 503' } });
      down.answer = 204;
      const manual = await system.api('POST', `/v1/webhooks/deliveries/${deliveryId}/redeliver`);
      expect(manual.status).toBe(200);
      expect(manual.body).toMatchObject({ outcome: 'delivered', delivery: { id: deliveryId, status: 'delivered', attempts: 6 } });
      expect(down.received.at(-1)!.headers['webhook-id']).toBe(deliveryId);
    } finally {
      down.server.close();
    }
  },
  60_000,
);
