import { createHash } from 'node:crypto';
import { upgradeIdFor } from '../../../src/temporal/upgrade-ids';
import { forceUnlock, lockHolder, P, seedWorld, startHarness, subscriptionInput, upgradeBody, type Harness, type World } from './harness';

/** Every endpoint over real HTTP: its success and each documented error. */
let h: Harness;
let world: World;

beforeAll(async () => {
  h = await startHarness('endpoints');
  world = await seedWorld(h);
}, 60_000);
afterAll(async () => {
  await h?.close();
});

const expectError = (r: { status: number; body: any }, status: number, code: string) => {
  expect({ status: r.status, code: r.body?.error?.code }).toEqual({ status, code });
  expect(typeof r.body.error.message).toBe('string');
  expect(JSON.stringify(r.body)).not.toMatch(/\n\s+at /); // never a stack trace
};

describe('catalog', () => {
  test('PUT /v1/catalog upserts, validates and refuses duplicates', async () => {
    const r = await h.call('PUT', '/v1/catalog', {
      body: {
        products: [
          {
            productId: 'X:1:2',
            name: 'X',
            offerType: 'standard',
            segment: 'commercial',
            minQuantity: 1,
            maxQuantity: 5,
            prices: [],
            upgradePaths: [],
            entraSkuId: 'e',
          },
        ],
      },
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ imported: 1, removed: 0, productIds: ['X:1:2'] });

    const bad = await h.call('PUT', '/v1/catalog', { body: { products: [{ productId: 'nope', name: '', offerType: 'free' }] } });
    expectError(bad, 400, 'VALIDATION_FAILED');
    const paths = bad.body.error.details.fields.map((f: { path: string }) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['products.0.productId', 'products.0.name', 'products.0.offerType', 'products.0.segment']));

    const product = (await h.call('GET', '/v1/catalog/products/X:1:2')).body;
    const dup = await h.call('PUT', '/v1/catalog', { body: { products: [product, product] } });
    expectError(dup, 400, 'VALIDATION_FAILED');
  });

  test('GET /v1/catalog/products[/:id] for any role; unknown product 404', async () => {
    const list = await h.call('GET', '/v1/catalog/products', { key: world.customerKey });
    expect(list.status).toBe(200);
    expect(list.body.products.find((p: { productId: string }) => p.productId === P.businessBasic).upgradePaths).toContain(P.businessStandard);
    const one = await h.call('GET', `/v1/catalog/products/${P.businessBasic}`, { key: world.resellerKey });
    expect(one.status).toBe(200);
    expect(one.body.name).toBe('Microsoft 365 Business Basic');
    expectError(await h.call('GET', '/v1/catalog/products/NOPE:0:0'), 404, 'NOT_FOUND');
    expectError(await h.call('GET', '/v1/catalog/products/not-a-product-id'), 400, 'VALIDATION_FAILED');
  });

  test('POST /v1/catalog/sync: 503 without a vendor (the sync itself: catalog-sources.test.ts)', async () => {
    expectError(await h.call('POST', '/v1/catalog/sync'), 503, 'VENDOR_NOT_CONFIGURED');
  });
});

