import { Webhook } from 'standardwebhooks';
import { standardWebhookHeaders } from '../../../activities/webhook-signatures';
import {
  AccountSecretUnreadable,
  decryptAccountSecret,
  firstAccountSecret,
  previousSecretsValidUntil,
  rotateAccountSecrets,
  secretForPortal,
  signingKeysOf,
} from '../../../src/webhooks/account-secrets';

const KEY = 'unit-test-webhook-secrets-key-0123456789';
const SHARED = 'shared-signing-secret-0123';
const HOUR = 3_600_000;

describe.each([
  ['a leap day', '2028-02-29T23:30:00.000Z'],
  ['a year end', '2031-12-31T22:00:00.000Z'],
])('per-account webhook secrets (%s)', (_label, start) => {
  const t0 = new Date(start);
  const at = (hours: number) => new Date(t0.getTime() + hours * HOUR);

  it('stores the secret encrypted, bound to its account: another account or key cannot read it', () => {
    const { secret, secrets } = firstAccountSecret(KEY, 'acc-a', t0);
    expect(secrets).toHaveLength(1);
    expect(secrets[0]!.encrypted).not.toContain(secret.toString('base64url'));
    expect(decryptAccountSecret(KEY, 'acc-a', secrets[0]!.encrypted!)).toEqual(secret);
    expect(() => decryptAccountSecret(KEY, 'acc-b', secrets[0]!.encrypted!)).toThrow(AccountSecretUnreadable);
    expect(() => decryptAccountSecret(`${KEY}-other`, 'acc-a', secrets[0]!.encrypted!)).toThrow(AccountSecretUnreadable);
    expect(signingKeysOf(KEY, SHARED, 'acc-a', secrets, t0)).toEqual([secret]);
  });

  it('after a rotation both secrets sign until the overlap ends, then only the new one', () => {
    const first = firstAccountSecret(KEY, 'acc-a', t0);
    const rotated = rotateAccountSecrets(KEY, 'acc-a', first.secrets, at(10), 24 * HOUR);
    expect(signingKeysOf(KEY, SHARED, 'acc-a', rotated.secrets, at(33.99))).toEqual([rotated.secret, first.secret]);
    expect(signingKeysOf(KEY, SHARED, 'acc-a', rotated.secrets, at(34))).toEqual([rotated.secret]);
    expect(previousSecretsValidUntil(rotated.secrets, at(10))).toEqual(at(34));
    expect(previousSecretsValidUntil(rotated.secrets, at(34))).toBeNull();
    // A second rotation inside the window keeps the first one's deadline and drops what already expired.
    const again = rotateAccountSecrets(KEY, 'acc-a', rotated.secrets, at(40), 24 * HOUR);
    expect(signingKeysOf(KEY, SHARED, 'acc-a', again.secrets, at(41))).toEqual([again.secret, rotated.secret]);
    expect(again.secrets).toHaveLength(2);
  });

  it('an account from before per-account secrets signs with the shared one, and keeps it for the overlap of its first rotation', () => {
    expect(signingKeysOf(KEY, SHARED, 'acc-old', undefined, t0)).toEqual([Buffer.from(SHARED, 'utf8')]);
    const rotated = rotateAccountSecrets(KEY, 'acc-old', undefined, t0, 24 * HOUR);
    expect(signingKeysOf(KEY, SHARED, 'acc-old', rotated.secrets, at(1))).toEqual([rotated.secret, Buffer.from(SHARED, 'utf8')]);
    expect(signingKeysOf(KEY, SHARED, 'acc-old', rotated.secrets, at(24))).toEqual([rotated.secret]);
  });

  it('webhook-signature carries one signature per key, and a Standard Webhooks library verifies it with either secret', () => {
    const first = firstAccountSecret(KEY, 'acc-a', t0);
    const rotated = rotateAccountSecrets(KEY, 'acc-a', first.secrets, t0, 24 * HOUR);
    const body = JSON.stringify({ id: 'upg_1:upgrade_completed' });
    const nowSeconds = Math.floor(Date.now() / 1000);
    const headers = standardWebhookHeaders(signingKeysOf(KEY, SHARED, 'acc-a', rotated.secrets, at(1)), 'upg_1:upgrade_completed', nowSeconds, body);
    expect(headers['webhook-signature']!.split(' ')).toHaveLength(2);
    for (const secret of [first.secret, rotated.secret]) expect(() => new Webhook(secretForPortal(secret)).verify(body, headers)).not.toThrow();
    const stranger = firstAccountSecret(KEY, 'acc-b', t0);
    expect(() => new Webhook(secretForPortal(stranger.secret)).verify(body, headers)).toThrow();
  });
});
