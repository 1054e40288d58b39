import { demoProducts } from '../../../src/domain';
import { forceUnlock, OPERATOR_KEY, seedWorld, startHarness, subscriptionInput, upgradeBody, type Harness, type World } from './harness';

/**
 * Every endpoint × every role × own / sibling / foreign account → the expected status.
 *   own     = cust-1 (the customer key's account, a child of reseller-1)
 *   sibling = cust-2 (another child of reseller-1: the reseller sees it, the customer doesn't)
 *   foreign = cust-3 (reseller-2's customer: nobody but the operator sees it)
 * Outside one's scope is 404 (no existence leak); operator-only endpoints are 403 for others; no key is 401.
 */
type Role = 'operator' | 'reseller' | 'customer' | 'none';
type Target = 'own' | 'sibling' | 'foreign';
const ROLES: Role[] = ['operator', 'reseller', 'customer', 'none'];
const TARGETS: Target[] = ['own', 'sibling', 'foreign'];
const ACCOUNT: Record<Target, string> = { own: 'cust-1', sibling: 'cust-2', foreign: 'cust-3' };
const SUBSCRIPTION: Record<Target, string> = { own: 'sub-1', sibling: 'sub-3', foreign: 'sub-9' };
const UPGRADE: Record<Target, string> = { own: 'upg_own', sibling: 'upg_sibling', foreign: 'upg_foreign' };

let h: Harness;
let world: World;
let counter = 0;
const started: string[] = [];

beforeAll(async () => {
  h = await startHarness('authz');
  world = await seedWorld(h);
  for (const target of TARGETS) {
    await h.database.models.upgrades.create({
      _id: UPGRADE[target],
      requestFingerprint: 'f',
      requestedByKeyId: 'k',
      accountId: ACCOUNT[target],
      request: upgradeBody({ sourceSubscriptionId: SUBSCRIPTION[target] }),
      kind: 'partial',
      destinationType: 'new',
      status: 'completed',
    });
    await h.database.models.notifications.create({
      _id: `${UPGRADE[target]}:upgrade_completed`,
      upgradeId: UPGRADE[target],
      accountId: ACCOUNT[target],
      event: 'upgrade_completed',
      payload: {},
      webhookUrl: 'https://hooks.example.com/nce',
      status: 'delivered',
    });
  }
}, 60_000);
afterAll(async () => {
  await Promise.all(
    started.map((id) =>
      h.temporal.workflow
        .getHandle(id)
        .terminate('test over')
        .catch(() => undefined),
    ),
  );
  await h?.close();
});

interface Case {
  name: string;
  request(target: Target): { method: string; path: string; body?: unknown; headers?: Record<string, string> };
  /** Status for a caller who may act on the target. */
  allowed: number;
  operatorOnly?: boolean;
  /** Same answer whatever the target (not account-scoped). */
  unscoped?: boolean;
  /** Answers without a key too (probes, the contract). */
  public?: boolean;
  /** Operator and reseller keys only (webhook deliveries): 403 for a customer key. */
  notForCustomers?: boolean;
}

