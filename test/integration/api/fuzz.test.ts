import fc from 'fast-check';
import { upgradeRequestSchema } from '../../../src/api/schemas/upgrades';
import { seedWorld, startHarness, upgradeBody, type Harness, type World } from './harness';

/**
 * Property-based abuse of bodies and headers: every answer is a 4xx with the offending field named, never a 5xx,
 * and nothing is written.
 */
let h: Harness;
let world: World;

beforeAll(async () => {
  // The fuzzed Authorization headers are hundreds of bad keys from one address: lift the per-address limit on them.
  h = await startHarness('fuzz', { ipRateLimit: { requestsPerMinute: 100_000, authFailuresPer15Minutes: 100_000 } });
  world = await seedWorld(h);
}, 60_000);
afterAll(async () => {
  await h?.close();
});

async function documentCounts() {
  const m = h.database.models;
  const counts = await Promise.all([m.accounts, m.subscriptions, m.products, m.upgrades, m.invoices, m.apiKeys].map((model) => model.countDocuments()));
  const locks = await m.subscriptionLocks.countDocuments({});
  return [...counts, locks];
}

const WRITE_ENDPOINTS: Array<{ method: string; path: string; headers?: Record<string, string> }> = [
  { method: 'POST', path: '/v1/upgrades', headers: { 'Idempotency-Key': 'fuzz-body' } },
  { method: 'POST', path: '/v1/upgrades/quote' },
  { method: 'POST', path: '/v1/accounts' },
  { method: 'POST', path: '/v1/subscriptions/import' },
  { method: 'PUT', path: '/v1/catalog' },
  { method: 'POST', path: '/v1/api-keys' },
  { method: 'POST', path: '/v1/billing/proration-preview' },
  { method: 'POST', path: '/v1/upgrades/upg_fuzz_missing/resolve' },
];

const expect4xxNamingFields = (r: { status: number; body: any }) => {
  expect(r.status).toBeGreaterThanOrEqual(400);
  expect(r.status).toBeLessThan(500);
  expect(typeof r.body?.error?.code).toBe('string');
  if (r.status === 400) {
    expect(r.body.error.details.fields.length).toBeGreaterThan(0);
    for (const field of r.body.error.details.fields) expect(typeof field.path).toBe('string');
  }
};

test('arbitrary JSON bodies on every write endpoint → 4xx naming fields, nothing written', async () => {
  const before = await documentCounts();
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...WRITE_ENDPOINTS), fc.jsonValue({ maxDepth: 4 }), async (endpoint, body) => {
      const r = await h.call(endpoint.method, endpoint.path, {
        rawBody: JSON.stringify(body),
        headers: { 'content-type': 'application/json', ...(endpoint.headers ?? {}) },
      });
      expect4xxNamingFields(r);
    }),
    { numRuns: 150 },
  );
  expect(await documentCounts()).toEqual(before);
});

const requestFields = Object.keys(upgradeRequestSchema.shape) as Array<keyof typeof upgradeRequestSchema.shape>;

test('an upgrade request with one field broken → 400 naming that field, nothing written', async () => {
  const before = await documentCounts();
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...requestFields),
      fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant(undefined), fc.constantFrom(-1, 0, 1.5, 1e21, '', '$ne', { $gt: '' }, [], null)),
      async (field, value) => {
        fc.pre(!upgradeRequestSchema.shape[field].safeParse(value).success);
        const body: Record<string, unknown> = { ...upgradeBody() };
        if (value === undefined) delete body[field];
        else body[field] = value;
        const r = await h.call('POST', '/v1/upgrades', { body, headers: { 'Idempotency-Key': 'fuzz-field' } });
        expect(r.status).toBe(400);
        const paths: string[] = r.body.error.details.fields.map((f: { path: string }) => f.path);
        expect(paths.some((path) => path === field || path.startsWith(`${field}.`))).toBe(true);
      },
    ),
    { numRuns: 150 },
  );
  expect(await documentCounts()).toEqual(before);
});