describe('api keys and accounts', () => {
  test('POST /v1/api-keys returns the secret once and stores only its hash; DELETE revokes', async () => {
    const created = await h.call('POST', '/v1/api-keys', { body: { role: 'customer', accountIds: ['cust-2'], label: 'portal' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ role: 'customer', accountIds: ['cust-2'], label: 'portal' });
    const stored = await h.database.models.apiKeys.findById(created.body.id).lean();
    expect(stored!.keyHash).toBe(createHash('sha256').update(created.body.key).digest('hex'));
    expect(JSON.stringify(stored)).not.toContain(created.body.key);

    expect((await h.call('GET', '/v1/subscriptions/sub-3', { key: created.body.key })).status).toBe(200);
    const revoked = await h.call('DELETE', `/v1/api-keys/${created.body.id}`);
    expect(revoked.status).toBe(200);
    expectError(await h.call('GET', '/v1/subscriptions/sub-3', { key: created.body.key }), 401, 'UNAUTHENTICATED');
    expectError(await h.call('DELETE', '/v1/api-keys/key_unknown'), 404, 'NOT_FOUND');
  });

  test('api key validation: unknown accounts, customer needs exactly one account', async () => {
    const r = await h.call('POST', '/v1/api-keys', { body: { role: 'customer', accountIds: ['nope'] } });
    expectError(r, 400, 'VALIDATION_FAILED');
    expect(r.body.error.details.fields).toEqual([{ path: 'accountIds.0', message: 'unknown account nope' }]);
    const two = await h.call('POST', '/v1/api-keys', { body: { role: 'customer', accountIds: ['cust-1', 'cust-2'] } });
    expect(two.body.error.details.fields[0].path).toBe('accountIds');
  });

  test('POST /v1/accounts creates (201) then updates (200); percentages become basis points', async () => {
    const body = {
      name: 'New Co',
      tenantId: 't-new',
      role: 'end_customer',
      currency: 'EUR',
      taxRate: 8.25,
      markupPercent: 12.5,
      parentResellerId: 'reseller-1',
    };
    const created = await h.call('POST', '/v1/accounts', { body });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ taxRateBasisPoints: 825, markupBasisPoints: 1250, currency: 'EUR' });
    const updated = await h.call('POST', '/v1/accounts', { body: { ...body, id: created.body.id, taxRate: 0 } });
    expect(updated.status).toBe(200);
    expect(updated.body.taxRateBasisPoints).toBe(0);
    const bad = await h.call('POST', '/v1/accounts', { body: { ...body, taxRate: 8.255, currency: 'XXX', parentResellerId: 'ghost' } });
    expectError(bad, 400, 'VALIDATION_FAILED');
    expect(bad.body.error.details.fields.map((f: { path: string }) => f.path)).toEqual(expect.arrayContaining(['taxRate', 'currency']));
    const ghost = await h.call('POST', '/v1/accounts', { body: { ...body, parentResellerId: 'ghost' } });
    expect(ghost.body.error.details.fields[0].path).toBe('parentResellerId');
  });
});

