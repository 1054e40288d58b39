import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createNotificationActivities } from '../../../activities/notifications';
import { DEMO_PRODUCT_IDS } from '../../../src/domain/demo-catalog';
import { sampleAccount as makeAccount, sampleSubscription as makeSubscription } from '../../../src/sample-data';
import { startSystemHarness, type SystemHarness } from '../support/system-harness';
import { recordCompletedUpgrade } from '../support/webhook-receivers';

/**
 * Webhooks cannot be aimed inward: without WEBHOOK_ALLOW_PRIVATE_NETWORKS a receiver on 127.0.0.1 is refused at send
 * time (the upgrade completes, the outbox keeps the entry undeliverable with the rule), and a redirect is never
 * followed, even where private receivers are allowed.
 */
let system: SystemHarness;

beforeAll(async () => {
  system = await startSystemHarness('webhook_destinations', { env: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'false' } });
}, 120_000);

afterAll(async () => {
  await system?.close();
});

async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string; hits: string[] }> {
  const hits: string[] = [];
  const server = createServer((request, response) => {
    hits.push(`${request.method} ${request.url}`);
    handler!(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits };
}

async function seedAccountWithWebhook(webhookUrl: string) {
  const account = makeAccount({ id: `acc-${randomUUID().slice(0, 8)}` });
  const source = makeSubscription(account, { quantity: 2 });
  await system.seed({ accounts: [account], subscriptions: [source] });
  // Stored directly: the API refuses this URL as well (see below), the delivery rule is what is tested here.
  await system.db.models.accounts.updateOne({ _id: account.id }, { $set: { webhookUrl } });
  return { account, source };
}

test('a receiver on 127.0.0.1 without WEBHOOK_ALLOW_PRIVATE_NETWORKS: refused, never contacted, recorded undeliverable', async () => {
  const receiver = await listen((_request, response) => response.writeHead(204).end());
  try {
    const { source } = await seedAccountWithWebhook(`${receiver.url}/hooks`);
    const started = await system.api(
      'POST',
      '/v1/upgrades',
      { sourceSubscriptionId: source.id, targetProductId: DEMO_PRODUCT_IDS.businessStandard, quantity: 2, destination: { type: 'new' } },
      { 'idempotency-key': randomUUID() },
    );
    expect(started.status).toBe(202);
    const upgradeId = started.body.upgradeId as string;
    expect((await system.waitForUpgrade(upgradeId)).status).toBe('completed');
    const outbox = await system.db.models.notifications.find({ upgradeId }).lean();
    expect(outbox.length).toBeGreaterThan(0);
    for (const entry of outbox) {
      expect(entry.status).toBe('undeliverable');
      expect(entry.lastError).toMatch(/127\.0\.0\.1 is a loopback address/);
      expect(entry.attempts).toBe(1);
    }
    expect(receiver.hits).toEqual([]);
  } finally {
    receiver.server.close();
  }
}, 60_000);

test('the API refuses internal webhook URLs by their literal address, in any numeric form', async () => {
  const base = { name: 'x', tenantId: 'tenant-ssrf', role: 'end_customer', currency: 'USD' };
  for (const webhookUrl of [
    'http://169.254.169.254/latest/meta-data',
    'http://0x7f000001/',
    'http://2130706433:27017/',
    'http://[::1]/',
    'http://[::ffff:10.0.0.1]/',
  ]) {
    const r = await system.api('POST', '/v1/accounts', { ...base, id: 'acc-ssrf', webhookUrl });
    expect({ webhookUrl, status: r.status, path: r.body.error?.details?.fields?.[0]?.path }).toEqual({ webhookUrl, status: 400, path: 'webhookUrl' });
  }
  expect(await system.db.models.accounts.exists({ _id: 'acc-ssrf' })).toBeNull();
  // A host name is checked when it is resolved, at each delivery.
  expect((await system.api('POST', '/v1/accounts', { ...base, id: 'acc-public-hook', webhookUrl: 'https://hooks.example.com/nce' })).status).toBe(201);
});

test('a 307 is a failed delivery: the redirect target is never contacted and the entry is not delivered', async () => {
  const elsewhere = await listen((_request, response) => response.writeHead(204).end());
  const redirecting = await listen((_request, response) => response.writeHead(307, { location: `${elsewhere.url}/stolen` }).end());
  try {
    const { account } = await seedAccountWithWebhook(`${redirecting.url}/hooks`);
    // The activity as the worker runs it, with private receivers allowed (both servers are on 127.0.0.1).
    const deps = system.activityDeps;
    const activities = createNotificationActivities({
      ...deps,
      webhooks: { ...deps.webhooks, destinations: { allowPrivateNetworks: true, requireHttps: false } },
    });
    const upgradeId = await recordCompletedUpgrade(system, account.id, 'upg_redirect');
    await expect(activities.sendUpgradeNotification(upgradeId, 'upgrade_completed')).rejects.toThrow(/HTTP 307 \(redirects are not followed\)/);
    expect(redirecting.hits).toEqual(['POST /hooks']);
    expect(elsewhere.hits).toEqual([]);
    const entry = await system.db.models.notifications.findById(`${upgradeId}:upgrade_completed`).lean();
    expect(entry).toMatchObject({ status: 'pending', attempts: 1, lastError: 'webhook answered HTTP 307 (redirects are not followed)' });
  } finally {
    redirecting.server.close();
    elsewhere.server.close();
  }
});
