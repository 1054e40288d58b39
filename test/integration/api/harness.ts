import type { Models } from '../../../src/db/models';
import type { Client } from '@temporalio/client';
import type { AppDeps } from '../../../src/api/app';
import type { Database } from '../../../src/db/connection';
import { assembleSystem } from '../../../src/system';
import { integrationConfig } from '../support/test-config';
import { demoProducts, DEMO_PRODUCT_IDS } from '../../../src/domain';

/**
 * One API per test file: its own database and task queue on the globalSetup's FerretDB and Temporal dev server,
 * listening on an ephemeral port, spoken to over real HTTP.
 */
export const OPERATOR_KEY = 'test-operator-key-0123456789abcdef';
export const NOW = new Date('2025-04-12T10:00:00Z');
export const P = DEMO_PRODUCT_IDS;

export interface Harness {
  baseUrl: string;
  database: Database;
  temporal: Client;
  taskQueue: string;
  call(method: string, path: string, options?: CallOptions): Promise<CallResult>;
  close(): Promise<void>;
}

export interface CallOptions {
  key?: string | null;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
}

export interface CallResult {
  status: number;
  body: any;
  headers: Headers;
  text: string;
}

export async function startHarness(name: string, overrides: Partial<AppDeps> = {}): Promise<Harness> {
  const config = integrationConfig('api', name, { OPERATOR_API_KEY: OPERATOR_KEY });
  // The API alone: no worker and no Partner Center (starts stay `accepted`), the clock pinned at NOW.
  const system = await assembleSystem({
    config,
    worker: false,
    api: { clock: () => NOW, queryTimeoutMs: 300, ...overrides },
    dropDatabaseOnClose: true,
  });
  const { db: database, temporalClient: temporal } = system;
  const baseUrl = system.api!.url;
  const taskQueue = config.TEMPORAL_TASK_QUEUE;

  async function call(method: string, path: string, options: CallOptions = {}): Promise<CallResult> {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    const key = options.key === undefined ? OPERATOR_KEY : options.key;
    if (key !== null) headers.authorization = `Bearer ${key}`;
    let body: string | undefined = options.rawBody;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(`${baseUrl}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: response.status, body: parsed, headers: response.headers, text };
  }

  return {
    baseUrl,
    database,
    temporal,
    taskQueue,
    call,
    async close() {
      system.api!.server.closeAllConnections();
      await system.close();
    },
  };
}

/** A subscription as `POST /v1/subscriptions/import` takes it, on a cycle around NOW. */
export function subscriptionInput(overrides: Record<string, unknown> = {}) {
  return {
    accountId: 'cust-1',
    productId: P.businessBasic,
    quantity: 10,
    status: 'active',
    isTrial: false,
    term: 'P1Y',
    billingFrequency: 'monthly',
    termStart: '2025-01-10',
    termEnd: '2026-01-09',
    chargeStart: '2025-04-10',
    chargeEnd: '2025-05-09',
    purchasedAt: '2025-01-10T08:00:00Z',
    unitPrice: 735,
    currency: 'USD',
    partnerId: 'MPN-R1',
    ...overrides,
  };
}

export interface World {
  resellerKey: string;
  customerKey: string;
  foreignCustomerKey: string;
  keyIds: Record<string, string>;
}

/**
 * Catalog (the demo Microsoft 365 catalog), two resellers with customers, subscriptions, and one key per role:
 *   reseller-1 ─┬─ cust-1 (subs sub-1 10×Basic, sub-2 5×Standard, sub-trial)
 *               └─ cust-2 (sub-3)
 *   reseller-2 ─── cust-3 (sub-9)          ← "foreign" to reseller-1's and cust-1's keys
 */
export async function seedWorld(h: Harness): Promise<World> {
  const ok = (r: CallResult, what: string) => {
    if (r.status >= 300) throw new Error(`${what}: ${r.status} ${r.text}`);
    return r;
  };
  ok(await h.call('PUT', '/v1/catalog', { body: { products: demoProducts() } }), 'catalog');
  const account = (id: string, extra: Record<string, unknown> = {}) => ({
    id,
    name: `Account ${id}`,
    tenantId: `tenant-${id}`,
    role: 'indirect_reseller',
    partnerId: 'MPN-R1',
    currency: 'USD',
    taxRate: 19,
    ...extra,
  });
  ok(await h.call('POST', '/v1/accounts', { body: account('reseller-1') }), 'reseller-1');
  ok(await h.call('POST', '/v1/accounts', { body: account('reseller-2', { partnerId: 'MPN-R2' }) }), 'reseller-2');
  ok(await h.call('POST', '/v1/accounts', { body: account('cust-1', { parentResellerId: 'reseller-1' }) }), 'cust-1');
  ok(await h.call('POST', '/v1/accounts', { body: account('cust-2', { parentResellerId: 'reseller-1' }) }), 'cust-2');
  ok(await h.call('POST', '/v1/accounts', { body: account('cust-3', { parentResellerId: 'reseller-2', partnerId: 'MPN-R2' }) }), 'cust-3');
  ok(
    await h.call('POST', '/v1/subscriptions/import', {
      body: {
        subscriptions: [
          subscriptionInput({ id: 'sub-1' }),
          subscriptionInput({ id: 'sub-2', productId: P.businessStandard, quantity: 5, unitPrice: 1313 }),
          subscriptionInput({ id: 'sub-trial', isTrial: true, quantity: 3 }),
          subscriptionInput({ id: 'sub-3', accountId: 'cust-2' }),
          subscriptionInput({ id: 'sub-9', accountId: 'cust-3', partnerId: 'MPN-R2' }),
        ],
      },
    }),
    'subscriptions',
  );
  const key = async (role: string, accountIds: string[]) => {
    const r = ok(await h.call('POST', '/v1/api-keys', { body: { role, accountIds } }), `key ${role}`);
    return r.body as { id: string; key: string };
  };
  const reseller = await key('reseller', ['reseller-1']);
  const customer = await key('customer', ['cust-1']);
  const foreign = await key('customer', ['cust-3']);
  return {
    resellerKey: reseller.key,
    customerKey: customer.key,
    foreignCustomerKey: foreign.key,
    keyIds: { reseller: reseller.id, customer: customer.id, foreign: foreign.id },
  };
}

export const upgradeBody = (overrides: Record<string, unknown> = {}) => ({
  sourceSubscriptionId: 'sub-1',
  targetProductId: P.businessStandard,
  quantity: 4,
  destination: { type: 'new' },
  ...overrides,
});

/** Frees subscriptions as if their upgrades had ended (tests reuse the same fixtures for several starts). */
export async function forceUnlock(models: Models, subscriptionIds?: string[]): Promise<void> {
  const filter = subscriptionIds ? { _id: { $in: subscriptionIds } } : {};
  await models.subscriptionLocks.deleteMany(filter);
}

/** The upgrade holding a subscription's lock, or null. */
export async function lockHolder(models: Models, subscriptionId: string): Promise<string | null> {
  return (await models.subscriptionLocks.findById(subscriptionId).lean())?.upgradeId ?? null;
}
