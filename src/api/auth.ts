import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import type { Models } from '../db/models';
import { EXACT_ID_LOOKUP_CONCURRENCY, mapPooled } from '../db/find-by-ids';
import { ApiError } from './errors';

/**
 * API keys: `Authorization: Bearer <key>`. Keys are stored as their sha256 only; the secret is shown once at creation.
 * The operator key from OPERATOR_API_KEY is compared by hash in constant time and never stored.
 *
 * Scope: an operator may act on every account; a reseller on the accounts its key lists plus the accounts whose
 * `parentResellerId` is one of them; a customer on its own account. Everything outside the scope is "not found".
 */
export type ApiRole = 'operator' | 'reseller' | 'customer';

const BOOTSTRAP_OPERATOR_KEY_ID = 'operator-bootstrap';

export interface Caller {
  keyId: string;
  role: ApiRole;
  /** Accounts this caller may act on; undefined = every account (operator). */
  accountIds: ReadonlySet<string> | undefined;
  mayActOnAccount(accountId: string): boolean;
}

export const hashApiKey = (key: string): string => createHash('sha256').update(key, 'utf8').digest('hex');

export function generateApiKey(): { id: string; key: string } {
  return { id: `key_${randomBytes(9).toString('base64url')}`, key: `nce_${randomBytes(32).toString('base64url')}` };
}

function constantTimeEqualHex(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && timingSafeEqual(left, right);
}

function scopeOf(keyId: string, role: ApiRole, accountIds: ReadonlySet<string> | undefined): Caller {
  return {
    keyId,
    role,
    accountIds,
    mayActOnAccount: (accountId) => accountIds === undefined || accountIds.has(accountId),
  };
}

/** Resolves the bearer token to a caller, or throws 401. One indexed lookup (two for a reseller). */
export async function authenticate(req: Request, models: Models, operatorKeyHash: string): Promise<Caller> {
  const header = req.headers.authorization;
  if (!header) throw new ApiError(401, 'UNAUTHENTICATED', 'Missing Authorization header (expected "Bearer <api key>")');
  const match = /^Bearer ([\x21-\x7e]{1,512})$/i.exec(header);
  if (!match) throw new ApiError(401, 'UNAUTHENTICATED', 'Malformed Authorization header (expected "Bearer <api key>")');
  const presentedHash = hashApiKey(match[1]!);

  if (constantTimeEqualHex(presentedHash, operatorKeyHash)) return scopeOf(BOOTSTRAP_OPERATOR_KEY_ID, 'operator', undefined);

  const key = await models.apiKeys.findOne({ keyHash: presentedHash }).lean();
  if (!key || key.revokedAt) throw new ApiError(401, 'UNAUTHENTICATED', 'Invalid or revoked API key');
  const role = key.role as ApiRole;
  if (role === 'operator') return scopeOf(String(key._id), role, undefined);

  const own = new Set(key.accountIds);
  if (role === 'reseller' && own.size > 0) {
    // One query per own account: FerretDB serves `parentResellerId` equality from its index, `$in` by reading every account.
    const children = await mapPooled([...own], EXACT_ID_LOOKUP_CONCURRENCY, (resellerId) =>
      models.accounts.find({ parentResellerId: resellerId }, { _id: 1 }).lean().exec(),
    );
    for (const child of children.flat()) own.add(String(child._id));
  }
  return scopeOf(String(key._id), role, own);
}

export function requireOperator(caller: Caller): void {
  if (caller.role !== 'operator') throw new ApiError(403, 'FORBIDDEN', 'This endpoint is for operators only');
}

/** Webhook deliveries and secrets are the partner's business: operator and reseller keys, not customer keys. */
export function requireOperatorOrReseller(caller: Caller): void {
  if (caller.role === 'customer') throw new ApiError(403, 'FORBIDDEN', 'This endpoint is for operator and reseller keys');
}