describe('subscriptions', () => {
  test('import computes the cancellation window, generates ids, and rejects unknown accounts/products', async () => {
    const r = await h.call('POST', '/v1/subscriptions/import', {
      body: { subscriptions: [subscriptionInput({ accountId: 'cust-2', purchasedAt: '2025-04-10T12:30:00+02:00' })] },
    });
    expect(r.status).toBe(200);
    const [sub] = r.body.subscriptions;
    expect(sub.id).toMatch(/^sub_/);
    expect(sub.externalId).toMatch(/^[0-9a-f-]{36}$/);
    expect(sub.cancellationWindowEndsAt).toBe('2025-04-17T10:30:00.000Z');
    expect(sub.lockedByUpgradeId).toBeNull();

    const bad = await h.call('POST', '/v1/subscriptions/import', {
      body: {
        subscriptions: [
          subscriptionInput({ accountId: 'ghost', productId: 'NO:0:0' }),
          subscriptionInput({ termEnd: '2024-01-01', chargeStart: '2025-02-30' }),
        ],
      },
    });
    expectError(bad, 400, 'VALIDATION_FAILED');
    expect(bad.body.error.details.fields.map((f: { path: string }) => f.path)).toEqual(
      expect.arrayContaining(['subscriptions.1.termEnd', 'subscriptions.1.chargeStart']),
    );
    const unknown = await h.call('POST', '/v1/subscriptions/import', {
      body: { subscriptions: [subscriptionInput({ accountId: 'ghost', productId: 'NO:0:0' })] },
    });
    expect(unknown.body.error.details.fields.map((f: { path: string }) => f.path).sort()).toEqual(['subscriptions.0.accountId', 'subscriptions.0.productId']);
  });

  test('import calls the hook with the stored subscriptions', async () => {
    const seen: string[] = [];
    const hooked = await startHarness('endpoints_hook', { onSubscriptionsImported: (subs) => void seen.push(...subs.map((s) => s.id)) });
    try {
      await seedWorld(hooked);
      expect(seen).toEqual(['sub-1', 'sub-2', 'sub-trial', 'sub-3', 'sub-9']);
    } finally {
      await hooked.close();
    }
  });

  test('list (by account, paged), get, history', async () => {
    const list = await h.call('GET', '/v1/subscriptions?accountId=cust-1&limit=2');
    expect(list.status).toBe(200);
    expect(list.body.subscriptions.map((s: { id: string }) => s.id)).toEqual(['sub-1', 'sub-2']);
    expect(list.body.nextCursor).toBe('sub-2');
    const next = await h.call('GET', `/v1/subscriptions?accountId=cust-1&cursor=${list.body.nextCursor}`);
    expect(next.body.subscriptions.map((s: { id: string }) => s.id)).toEqual(['sub-trial']);

    const one = await h.call('GET', '/v1/subscriptions/sub-1');
    expect(one.body).toMatchObject({ id: 'sub-1', quantity: 10, productId: P.businessBasic, accountId: 'cust-1' });
    expectError(await h.call('GET', '/v1/subscriptions/missing'), 404, 'NOT_FOUND');

    await h.database.models.historyEntries.create({
      _id: 'upg_x:sub-1:converted',
      subscriptionId: 'sub-1',
      upgradeId: 'upg_x',
      event: 'converted',
      at: '2025-04-12T10:00:00Z',
      description: 'test entry',
    });
    const history = await h.call('GET', '/v1/subscriptions/sub-1/history');
    expect(history.status).toBe(200);
    expect(history.body.entries).toEqual([expect.objectContaining({ id: 'upg_x:sub-1:converted', event: 'converted' })]);
    expectError(await h.call('GET', '/v1/subscriptions/missing/history'), 404, 'NOT_FOUND');
  });

  test('upgrade-options: every target, verdicts with reasons, existing destinations and price previews', async () => {
    const r = await h.call('GET', '/v1/subscriptions/sub-1/upgrade-options?quantity=4');
    expect(r.status).toBe(200);
    expect(r.body.quantityRange).toEqual({ min: 1, max: 10, maxPartial: 9 });
    expect(r.body.evaluatedQuantity).toBe(4);
    const standard = r.body.targets.find((t: { productId: string }) => t.productId === P.businessStandard);
    expect(standard.toNewSubscription.eligible).toBe(true);
    expect(standard.toNewSubscription.pricePreview.quote.currency).toBe('USD');
    expect(standard.existingDestinations).toEqual([expect.objectContaining({ subscriptionId: 'sub-2', verdict: { eligible: true, reasons: [] } })]);

    const trial = await h.call('GET', '/v1/subscriptions/sub-trial/upgrade-options');
    expect(trial.body.targets[0].toNewSubscription.reasons.map((x: { code: string }) => x.code)).toContain('SOURCE_IS_TRIAL');
    expect(trial.body.targets[0].toNewSubscription.pricePreview).toBeUndefined();
    expectError(await h.call('GET', '/v1/subscriptions/sub-1/upgrade-options?quantity=0'), 400, 'VALIDATION_FAILED');
    expectError(await h.call('GET', '/v1/subscriptions/missing/upgrade-options'), 404, 'NOT_FOUND');
  });
});

