import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { createNotificationActivities } from '../../../activities/notifications';
import { standardWebhookSecret } from '../../../activities/webhook-signatures';
import { sampleAccount } from '../../../src/sample-data';
import { startSystemHarness, type SystemHarness } from '../support/system-harness';
import { recordCompletedUpgrade, startTestReceiver, type TestReceiver } from '../support/webhook-receivers';

/**
 * Per-account webhook signing secrets (issue 20, finding 5): each account created through the API gets its own secret,
 * shown once; a portal holding one account's secret cannot verify another account's deliveries (nor can the shared
 * secret); a rotation signs with both secrets during the overlap; accounts from before keep the shared secret until
 * their first rotation. Verified as a portal would, with the `standardwebhooks` library.
 */
const SHARED_SECRET = 'test-signing-secret-0123';
let system: SystemHarness;
let receiver: TestReceiver;

beforeAll(async () => {
  system = await startSystemHarness('webhook_secrets');
  receiver = await startTestReceiver(204);
}, 120_000);

afterAll(async () => {
  receiver?.server.close();
  await system?.close();
});

async function createAccount(): Promise<{ id: string; webhookSecret: string }> {
  const id = `acc-${randomUUID().slice(0, 8)}`;
  const created = await system.api('POST', '/v1/accounts', {
    id,
    name: id,
    tenantId: `tenant-${id}`,
    role: 'end_customer',
    currency: 'USD',
    webhookUrl: receiver.url,
  });
  expect(created.status).toBe(201);
  expect(created.body.webhookSecret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
  expect(created.body.webhookSigning).toEqual({ secret: 'own', previousSecretsValidUntil: null });
  return { id, webhookSecret: created.body.webhookSecret as string };
}

/** Delivers an `upgrade_completed` of the account through the worker's activity; what the receiver got. */
async function deliverTo(accountId: string): Promise<{ body: string; headers: Record<string, string> }> {
  const upgradeId = await recordCompletedUpgrade(system, accountId, 'upg_secret');
  await expect(createNotificationActivities(system.activityDeps).sendUpgradeNotification(upgradeId, 'upgrade_completed')).resolves.toBe('delivered');
  const got = receiver.received.find((r) => r.headers['webhook-id'] === `${upgradeId}:upgrade_completed`)!;
  return { body: got.body, headers: got.headers as Record<string, string> };
}

const verifies = (secret: string, delivery: { body: string; headers: Record<string, string> }): boolean => {
  try {
    new Webhook(secret).verify(delivery.body, delivery.headers);
    return true;
  } catch {
    return false;
  }
};

test("one account's secret verifies its own deliveries only; the shared secret verifies neither", async () => {
  const a = await createAccount();
  const b = await createAccount();
  expect(a.webhookSecret).not.toBe(b.webhookSecret);
  // Shown once: reading or updating the account never shows it again.
  const read = await system.api('GET', `/v1/accounts/${a.id}`);
  expect(read.body).not.toHaveProperty('webhookSecret');
  expect(JSON.stringify(read.body)).not.toContain('webhookSecrets');
  const updated = await system.api('POST', '/v1/accounts', {
    id: a.id,
    name: 'renamed',
    tenantId: `tenant-${a.id}`,
    role: 'end_customer',
    currency: 'USD',
    webhookUrl: receiver.url,
  });
  expect(updated.status).toBe(200);
  expect(updated.body).not.toHaveProperty('webhookSecret');

  const toA = await deliverTo(a.id);
  const toB = await deliverTo(b.id);
  expect(verifies(a.webhookSecret, toA)).toBe(true);
  expect(verifies(b.webhookSecret, toB)).toBe(true);
  expect(verifies(a.webhookSecret, toB)).toBe(false);
  expect(verifies(b.webhookSecret, toA)).toBe(false);
  expect(verifies(standardWebhookSecret(SHARED_SECRET), toA)).toBe(false);
  // The stored secret is encrypted: the database holds no copy of what the portal was given.
  const stored = JSON.stringify(await system.db.models.accounts.findById(a.id).lean());
  expect(stored).not.toContain(a.webhookSecret.slice('whsec_'.length, 20));
});

test('a rotation signs with the old and the new secret until the overlap ends; only operator and its reseller may rotate', async () => {
  const a = await createAccount();
  const b = await createAccount();
  const reseller = await system.api('POST', '/v1/api-keys', { role: 'reseller', accountIds: [b.id] });
  const customer = await system.api('POST', '/v1/api-keys', { role: 'customer', accountIds: [a.id] });
  expect((await system.api('POST', `/v1/accounts/${a.id}/webhook-secret/rotate`, undefined, { authorization: `Bearer ${reseller.body.key}` })).status).toBe(
    404,
  );
  expect((await system.api('POST', `/v1/accounts/${a.id}/webhook-secret/rotate`, undefined, { authorization: `Bearer ${customer.body.key}` })).status).toBe(
    403,
  );
  expect((await system.api('POST', '/v1/accounts/acc-missing/webhook-secret/rotate')).status).toBe(404);

  const rotated = await system.api('POST', `/v1/accounts/${a.id}/webhook-secret/rotate`);
  expect(rotated.status).toBe(200);
  const next = rotated.body.webhookSecret as string;
  expect(next).not.toBe(a.webhookSecret);
  const hoursAhead = (Date.parse(rotated.body.previousSecretsValidUntil as string) - Date.now()) / 3_600_000;
  expect(hoursAhead).toBeGreaterThan(23.9);
  expect(hoursAhead).toBeLessThanOrEqual(24);
  expect((await system.api('GET', `/v1/accounts/${a.id}`)).body.webhookSigning).toEqual({
    secret: 'own',
    previousSecretsValidUntil: rotated.body.previousSecretsValidUntil,
  });

  const during = await deliverTo(a.id);
  expect(during.headers['webhook-signature']!.split(' ')).toHaveLength(2);
  expect(verifies(a.webhookSecret, during)).toBe(true);
  expect(verifies(next, during)).toBe(true);
  expect(verifies(b.webhookSecret, during)).toBe(false);

  // The overlap has passed (its end moved into the past): only the new secret signs.
  await system.db.models.accounts.updateOne({ _id: a.id }, { $set: { 'webhookSecrets.1.expiresAt': new Date(Date.now() - 1_000) } });
  const after = await deliverTo(a.id);
  expect(after.headers['webhook-signature']!.split(' ')).toHaveLength(1);
  expect(verifies(next, after)).toBe(true);
  expect(verifies(a.webhookSecret, after)).toBe(false);

  // Its reseller may rotate its account.
  expect((await system.api('POST', `/v1/accounts/${b.id}/webhook-secret/rotate`, undefined, { authorization: `Bearer ${reseller.body.key}` })).status).toBe(
    200,
  );
});

test('an account from before per-account secrets is signed with the shared secret, and keeps it through the overlap of its first rotation', async () => {
  const legacy = sampleAccount({ id: `acc-legacy-${randomUUID().slice(0, 8)}`, webhookUrl: receiver.url });
  await system.seed({ accounts: [legacy], subscriptions: [] });
  expect((await system.api('GET', `/v1/accounts/${legacy.id}`)).body.webhookSigning).toEqual({ secret: 'shared', previousSecretsValidUntil: null });
  const before = await deliverTo(legacy.id);
  expect(verifies(standardWebhookSecret(SHARED_SECRET), before)).toBe(true);

  const rotated = await system.api('POST', `/v1/accounts/${legacy.id}/webhook-secret/rotate`);
  expect(rotated.status).toBe(200);
  const during = await deliverTo(legacy.id);
  expect(verifies(standardWebhookSecret(SHARED_SECRET), during)).toBe(true);
  expect(verifies(rotated.body.webhookSecret as string, during)).toBe(true);
});