const CASES: Case[] = [
  {
    name: 'PUT /v1/catalog',
    request: () => ({ method: 'PUT', path: '/v1/catalog', body: { products: demoProducts().slice(0, 1) } }),
    allowed: 200,
    operatorOnly: true,
    unscoped: true,
  },
  { name: 'POST /v1/catalog/sync', request: () => ({ method: 'POST', path: '/v1/catalog/sync' }), allowed: 503, operatorOnly: true, unscoped: true },
  {
    // No body: 415 for the operator (the body must be text/csv), after authentication and the role check.
    name: 'PUT /v1/catalog/price-list',
    request: () => ({ method: 'PUT', path: '/v1/catalog/price-list' }),
    allowed: 415,
    operatorOnly: true,
    unscoped: true,
  },
  { name: 'GET /v1/accounts/:id', request: (t) => ({ method: 'GET', path: `/v1/accounts/${ACCOUNT[t]}` }), allowed: 200 },
  { name: 'GET /v1/catalog/products', request: () => ({ method: 'GET', path: '/v1/catalog/products' }), allowed: 200, unscoped: true },
  {
    name: 'GET /v1/catalog/products/:id',
    request: () => ({ method: 'GET', path: `/v1/catalog/products/${demoProducts()[0]!.productId}` }),
    allowed: 200,
    unscoped: true,
  },
  {
    name: 'POST /v1/api-keys',
    request: (t) => ({ method: 'POST', path: '/v1/api-keys', body: { role: 'customer', accountIds: [ACCOUNT[t]] } }),
    allowed: 201,
    operatorOnly: true,
  },
  {
    name: 'DELETE /v1/api-keys/:id',
    request: () => ({ method: 'DELETE', path: '/v1/api-keys/key_nonexistent' }),
    allowed: 404,
    operatorOnly: true,
    unscoped: true,
  },
  {
    name: 'POST /v1/accounts',
    request: (t) => ({
      method: 'POST',
      path: '/v1/accounts',
      body: {
        id: ACCOUNT[t],
        name: 'x',
        tenantId: `tenant-${ACCOUNT[t]}`,
        role: 'indirect_reseller',
        partnerId: t === 'foreign' ? 'MPN-R2' : 'MPN-R1',
        currency: 'USD',
        taxRate: 19,
        parentResellerId: t === 'foreign' ? 'reseller-2' : 'reseller-1',
      },
    }),
    allowed: 200,
    operatorOnly: true,
  },
  {
    name: 'POST /v1/subscriptions/import',
    request: (t) => ({
      method: 'POST',
      path: '/v1/subscriptions/import',
      body: { subscriptions: [subscriptionInput({ id: `imported-${t}`, accountId: ACCOUNT[t] })] },
    }),
    allowed: 200,
    operatorOnly: true,
  },
  { name: 'GET /v1/subscriptions?accountId', request: (t) => ({ method: 'GET', path: `/v1/subscriptions?accountId=${ACCOUNT[t]}` }), allowed: 200 },
  { name: 'GET /v1/subscriptions/:id', request: (t) => ({ method: 'GET', path: `/v1/subscriptions/${SUBSCRIPTION[t]}` }), allowed: 200 },
  { name: 'GET /v1/subscriptions/:id/history', request: (t) => ({ method: 'GET', path: `/v1/subscriptions/${SUBSCRIPTION[t]}/history` }), allowed: 200 },
  {
    name: 'GET /v1/subscriptions/:id/upgrade-options',
    request: (t) => ({ method: 'GET', path: `/v1/subscriptions/${SUBSCRIPTION[t]}/upgrade-options` }),
    allowed: 200,
  },
  {
    name: 'POST /v1/upgrades/quote',
    request: (t) => ({ method: 'POST', path: '/v1/upgrades/quote', body: upgradeBody({ sourceSubscriptionId: SUBSCRIPTION[t] }) }),
    allowed: 200,
  },
  {
    name: 'POST /v1/upgrades',
    request: (t) => ({
      method: 'POST',
      path: '/v1/upgrades',
      body: upgradeBody({ sourceSubscriptionId: SUBSCRIPTION[t] }),
      headers: { 'Idempotency-Key': `authz-${++counter}` },
    }),
    allowed: 202,
  },
  { name: 'GET /v1/upgrades/:id', request: (t) => ({ method: 'GET', path: `/v1/upgrades/${UPGRADE[t]}` }), allowed: 200 },
  { name: 'GET /v1/upgrades?accountId', request: (t) => ({ method: 'GET', path: `/v1/upgrades?accountId=${ACCOUNT[t]}` }), allowed: 200 },
  {
    name: 'POST /v1/upgrades/:id/seat-reassignment',
    request: (t) => ({ method: 'POST', path: `/v1/upgrades/${UPGRADE[t]}/seat-reassignment`, body: {} }),
    allowed: 409,
  },
  // The matrix's upgrades run now: cancelling one is 409 NOT_SCHEDULED for whoever may see it.
  { name: 'POST /v1/upgrades/:id/cancel', request: (t) => ({ method: 'POST', path: `/v1/upgrades/${UPGRADE[t]}/cancel` }), allowed: 409 },
  { name: 'POST /v1/upgrades/:id/retry', request: (t) => ({ method: 'POST', path: `/v1/upgrades/${UPGRADE[t]}/retry` }), allowed: 409, operatorOnly: true },
  {
    name: 'POST /v1/upgrades/:id/resolve',
    request: (t) => ({ method: 'POST', path: `/v1/upgrades/${UPGRADE[t]}/resolve`, body: { outcome: 'not_converted' } }),
    allowed: 409,
    operatorOnly: true,
  },
  { name: 'GET /v1/invoices?subscriptionId', request: (t) => ({ method: 'GET', path: `/v1/invoices?subscriptionId=${SUBSCRIPTION[t]}` }), allowed: 200 },
  { name: 'GET /v1/invoices?upgradeId', request: (t) => ({ method: 'GET', path: `/v1/invoices?upgradeId=${UPGRADE[t]}` }), allowed: 200 },
  {
    name: 'POST /v1/billing/proration-preview',
    request: () => ({
      method: 'POST',
      path: '/v1/billing/proration-preview',
      body: {
        currency: 'USD',
        upgradeDate: '2025-04-10',
        quantity: 5,
        source: { quantity: 5, unitPrice: 1250, chargeStart: '2025-04-10', chargeEnd: '2025-05-09' },
        destination: { type: 'new', unitPrice: 2200 },
      },
    }),
    allowed: 200,
    operatorOnly: true,
    unscoped: true,
  },
  {
    name: 'POST /v1/accounts/:id/webhook-secret/rotate',
    request: (t) => ({ method: 'POST', path: `/v1/accounts/${ACCOUNT[t]}/webhook-secret/rotate` }),
    allowed: 200,
    notForCustomers: true,
  },
  {
    name: 'GET /v1/webhooks/deliveries?accountId',
    request: (t) => ({ method: 'GET', path: `/v1/webhooks/deliveries?accountId=${ACCOUNT[t]}` }),
    allowed: 200,
    notForCustomers: true,
  },
  {
    // Delivered already: 409 for a caller who may see it.
    name: 'POST /v1/webhooks/deliveries/:id/redeliver',
    request: (t) => ({ method: 'POST', path: `/v1/webhooks/deliveries/${UPGRADE[t]}:upgrade_completed/redeliver` }),
    allowed: 409,
    notForCustomers: true,
  },
  { name: 'GET /metrics', request: () => ({ method: 'GET', path: '/metrics' }), allowed: 200, operatorOnly: true, unscoped: true },
  { name: 'GET /health', request: () => ({ method: 'GET', path: '/health' }), allowed: 200, unscoped: true, public: true },
  { name: 'GET /livez', request: () => ({ method: 'GET', path: '/livez' }), allowed: 200, unscoped: true, public: true },
  { name: 'GET /readyz', request: () => ({ method: 'GET', path: '/readyz' }), allowed: 200, unscoped: true, public: true },
  { name: 'GET /openapi.json', request: () => ({ method: 'GET', path: '/openapi.json' }), allowed: 200, unscoped: true, public: true },
];

