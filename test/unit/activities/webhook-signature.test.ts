import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { signWebhook, standardWebhookHeaders, standardWebhookSecret, verifyStandardWebhook, verifyWebhookSignature } from '../../../activities/notifications';

describe('webhook signatures (X-NCE-Signature)', () => {
  const secret = 'receiver-shared-secret';
  const body = JSON.stringify({ id: 'upg_1:upgrade_completed', event: 'upgrade_completed' });
  const now = 1_790_000_000;

  it('accepts what signWebhook produced, within the tolerance', () => {
    expect(verifyWebhookSignature(secret, body, signWebhook(secret, body, now), now)).toBe(true);
    expect(verifyWebhookSignature(secret, body, signWebhook(secret, body, now - 299), now)).toBe(true);
  });

  it('refuses another body, another secret, an old timestamp, a malformed header', () => {
    const header = signWebhook(secret, body, now);
    expect(verifyWebhookSignature(secret, `${body} `, header, now)).toBe(false);
    expect(verifyWebhookSignature('another-secret', body, header, now)).toBe(false);
    expect(verifyWebhookSignature(secret, body, signWebhook(secret, body, now - 301), now)).toBe(false);
    expect(verifyWebhookSignature(secret, body, header.replace('v1=', 'v2='), now)).toBe(false);
    expect(verifyWebhookSignature(secret, body, undefined, now)).toBe(false);
  });
});

describe('Standard Webhooks headers (webhook-id, webhook-timestamp, webhook-signature)', () => {
  const secret = 'receiver-shared-secret';
  const body = JSON.stringify({ id: 'upg_1:upgrade_completed', event: 'upgrade_completed' });
  const id = 'upg_1:upgrade_completed';

  it('signs "<id>.<timestamp>.<body>" with HMAC-SHA256, base64, version v1', () => {
    const timestamp = 1_790_000_000;
    const headers = standardWebhookHeaders(secret, id, timestamp, body);
    const expected = createHmac('sha256', Buffer.from(secret, 'utf8')).update(`${id}.${timestamp}.${body}`).digest('base64');
    expect(headers).toEqual({ 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': `v1,${expected}` });
  });

  it('verifies with the off-the-shelf library and the whsec_ secret; refuses another body, secret or an old timestamp', () => {
    const now = Math.floor(Date.now() / 1000);
    const headers = standardWebhookHeaders(secret, id, now, body);
    expect(() => new Webhook(standardWebhookSecret(secret)).verify(body, headers)).not.toThrow();
    expect(verifyStandardWebhook(secret, body, headers)).toBe(true);
    expect(verifyStandardWebhook(secret, `${body} `, headers)).toBe(false);
    expect(verifyStandardWebhook('another-secret-value', body, headers)).toBe(false);
    expect(verifyStandardWebhook(secret, body, standardWebhookHeaders(secret, id, now - 600, body))).toBe(false);
    expect(verifyStandardWebhook(secret, body, { ...headers, 'webhook-id': 'upg_2:upgrade_completed' })).toBe(false);
  });
});
