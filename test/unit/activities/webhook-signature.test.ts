import { signWebhook, verifyWebhookSignature } from '../../../activities/notifications';

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
