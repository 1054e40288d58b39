import { createHmac, timingSafeEqual } from 'node:crypto';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';

/**
 * Standard Webhooks (https://www.standardwebhooks.com): `webhook-id`, `webhook-timestamp` and
 * `webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, signed by the `standardwebhooks` library
 * so portals verify with any off-the-shelf one. `keys`: the account's valid secrets (src/webhooks/account-secrets.ts),
 * one signature each, space separated (a rotation's overlap); a string is the shared `WEBHOOK_SIGNING_SECRET`, whose
 * UTF-8 bytes are the key (in the libraries' notation `standardWebhookSecret(secret)`).
 */
export function standardWebhookHeaders(keys: string | readonly Buffer[], deliveryId: string, timestampSeconds: number, body: string): Record<string, string> {
  const keyBytes = typeof keys === 'string' ? [Buffer.from(keys, 'utf8')] : keys;
  const signatures = keyBytes.map((key) => new Webhook(key, { format: 'raw' }).sign(deliveryId, new Date(timestampSeconds * 1000), body));
  return {
    'webhook-id': deliveryId,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': signatures.join(' '),
  };
}

/** The secret as Standard Webhooks libraries take it: `whsec_` + base64 of its bytes. */
export const standardWebhookSecret = (secret: string): string => `whsec_${Buffer.from(secret, 'utf8').toString('base64')}`;

/**
 * The receiver's side of `standardWebhookHeaders` (what a portal does with the `standardwebhooks` package): true when
 * the headers sign `body` and the timestamp is within 5 minutes of now.
 */
export function verifyStandardWebhook(secret: string, body: string, headers: Record<string, string>): boolean {
  try {
    new Webhook(standardWebhookSecret(secret)).verify(body, headers);
    return true;
  } catch (error) {
    if (error instanceof WebhookVerificationError) return false;
    throw error;
  }
}

/** Kept for one release beside the Standard Webhooks headers (docs/http-api.md#webhooks). `X-NCE-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, verifiable by the receiver. */
export function signWebhook(secret: string | Buffer, body: string, timestampSeconds: number): string {
  const digest = createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex');
  return `t=${timestampSeconds},v1=${digest}`;
}

/**
 * The receiver's side of `signWebhook`: true when `header` signs `body` with `secret` and its timestamp is within
 * `toleranceSeconds` of `nowSeconds` (an old delivery replayed by someone else is refused).
 */
export function verifyWebhookSignature(secret: string, body: string, header: string | undefined, nowSeconds: number, toleranceSeconds = 300): boolean {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? '');
  if (!match) return false;
  const timestamp = Number(match[1]);
  if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) return false;
  const expected = Buffer.from(signWebhook(secret, body, timestamp).slice(`t=${timestamp},v1=`.length), 'hex');
  return timingSafeEqual(expected, Buffer.from(match[2]!, 'hex'));
}