describe('upgrades', () => {
  test('quote: lines and breakdown, no side effects; 422 with every reason', async () => {
    const before = await h.database.models.upgrades.countDocuments();
    const r = await h.call('POST', '/v1/upgrades/quote', { body: upgradeBody() });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ kind: 'partial', destinationType: 'new', upgradeDate: '2025-04-12', quantity: 4 });
    expect(r.body.credit.lines[0]).toMatchObject({ days: 28, cycleDays: 30, quantity: 4, unitPrice: 735, amount: -2744 });
    expect(r.body.quote.total).toBe(r.body.quote.totalFees + r.body.quote.refund);
    expect(await h.database.models.upgrades.countDocuments()).toBe(before);
    expect(await lockHolder(h.database.models, 'sub-1')).toBeNull();

    const bad = await h.call('POST', '/v1/upgrades/quote', {
      body: upgradeBody({ sourceSubscriptionId: 'sub-trial', quantity: 5, targetProductId: P.office365E3 }),
    });
    expectError(bad, 422, 'NOT_ELIGIBLE');
    expect(bad.body.error.details.reasons.map((x: { code: string }) => x.code)).toEqual(
      expect.arrayContaining(['SOURCE_IS_TRIAL', 'TARGET_NOT_ON_UPGRADE_PATH', 'QUANTITY_INVALID']),
    );
  });

  test('start: 202 + Location, record, locks and workflow with search attributes and summary', async () => {
    const r = await h.call('POST', '/v1/upgrades', { body: upgradeBody({ sourceSubscriptionId: 'sub-3' }), headers: { 'Idempotency-Key': 'start-1' } });
    expect(r.status).toBe(202);
    const upgradeId = upgradeIdFor('operator-bootstrap', 'start-1');
    expect(r.body).toEqual({ upgradeId, status: 'accepted' });
    expect(r.headers.get('location')).toBe(`/v1/upgrades/${upgradeId}`);

    const record = await h.database.models.upgrades.findById(upgradeId).lean();
    expect(record).toMatchObject({ status: 'accepted', kind: 'partial', destinationType: 'new', accountId: 'cust-2', requestedByKeyId: 'operator-bootstrap' });
    expect(await lockHolder(h.database.models, 'sub-3')).toBe(upgradeId);

    const description = await h.temporal.workflow.getHandle(upgradeId).describe();
    expect(description.type).toBe('UpgradeWorkflow');
    expect(description.taskQueue).toBe(h.taskQueue);
    const attributes = Object.fromEntries(description.typedSearchAttributes.getAll().map((pair) => [pair.key.name, pair.value]));
    expect(attributes).toMatchObject({
      UpgradeStatus: 'accepted',
      UpgradeAccountId: 'cust-2',
      UpgradeSourceSubscriptionId: 'sub-3',
      UpgradeTargetProductId: P.businessStandard,
      UpgradeKind: 'partial',
      UpgradeDestinationType: 'new',
    });
    expect(await description.staticSummary()).toBe('Partial upgrade: 4 × Microsoft 365 Business Basic → Microsoft 365 Business Standard, new subscription');

    const got = await h.call('GET', `/v1/upgrades/${upgradeId}`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ upgradeId, status: 'accepted', kind: 'partial', live: false, invoices: [] });

    const listed = await h.call('GET', '/v1/upgrades?accountId=cust-2&status=accepted');
    expect(listed.body.upgrades.map((u: { upgradeId: string }) => u.upgradeId)).toEqual([upgradeId]);
    expect((await h.call('GET', '/v1/upgrades?accountId=cust-2&status=completed')).body.upgrades).toEqual([]);

    // Another upgrade on the same source is a conflict.
    const second = await h.call('POST', '/v1/upgrades', {
      body: upgradeBody({ sourceSubscriptionId: 'sub-3', quantity: 2 }),
      headers: { 'Idempotency-Key': 'start-2' },
    });
    expectError(second, 409, 'UPGRADE_IN_PROGRESS');
    expect(second.body.error.details.heldBy).toEqual([{ subscriptionId: 'sub-3', upgradeId }]);

    // Re-importing a locked subscription is refused.
    expectError(
      await h.call('POST', '/v1/subscriptions/import', { body: { subscriptions: [subscriptionInput({ id: 'sub-3', accountId: 'cust-2' })] } }),
      409,
      'SUBSCRIPTION_LOCKED',
    );
    await h.temporal.workflow.getHandle(upgradeId).terminate('test over');
  });

  test('start: Idempotency-Key required (400), reuse with another body 422, ineligible 422, unknown source 404', async () => {
    const missing = await h.call('POST', '/v1/upgrades', { body: upgradeBody() });
    expectError(missing, 400, 'VALIDATION_FAILED');
    expect(missing.body.error.details.fields).toEqual([{ path: 'headers.idempotency-key', message: expect.any(String) }]);
    const tooLong = await h.call('POST', '/v1/upgrades', { body: upgradeBody(), headers: { 'Idempotency-Key': 'x'.repeat(201) } });
    expect(tooLong.body.error.details.fields[0].path).toBe('headers.idempotency-key');

    const ineligible = await h.call('POST', '/v1/upgrades', {
      body: upgradeBody({ sourceSubscriptionId: 'sub-trial', quantity: 3 }),
      headers: { 'Idempotency-Key': 'trial' },
    });
    expectError(ineligible, 422, 'NOT_ELIGIBLE');
    expect(ineligible.body.error.details.reasons).toEqual([expect.objectContaining({ code: 'SOURCE_IS_TRIAL' })]);

    expectError(
      await h.call('POST', '/v1/upgrades', { body: upgradeBody({ sourceSubscriptionId: 'ghost' }), headers: { 'Idempotency-Key': 'ghost' } }),
      404,
      'NOT_FOUND',
    );

    const first = await h.call('POST', '/v1/upgrades', { body: upgradeBody({ quantity: 1 }), headers: { 'Idempotency-Key': 'reuse' } });
    expect(first.status).toBe(202);
    const reused = await h.call('POST', '/v1/upgrades', { body: upgradeBody({ quantity: 2 }), headers: { 'Idempotency-Key': 'reuse' } });
    expectError(reused, 422, 'IDEMPOTENCY_KEY_REUSED');
    await h.temporal.workflow.getHandle(first.body.upgradeId).terminate('test over');
    await forceUnlock(h.database.models, ['sub-1']);
  });

  test('get/list: unknown upgrade 404, bad filters 400', async () => {
    expectError(await h.call('GET', '/v1/upgrades/upg_missing'), 404, 'NOT_FOUND');
    expectError(await h.call('GET', '/v1/upgrades?status=bogus'), 400, 'VALIDATION_FAILED');
    expectError(await h.call('GET', '/v1/upgrades?accountId=nope'), 404, 'NOT_FOUND');
  });

  test('seat-reassignment: 409 when nothing waits, 404 unknown', async () => {
    const r = await h.call('POST', '/v1/upgrades', { body: upgradeBody({ quantity: 2 }), headers: { 'Idempotency-Key': 'seat' } });
    expect(r.status).toBe(202);
    expectError(await h.call('POST', `/v1/upgrades/${r.body.upgradeId}/seat-reassignment`, { body: {} }), 409, 'NOTHING_AWAITING_CONFIRMATION');
    expectError(await h.call('POST', `/v1/upgrades/${r.body.upgradeId}/seat-reassignment`), 409, 'NOTHING_AWAITING_CONFIRMATION');
    expectError(await h.call('POST', '/v1/upgrades/upg_missing/seat-reassignment', { body: {} }), 404, 'NOT_FOUND');
    await h.temporal.workflow.getHandle(r.body.upgradeId).terminate('test over');
    await h.database.models.upgrades.updateOne({ _id: r.body.upgradeId }, { $set: { status: 'completed' } });
    await forceUnlock(h.database.models, ['sub-1']);
    expectError(await h.call('POST', `/v1/upgrades/${r.body.upgradeId}/seat-reassignment`, { body: {} }), 409, 'NOTHING_AWAITING_CONFIRMATION');
  });

  test('retry: only failed upgrades; re-takes locks and starts a new run under the same id', async () => {
    const r = await h.call('POST', '/v1/upgrades', { body: upgradeBody({ quantity: 3 }), headers: { 'Idempotency-Key': 'retry' } });
    const upgradeId: string = r.body.upgradeId;
    expectError(await h.call('POST', `/v1/upgrades/${upgradeId}/retry`), 409, 'UPGRADE_NOT_FAILED');

    // Simulate a failed run: the workflow failed (terminated counts), locks released, record failed.
    await h.temporal.workflow.getHandle(upgradeId).terminate('simulated failure');
    await forceUnlock(h.database.models, ['sub-1']);
    await h.database.models.upgrades.updateOne({ _id: upgradeId }, { $set: { status: 'failed', error: { code: 'X', message: 'boom' } } });

    const retried = await h.call('POST', `/v1/upgrades/${upgradeId}/retry`);
    expect(retried.status).toBe(202);
    // It failed before any transition was recorded: re-planned on the retry date (no plan had been frozen yet).
    expect(retried.body).toEqual({
      upgradeId,
      status: 'accepted',
      plan: { replanned: true, previous: null, current: expect.objectContaining({ kind: 'partial', upgradeDate: '2025-04-12' }) },
    });
    const record = await h.database.models.upgrades.findById(upgradeId).lean();
    expect(record).toMatchObject({ status: 'accepted', retries: 1, error: null });
    expect(await lockHolder(h.database.models, 'sub-1')).toBe(upgradeId);
    const description = await h.temporal.workflow.getHandle(upgradeId).describe();
    expect(description.status.name).toBe('RUNNING');

    expectError(await h.call('POST', '/v1/upgrades/upg_missing/retry'), 404, 'NOT_FOUND');
    await h.temporal.workflow.getHandle(upgradeId).terminate('test over');
    await forceUnlock(h.database.models, ['sub-1']);
  });
});