function mayAct(role: Role, target: Target): boolean {
  if (role === 'operator') return true;
  if (role === 'reseller') return target !== 'foreign';
  return target === 'own';
}

function expected(c: Case, role: Role, target: Target): number {
  if (c.public) return c.allowed;
  if (role === 'none') return 401;
  if (c.operatorOnly && role !== 'operator') return 403;
  if (c.notForCustomers && role === 'customer') return 403;
  if (c.unscoped || mayAct(role, target)) return c.allowed;
  return 404;
}

test('authorization matrix', async () => {
  const keys: Record<Role, string | null> = { operator: OPERATOR_KEY, reseller: world.resellerKey, customer: world.customerKey, none: null };
  const mismatches: string[] = [];
  for (const c of CASES) {
    for (const role of ROLES) {
      for (const target of c.unscoped ? (['own'] as Target[]) : TARGETS) {
        const { method, path, body, headers } = c.request(target);
        const r = await h.call(method, path, { key: keys[role], ...(body !== undefined ? { body } : {}), ...(headers ? { headers } : {}) });
        const want = expected(c, role, target);
        if (r.status !== want) mismatches.push(`${c.name} as ${role} on ${target}: got ${r.status} (${r.body?.error?.code ?? ''}), want ${want}`);
        if (r.status >= 400 && r.status !== 503) expect(r.body.error.code).toEqual(expect.any(String));
        if (r.status === 202) {
          started.push(r.body.upgradeId);
          await h.temporal.workflow.getHandle(r.body.upgradeId).terminate('matrix');
          await forceUnlock(h.database.models);
        }
      }
    }
  }
  expect(mismatches).toEqual([]);
});

