import { createHash } from 'node:crypto';

/**
 * The upgrade id is the Temporal workflow id, derived from the portal's Idempotency-Key scoped to the caller's API
 * key: the same key from the same caller always names the same upgrade, across API restarts and replicas.
 */
export function upgradeIdFor(apiKeyId: string, idempotencyKey: string): string {
  const digest = createHash('sha256').update(`${apiKeyId}\u0000${idempotencyKey}`).digest('base64url');
  return `upg_${digest.slice(0, 26)}`;
}

/** Order-independent fingerprint of a JSON body: same body ⇒ same fingerprint, whatever the key order. */
export function requestFingerprint(body: unknown): string {
  return createHash('sha256').update(canonicalJson(body)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * Partner Center's MS-RequestId for an upgrade's transition: a GUID derived from the upgrade id (and the vendor
 * attempt, which only an operator retry after a vendor rejection advances), so every retry of the call sends the same
 * id and the vendor never creates a second transition.
 */
export function vendorRequestIdFor(upgradeId: string, attempt: number): string {
  const hex = createHash('sha256').update(`partner-center-transition\u0000${upgradeId}\u0000${attempt}`).digest('hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