describe('billing', () => {
  test('invoices by subscription and upgrade; unknown → 404', async () => {
    await h.database.models.invoices.create({
      _id: 'upg_inv:credit',
      idempotencyKey: 'upg_inv:credit',
      upgradeId: 'upg_inv',
      accountId: 'cust-1',
      subscriptionId: 'sub-1',
      type: 'credit',
      status: 'pending',
      currency: 'USD',
      lines: [
        {
          subscriptionId: 'sub-1',
          productId: P.businessBasic,
          description: 'credit',
          periodStart: '2025-04-12',
          periodEnd: '2025-05-09',
          days: 28,
          cycleDays: 30,
          quantity: 4,
          unitPrice: 735,
          amount: -2744,
        },
      ],
      subtotal: -2744,
      taxBasisPoints: 1900,
      tax: -521,
      total: -3265,
    });
    const bySub = await h.call('GET', '/v1/invoices?subscriptionId=sub-1');
    expect(bySub.status).toBe(200);
    expect(bySub.body.invoices).toEqual([expect.objectContaining({ id: 'upg_inv:credit', total: -3265, lines: [expect.objectContaining({ amount: -2744 })] })]);
    expectError(await h.call('GET', '/v1/invoices?subscriptionId=missing'), 404, 'NOT_FOUND');
    expectError(await h.call('GET', '/v1/invoices?upgradeId=upg_missing'), 404, 'NOT_FOUND');
  });

  test('proration-preview: the docs/proration.md example; broken inputs are 400 with the field named', async () => {
    const body = {
      currency: 'EUR',
      upgradeDate: '2021-06-25',
      quantity: 300,
      source: { quantity: 300, unitPrice: 1008, chargeStart: '2021-06-18', chargeEnd: '2021-07-17' },
      destination: { type: 'new', unitPrice: 643 },
    };
    const r = await h.call('POST', '/v1/billing/proration-preview', { body });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      currency: 'EUR',
      credit: { amount: -231840, quantity: 300, periodStart: '2021-06-25', periodEnd: '2021-07-17', days: 23, cycleDays: 30 },
      debit: { amount: 147890, quantity: 300, periodStart: '2021-06-25', periodEnd: '2021-07-17', days: 23, cycleDays: 30 },
      net: -83950,
    });
    const bad = await h.call('POST', '/v1/billing/proration-preview', {
      body: { ...body, upgradeDate: '2021-08-01', quantity: 301, currency: 'XYZ', extra: 1 },
    });
    expectError(bad, 400, 'VALIDATION_FAILED');
    expect(bad.body.error.details.fields.map((f: { path: string }) => f.path)).toEqual(['extra']);
    const broken = await h.call('POST', '/v1/billing/proration-preview', { body: { ...body, upgradeDate: '2021-08-01', quantity: 301, currency: 'XYZ' } });
    expect(broken.body.error.details.fields.map((f: { path: string }) => f.path)).toEqual(expect.arrayContaining(['upgradeDate', 'quantity', 'currency']));
  });
});

