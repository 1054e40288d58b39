import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Per-account webhook signing secrets (docs/http-api.md, "Signing secrets"). Each account gets its own: a portal that
 * verifies one account's webhooks cannot verify (or forge) another's. The worker must sign with it, so it cannot be
 * stored as a hash like an API key: it is stored **encrypted** (AES-256-GCM, the key derived with HKDF-SHA256 from
 * `WEBHOOK_SECRETS_KEY`, the account id as associated data so a ciphertext copied onto another account does not
 * decrypt) and shown once, at account creation or rotation. The API (which creates and rotates) and the worker (which
 * signs) share `WEBHOOK_SECRETS_KEY`; a database dump alone reveals no secret.
 *
 * Rotation keeps the previous secrets valid for an overlap window: until then every delivery carries one signature per
 * valid secret in `webhook-signature` (space separated, as Standard Webhooks allows), so a portal switches its
 * verifier at any moment of the window. Accounts from before per-account secrets are signed with the shared
 * `WEBHOOK_SIGNING_SECRET` until their first rotation, which keeps the shared one valid for the overlap too.
 */
export interface StoredAccountSecret {
  /** `v1.<iv>.<tag>.<ciphertext>` (base64url), or absent for the shared `WEBHOOK_SIGNING_SECRET`. */
  encrypted?: string;
  createdAt: Date;
  /** When it stops signing; null for the current secret. */
  expiresAt: Date | null;
}

/** A signing key as the signer takes it: the secret's bytes. */
export type SigningKey = Buffer;

const SECRET_BYTES = 32;
const KEY_INFO = 'nce-upgrade-orchestrator account webhook secrets v1';

function encryptionKey(secretsKey: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(secretsKey, 'utf8'), Buffer.alloc(0), KEY_INFO, 32));
}

/** The secret as Standard Webhooks libraries take it (and as the portal is shown it): `whsec_` + base64 of its bytes. */
export const secretForPortal = (secret: Buffer): string => `whsec_${secret.toString('base64')}`;

export function encryptAccountSecret(secretsKey: string, accountId: string, secret: Buffer): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', encryptionKey(secretsKey), iv);
  cipher.setAAD(Buffer.from(accountId, 'utf8'));
  const data = Buffer.concat([cipher.update(secret), cipher.final()]);
  return ['v1', iv, cipher.getAuthTag(), data].map((part) => (typeof part === 'string' ? part : part.toString('base64url'))).join('.');
}

export class AccountSecretUnreadable extends Error {
  override readonly name = 'AccountSecretUnreadable';
}

export function decryptAccountSecret(secretsKey: string, accountId: string, encrypted: string): Buffer {
  const [version, iv, tag, data] = encrypted.split('.');
  if (version !== 'v1' || !iv || !tag || data === undefined) throw new AccountSecretUnreadable(`account ${accountId}: unknown secret format`);
  try {
    const decipher = createDecipheriv('aes-256-gcm', encryptionKey(secretsKey), Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(accountId, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]);
  } catch {
    throw new AccountSecretUnreadable(`account ${accountId}: its webhook secret does not decrypt (is WEBHOOK_SECRETS_KEY the same on the API and the worker?)`);
  }
}

/** A new account's first secret (no overlap: nothing verified its deliveries before). */
export function firstAccountSecret(secretsKey: string, accountId: string, now: Date): { secret: Buffer; secrets: StoredAccountSecret[] } {
  const secret = randomBytes(SECRET_BYTES);
  return { secret, secrets: [{ encrypted: encryptAccountSecret(secretsKey, accountId, secret), createdAt: now, expiresAt: null }] };
}

/**
 * A new current secret in front of the ones still valid at `now`; the old current one (or, for an account without its
 * own yet, the shared secret) stays valid until `now + overlapMs`. Returns the new secret's bytes, to be shown once.
 */
export function rotateAccountSecrets(
  secretsKey: string,
  accountId: string,
  stored: readonly StoredAccountSecret[] | undefined,
  now: Date,
  overlapMs: number,
): { secret: Buffer; secrets: StoredAccountSecret[] } {
  const secret = randomBytes(SECRET_BYTES);
  const until = new Date(now.getTime() + overlapMs);
  const previous: StoredAccountSecret[] =
    stored && stored.length > 0
      ? stored
          .filter((entry) => entry.expiresAt === null || entry.expiresAt.getTime() > now.getTime())
          .map((entry) => (entry.expiresAt === null ? { ...entry, expiresAt: until } : entry))
      : [{ createdAt: now, expiresAt: until }];
  return { secret, secrets: [{ encrypted: encryptAccountSecret(secretsKey, accountId, secret), createdAt: now, expiresAt: null }, ...previous] };
}

/** Every key a delivery at `now` is signed with: the account's valid secrets, newest first, or the shared one. */
export function signingKeysOf(
  secretsKey: string,
  sharedSecret: string,
  accountId: string,
  stored: readonly StoredAccountSecret[] | null | undefined,
  now: Date,
): SigningKey[] {
  const shared = Buffer.from(sharedSecret, 'utf8');
  if (!stored || stored.length === 0) return [shared];
  return stored
    .filter((entry) => entry.expiresAt === null || entry.expiresAt.getTime() > now.getTime())
    .map((entry) => (entry.encrypted ? decryptAccountSecret(secretsKey, accountId, entry.encrypted) : shared));
}

/** When the secrets other than the current one stop signing (null when there are none). */
export function previousSecretsValidUntil(stored: readonly StoredAccountSecret[] | null | undefined, now: Date): Date | null {
  const until = (stored ?? []).flatMap((entry) => (entry.expiresAt && entry.expiresAt.getTime() > now.getTime() ? [entry.expiresAt.getTime()] : []));
  return until.length > 0 ? new Date(Math.max(...until)) : null;
}
