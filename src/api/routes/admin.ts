import { randomBytes } from 'node:crypto';
import type { AccountDocument } from '../../db/models';
import { findByIds } from '../../db/find-by-ids';
import { generateApiKey, hashApiKey } from '../auth';
import { firstAccountSecret, rotateAccountSecrets, secretForPortal, type StoredAccountSecret } from '../../webhooks/account-secrets';
import type { ResolvedDeps } from '../deps';
import { notFound, validationError } from '../errors';
import { defineRoute, type AnyRoute } from '../routing';
import {
  accountCreatedSchema,
  accountSchema,
  accountUpsertSchema,
  apiKeyCreateSchema,
  apiKeyCreatedSchema,
  apiKeyRevokedSchema,
  webhookSecretRotatedSchema,
} from '../schemas/accounts';
import { idParamsSchema } from '../schemas/common';
import { accountView } from '../views';
import { webhookUrlProblem } from '../../../activities/webhook-destination';

const toBasisPoints = (percent: number): number => Math.round(percent * 100);

/** Operator-only administration: API keys and accounts. */
export function adminRoutes(deps: ResolvedDeps): AnyRoute[] {
  const { models } = deps;
  // The same rules the worker applies at delivery; here only what the URL itself shows (host names resolve later).
  const webhookRules = {
    allowPrivateNetworks: deps.config.WEBHOOK_ALLOW_PRIVATE_NETWORKS ?? false,
    requireHttps: deps.config.NODE_ENV === 'production',
  };
  return [
    defineRoute({
      method: 'post',
      path: '/v1/api-keys',
      operationId: 'createApiKey',
      tag: 'Administration',
      summary: 'Create an API key scoped to accounts (the secret is shown once)',
      description:
        '`reseller` keys act on the listed accounts and every account whose `parentResellerId` is one of them; `customer` keys on their one account.',
      access: 'operator',
      body: apiKeyCreateSchema,
      responses: { 201: { description: 'Created', schema: apiKeyCreatedSchema } },
      async handler({ body }) {
        if (body.role !== 'operator' && body.accountIds.length > 0) {
          const unknown = new Set((await findByIds(models.accounts, body.accountIds, { _id: 1 })).missing);
          const missing = body.accountIds.flatMap((id, index) => (unknown.has(id) ? [{ path: `accountIds.${index}`, message: `unknown account ${id}` }] : []));
          if (missing.length > 0) throw validationError(missing);
        }
        const { id, key } = generateApiKey();
        const accountIds = body.role === 'operator' ? [] : body.accountIds;
        await models.apiKeys.create({ _id: id, keyHash: hashApiKey(key), role: body.role, accountIds, ...(body.label ? { label: body.label } : {}) });
        return { status: 201, body: { id, key, role: body.role, accountIds, ...(body.label ? { label: body.label } : {}) } };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/v1/api-keys/:id',
      operationId: 'revokeApiKey',
      tag: 'Administration',
      summary: 'Revoke an API key',
      access: 'operator',
      params: idParamsSchema,
      responses: { 200: { description: 'Revoked (revoking twice keeps the first time)', schema: apiKeyRevokedSchema } },
      errors: [404],
      async handler({ params }) {
        const now = deps.clock();
        await models.apiKeys.updateOne({ _id: params.id, revokedAt: null }, { $set: { revokedAt: now } });
        const key = await models.apiKeys.findById(params.id).lean();
        if (!key) throw notFound(`API key ${params.id}`);
        return { status: 200, body: { id: params.id, revokedAt: (key.revokedAt ?? now).toISOString() } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/accounts/:id',
      operationId: 'getAccount',
      tag: 'Administration',
      summary: "An account, with the state of the partner's Microsoft Graph consent in its tenant",
      description:
        "`graphConsent.state` is `missing` when the last automatic seat reassignment found that the customer has not consented to the partner's app (seats then go manual until the customer's administrator consents).",
      access: 'authenticated',
      params: idParamsSchema,
      responses: { 200: { description: 'The account', schema: accountSchema } },
      errors: [404],
      async handler({ params, caller }) {
        const doc = await models.accounts.findById(params.id).lean();
        if (!doc || !caller.mayActOnAccount(params.id)) throw notFound(`Account ${params.id}`);
        return { status: 200, body: accountView(doc as AccountDocument & { _id: string }, deps.clock()) };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/accounts',
      operationId: 'upsertAccount',
      tag: 'Administration',
      summary: 'Create or update an account (customer tenant, role, partner id, tax, markup)',
      description: '`taxRate` and `markupPercent` are percentages with at most two decimals; they are stored as basis points.',
      access: 'operator',
      body: accountUpsertSchema,
      responses: {
        200: { description: 'Updated', schema: accountSchema },
        201: { description: 'Created, with its webhook signing secret (shown only here)', schema: accountCreatedSchema },
      },
      async handler({ body }) {
        const id = body.id ?? `acc_${randomBytes(9).toString('base64url')}`;
        const webhookProblem = body.webhookUrl === undefined ? undefined : webhookUrlProblem(body.webhookUrl, webhookRules);
        if (webhookProblem) throw validationError([{ path: 'webhookUrl', message: webhookProblem }]);
        if (body.parentResellerId) {
          if (body.parentResellerId === id) throw validationError([{ path: 'parentResellerId', message: 'an account cannot be its own reseller' }]);
          const parent = await models.accounts.exists({ _id: body.parentResellerId });
          if (!parent) throw validationError([{ path: 'parentResellerId', message: `unknown account ${body.parentResellerId}` }]);
        }
        const set: Partial<AccountDocument> = {
          name: body.name,
          tenantId: body.tenantId,
          role: body.role,
          currency: body.currency,
          taxRateBasisPoints: toBasisPoints(body.taxRate ?? 0),
        };
        const unset: Record<string, 1> = {};
        const optional = {
          partnerId: body.partnerId,
          webhookUrl: body.webhookUrl,
          markupBasisPoints: body.markupPercent === undefined ? undefined : toBasisPoints(body.markupPercent),
          specialPrices: body.specialPrices,
          parentResellerId: body.parentResellerId,
        };
        for (const [key, value] of Object.entries(optional)) {
          if (value === undefined) unset[key] = 1;
          else (set as Record<string, unknown>)[key] = value;
        }
        // A new account gets its own signing secret, written only by the insert: an update never replaces it.
        const now = deps.clock();
        const first = firstAccountSecret(deps.config.WEBHOOK_SECRETS_KEY, id, now);
        const result = await models.accounts.updateOne(
          { _id: id },
          { $set: set, $setOnInsert: { webhookSecrets: first.secrets }, ...(Object.keys(unset).length > 0 ? { $unset: unset } : {}) },
          { upsert: true },
        );
        const doc = await models.accounts.findById(id).lean();
        const view = accountView(doc as AccountDocument & { _id: string }, now);
        if (result.upsertedCount > 0) return { status: 201, body: { ...view, webhookSecret: secretForPortal(first.secret) } };
        return { status: 200, body: view };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/accounts/:id/webhook-secret/rotate',
      operationId: 'rotateWebhookSecret',
      tag: 'Administration',
      summary: "Rotate an account's webhook signing secret (the new one is shown once)",
      description:
        'The previous secret keeps signing beside the new one for `WEBHOOK_SECRET_OVERLAP_HOURS` (24): during that window `webhook-signature` carries one signature per secret, space separated, so the portal can switch its verifier at any time. An account still on the shared secret keeps that one for the window. Operator keys, or a reseller key for its accounts; one rotation at a time per account.',
      access: 'partner',
      params: idParamsSchema,
      responses: { 200: { description: 'Rotated', schema: webhookSecretRotatedSchema } },
      errors: [404],
      async handler({ params, caller }) {
        const doc = await models.accounts.findById(params.id, { webhookSecrets: 1 }).lean();
        if (!doc || !caller.mayActOnAccount(params.id)) throw notFound(`Account ${params.id}`);
        const now = deps.clock();
        const overlapMs = (deps.config.WEBHOOK_SECRET_OVERLAP_HOURS ?? 24) * 3_600_000;
        const rotated = rotateAccountSecrets(
          deps.config.WEBHOOK_SECRETS_KEY,
          params.id,
          doc.webhookSecrets as StoredAccountSecret[] | undefined,
          now,
          overlapMs,
        );
        await models.accounts.updateOne({ _id: params.id }, { $set: { webhookSecrets: rotated.secrets } });
        deps.logger.info({ accountId: params.id, keyId: caller.keyId }, 'webhook secret rotated');
        return {
          status: 200,
          body: {
            accountId: params.id,
            webhookSecret: secretForPortal(rotated.secret),
            previousSecretsValidUntil: new Date(now.getTime() + overlapMs).toISOString(),
          },
        };
      },
    }),
  ];
}