test('the vendor cost and the health details are shown to operator keys only', async () => {
  const productId = demoProducts()[0]!.productId;
  const keys = { operator: OPERATOR_KEY, reseller: world.resellerKey, customer: world.customerKey };
  for (const [role, key] of Object.entries(keys)) {
    const list = await h.call('GET', '/v1/catalog/products', { key });
    const one = await h.call('GET', `/v1/catalog/products/${productId}`, { key });
    const prices = [...list.body.products.flatMap((p: { prices: unknown[] }) => p.prices), ...one.body.prices];
    expect(prices.length).toBeGreaterThan(0);
    for (const price of prices) {
      expect(price).toHaveProperty('unitPrice');
      if (role === 'operator') expect(price).toHaveProperty('unitCost');
      else expect(price).not.toHaveProperty('unitCost');
    }
    const health = await h.call('GET', '/health', { key });
    expect(health.status).toBe(200);
    expect(Object.keys(health.body).sort()).toEqual(role === 'operator' ? ['checks', 'status'] : ['status']);
  }
  expect((await h.call('GET', '/health', { key: null })).body).toEqual({ status: 'ok' });
  // A key that is presented and refused is not "anonymous": 401, counted per address like any bad key.
  expect((await h.call('GET', '/health', { key: 'nce_not-a-key' })).status).toBe(401);
  const doc = (await h.call('GET', '/openapi.json', { key: null })).body;
  expect(JSON.stringify(doc.components.schemas.ProductView)).toContain('only for operator keys');
});

test('a foreign 404 is indistinguishable from a missing one', async () => {
  const foreign = await h.call('GET', `/v1/subscriptions/${SUBSCRIPTION.foreign}`, { key: world.customerKey });
  const missing = await h.call('GET', '/v1/subscriptions/does-not-exist', { key: world.customerKey });
  expect(foreign.status).toBe(404);
  expect(missing.status).toBe(404);
  expect(foreign.body.error.code).toBe(missing.body.error.code);
  // An existing destination in another account reads as "not found" to a scoped caller, not as a different account.
  const r = await h.call('POST', '/v1/upgrades/quote', {
    key: world.customerKey,
    body: upgradeBody({ destination: { type: 'existing', subscriptionId: SUBSCRIPTION.foreign } }),
  });
  expect(r.status).toBe(422);
  expect(r.body.error.details.reasons.map((x: { code: string }) => x.code)).toContain('DESTINATION_NOT_FOUND');
  expect(r.body.error.details.reasons.map((x: { code: string }) => x.code)).not.toContain('DESTINATION_DIFFERENT_ACCOUNT');
});