describe('operations and hardening', () => {
  test('health reports both checks to the operator; metrics count requests by route and upgrades started', async () => {
    const health = await h.call('GET', '/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'ok', checks: { temporal: { ok: true }, database: { ok: true } } });
    const metrics = await h.call('GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.text).toMatch(/nce_api_http_requests_total\{method="GET",route="\/v1\/subscriptions\/:id",status="200"\} \d+/);
    expect(metrics.text).toMatch(/nce_api_upgrades_started_total\{kind="partial",destination_type="new"\} [1-9]/);
    expect(metrics.text).toContain('nce_api_http_request_duration_seconds_bucket');
  });

  test('health is 503 when the database is down', async () => {
    const down = await startHarness('endpoints_down');
    await down.database.close();
    try {
      const r = await down.call('GET', '/health');
      expect(r.status).toBe(503);
      expect(r.body.checks.database.ok).toBe(false);
      expect(r.body.checks.temporal.ok).toBe(true);
      // Anyone else learns that it is degraded, not the driver's error text (host names, ports).
      const anonymous = await down.call('GET', '/health', { key: null });
      expect(anonymous.status).toBe(503);
      expect(anonymous.body).toEqual({ status: 'degraded' });
      const probe = await down.call('GET', '/readyz', { key: null });
      expect(probe.status).toBe(503);
      expect(probe.body).toEqual({ status: 'degraded' });
    } finally {
      await down.close().catch(() => undefined);
    }
  }, 20_000);

  test('openapi.json is an OpenAPI 3.1 document for every route; /docs serves swagger-ui locally', async () => {
    const doc = (await h.call('GET', '/openapi.json', { key: null })).body;
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v1/upgrades', '/v1/upgrades/{id}', '/v1/subscriptions/{id}/upgrade-options', '/v1/billing/proration-preview', '/health']),
    );
    const start = doc.paths['/v1/upgrades'].post;
    expect(start.parameters).toEqual([expect.objectContaining({ name: 'Idempotency-Key', in: 'header', required: true })]);
    const requestRef: string = start.requestBody.content['application/json'].schema.$ref;
    expect(doc.components.schemas[requestRef.split('/').pop()!].additionalProperties).toBe(false);
    expect(Object.keys(start.responses)).toEqual(expect.arrayContaining(['202', '400', '401', '404', '409', '422']));
    expect(doc.components.schemas.Error).toBeDefined();
    expect(JSON.stringify(doc)).not.toContain('#/$defs/');
    for (const ref of JSON.stringify(doc).match(/#\/components\/schemas\/[A-Za-z]+/g) ?? []) {
      expect(doc.components.schemas[ref.split('/').pop()!]).toBeDefined();
    }

    const docs = await h.call('GET', '/docs', { key: null });
    expect(docs.status).toBe(200);
    expect(docs.text).toContain('/docs/assets/swagger-ui-bundle.js');
    const bundle = await fetch(`${h.baseUrl}/docs/assets/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
    expect((await fetch(`${h.baseUrl}/docs/assets/docs-init.js`)).status).toBe(200);
  });

  test('errors: 401, 404 route, 413, 415, malformed JSON; security headers and request ids', async () => {
    expectError(await h.call('GET', '/v1/subscriptions/sub-1', { key: null }), 401, 'UNAUTHENTICATED');
    expectError(await h.call('GET', '/v1/subscriptions/sub-1', { key: 'wrong' }), 401, 'UNAUTHENTICATED');
    expectError(await h.call('GET', '/v1/subscriptions/sub-1', { key: null, headers: { authorization: 'Basic abc' } }), 401, 'UNAUTHENTICATED');
    expectError(await h.call('GET', '/v1/nowhere'), 404, 'NOT_FOUND');
    expectError(
      await h.call('PUT', '/v1/catalog', {
        rawBody: JSON.stringify({ products: [], pad: 'x'.repeat(200_000) }),
        headers: { 'content-type': 'application/json' },
      }),
      413,
      'PAYLOAD_TOO_LARGE',
    );
    expectError(
      await h.call('POST', '/v1/accounts', { rawBody: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
    expectError(await h.call('POST', '/v1/accounts', { rawBody: '{"name": ', headers: { 'content-type': 'application/json' } }), 400, 'INVALID_JSON');

    const r = await h.call('GET', '/v1/subscriptions/sub-1', { headers: { 'X-Request-Id': 'req-123' } });
    expect(r.headers.get('x-request-id')).toBe('req-123');
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    expect(r.headers.get('x-powered-by')).toBeNull();
    const generated = await h.call('GET', '/v1/subscriptions/sub-1', { headers: { 'X-Request-Id': 'bad id with spaces' } });
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  test('$-prefixed keys are refused anywhere in a body', async () => {
    const r = await h.call('POST', '/v1/upgrades/quote', { body: { ...upgradeBody(), destination: { type: 'new', $where: '1' } } });
    expectError(r, 400, 'VALIDATION_FAILED');
    expect(r.body.error.details.fields).toEqual([{ path: 'destination.$where', message: expect.stringContaining('$') }]);
    const q = await h.call('GET', '/v1/subscriptions?accountId[$ne]=x');
    expectError(q, 400, 'VALIDATION_FAILED');
  });

  test('rate limit per API key', async () => {
    const limited = await startHarness('endpoints_rate', { rateLimit: { windowMs: 60_000, limit: 3 } });
    try {
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await limited.call('GET', '/v1/catalog/products')).status);
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
      expect((await limited.call('GET', '/health', { key: null })).status).toBe(200);
    } finally {
      await limited.close();
    }
  });
});
