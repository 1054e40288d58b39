import { loadConfig } from '../../../src/config';
import { transitionLimitFromConfig } from '../../../src/partner-center/transition-limit';

/** The limit on transition POSTs from the configuration, under its names and its former ones (config.ts). */
test('the limit is 100 per 5 minutes per partner tenant unless configured', () => {
  expect(transitionLimitFromConfig(loadConfig({}))).toEqual({ key: 'default', limit: 100, intervalMs: 300_000 });
  expect(
    transitionLimitFromConfig(loadConfig({ VENDOR_TENANT_ID: 'partner-a', VENDOR_TRANSITIONS_PER_INTERVAL: '20', VENDOR_TRANSITIONS_INTERVAL_SECONDS: '10' })),
  ).toEqual({ key: 'partner-a', limit: 20, intervalMs: 10_000 });
});

test('the former names (when the limit counted campaign starts) are still read, and the new names win over them', () => {
  expect(transitionLimitFromConfig(loadConfig({ CAMPAIGN_STARTS_PER_INTERVAL: '7', CAMPAIGN_INTERVAL_SECONDS: '9' }))).toMatchObject({
    limit: 7,
    intervalMs: 9_000,
  });
  const both = loadConfig({ CAMPAIGN_STARTS_PER_INTERVAL: '7', VENDOR_TRANSITIONS_PER_INTERVAL: '30', CAMPAIGN_INTERVAL_SECONDS: '9' });
  expect(transitionLimitFromConfig(both)).toMatchObject({ limit: 30, intervalMs: 9_000 });
  expect(() => loadConfig({ CAMPAIGN_STARTS_PER_INTERVAL: '0' })).toThrow(/VENDOR_TRANSITIONS_PER_INTERVAL/);
});
