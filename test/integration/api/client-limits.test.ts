import pino from 'pino';
import { startApiServer } from '../../../src/server';
import { integrationConfig } from '../support/test-config';
import { OPERATOR_KEY, startHarness } from './harness';

/**
 * Per-address limits before authentication, and the metrics port. Each test builds its own API so the counters
 * start at zero.
 */
test('bad keys from one address: 401 up to the limit, then 429 before any key lookup, the valid key included', async () => {
  const h = await startHarness('limits_auth', { ipRateLimit: { requestsPerMinute: 10_000, authFailuresPer15Minutes: 5 } });
  try {
    const lookups: string[] = [];
    const findOne = h.database.models.apiKeys.findOne.bind(h.database.models.apiKeys);
    // Counts the key lookups the API makes (the real query still runs).
    h.database.models.apiKeys.findOne = ((...args: Parameters<typeof findOne>) => {
      lookups.push('findOne');
      return findOne(...args);
    }) as typeof findOne;
    const statuses: number[] = [];
    for (let i = 0; i < 50; i++) statuses.push((await h.call('GET', '/v1/catalog/products', { key: `nce_guess-${i}` })).status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.slice(5).every((s) => s === 429)).toBe(true);
    expect(lookups).toHaveLength(5);
    const blocked = await h.call('GET', '/v1/catalog/products', { key: OPERATOR_KEY });
    expect(blocked.status).toBe(429);
    expect(blocked.body.error.code).toBe('RATE_LIMITED');
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
  } finally {
    await h.close();
  }
});

test('requests without a key do not count as bad keys; every route, public ones too, is limited per address', async () => {
  const h = await startHarness('limits_ip', { ipRateLimit: { requestsPerMinute: 6, authFailuresPer15Minutes: 1 } });
  try {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await h.call('GET', '/v1/catalog/products', { key: null })).status);
    for (let i = 0; i < 5; i++) statuses.push((await h.call('GET', '/livez', { key: null })).status);
    expect(statuses).toEqual([401, 401, 401, 200, 200, 200, 429, 429]);
  } finally {
    await h.close();
  }
});

test('/metrics needs the operator key on the API port, and is served without one on METRICS_PORT', async () => {
  const config = integrationConfig('api', 'metrics_port', { OPERATOR_API_KEY: OPERATOR_KEY, METRICS_PORT: '0' });
  const api = await startApiServer(config, { logger: pino({ level: 'silent' }) });
  try {
    expect((await fetch(`${api.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${api.url}/livez`)).status).toBe(200);
    expect(api.metricsPort).toEqual(expect.any(Number));
    const scraped = await fetch(`http://127.0.0.1:${api.metricsPort}/metrics`);
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toMatch(/nce_api_http_requests_total\{method="GET",route="\/livez",status="200"\} 1/);
    expect((await fetch(`http://127.0.0.1:${api.metricsPort}/health`)).status).toBe(404);
  } finally {
    await api.close();
  }
});