test('unknown fields and $-operators anywhere are named and refused', async () => {
  const before = await documentCounts();
  await fc.assert(
    fc.asyncProperty(
      fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !(k in upgradeBody()) && k !== '__proto__'),
      fc.boolean(),
      fc.jsonValue({ maxDepth: 1 }),
      async (key, dollar, value) => {
        const name = dollar ? `$${key}` : key;
        const body = { ...upgradeBody(), destination: { type: 'new', [name]: value } };
        const r = await h.call('POST', '/v1/upgrades', { body, headers: { 'Idempotency-Key': 'fuzz-unknown' } });
        expect(r.status).toBe(400);
        expect(r.body.error.details.fields.map((f: { path: string }) => f.path)).toContain(`destination.${name}`);
      },
    ),
    { numRuns: 100 },
  );
  expect(await documentCounts()).toEqual(before);
});

const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 300 });

test('fuzzed headers: Idempotency-Key, Authorization, Content-Type → never a 5xx', async () => {
  const before = await documentCounts();
  await fc.assert(
    fc.asyncProperty(printable, printable, fc.option(printable, { nil: undefined }), async (idempotencyKey, authorization, contentType) => {
      const headers: Record<string, string> = { 'content-type': contentType ?? 'application/json', authorization };
      if (idempotencyKey.trim()) headers['idempotency-key'] = idempotencyKey;
      const r = await h.call('POST', '/v1/upgrades', { key: null, rawBody: JSON.stringify(upgradeBody({ quantity: 0 })), headers });
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
    }),
    { numRuns: 150 },
  );
  // With a valid key: a bad Idempotency-Key is a 400 naming the header.
  await fc.assert(
    fc.asyncProperty(
      printable.filter((k) => k.trim().length > 0 && (k.length > 200 || /[^\x21-\x7e]/.test(k.trim()))),
      async (idempotencyKey) => {
        const r = await h.call('POST', '/v1/upgrades', { key: world.customerKey, body: upgradeBody(), headers: { 'idempotency-key': idempotencyKey } });
        expect(r.status).toBe(400);
        expect(r.body.error.details.fields.map((f: { path: string }) => f.path)).toContain('headers.idempotency-key');
      },
    ),
    { numRuns: 60 },
  );
  expect(await documentCounts()).toEqual(before);
});

test('fuzzed query strings on list endpoints → 2xx or 4xx, never 5xx', async () => {
  const paths = ['/v1/subscriptions', '/v1/upgrades', '/v1/invoices', '/v1/subscriptions/sub-1/upgrade-options', '/v1/webhooks/deliveries'];
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...paths),
      fc.array(
        fc.tuple(fc.constantFrom('accountId', 'status', 'limit', 'cursor', 'quantity', 'subscriptionId', 'upgradeId', 'accountId[$ne]', 'x'), printable),
        { maxLength: 3 },
      ),
      async (path, pairs) => {
        const query = new URLSearchParams(pairs).toString();
        const r = await h.call('GET', `${path}?${query}`, { key: world.resellerKey });
        expect(r.status).toBeLessThan(500);
        if (r.status === 400) expect(r.body.error.details.fields[0].path).toMatch(/^query\./);
      },
    ),
    { numRuns: 120 },
  );
});

test('fuzzed ids on the webhook endpoints (redeliver, rotate) → 4xx, no secret rotated, nothing redelivered', async () => {
  const secretsBefore = JSON.stringify(await h.database.models.accounts.find({}, { webhookSecrets: 1 }).sort({ _id: 1 }).lean());
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom('/v1/webhooks/deliveries/{id}/redeliver', '/v1/accounts/{id}/webhook-secret/rotate'),
      printable.filter((id) => id.length > 0 && !['reseller-1', 'cust-1', 'cust-2'].includes(id)),
      async (template, id) => {
        const r = await h.call('POST', template.replace('{id}', encodeURIComponent(id)), { key: world.resellerKey });
        expect4xxNamingFields(r);
      },
    ),
    { numRuns: 80 },
  );
  expect(JSON.stringify(await h.database.models.accounts.find({}, { webhookSecrets: 1 }).sort({ _id: 1 }).lean())).toBe(secretsBefore);
});
