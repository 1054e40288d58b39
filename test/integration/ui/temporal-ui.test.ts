import { existsSync, mkdirSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { DEMO_PRODUCT_IDS } from '../../../src/domain/demo-catalog';
import { startTemporalDevServer, type TemporalDevServer } from '../../../src/local-services/temporal-dev-server';
import { projectRoot } from '../../../src/local-services/tools';
import { sampleAccount as makeAccount, sampleSubscription as makeSubscription } from '../../../src/sample-data';
import { startSystemHarness, type SystemHarness } from '../support/system-harness';

/**
 * The Temporal Web UI as the operator console (runbook step 1): a real upgrade on a dev server with its UI, then
 * Debian's Chromium (installed by `npm run setup`, never downloaded) filters the workflow list by our search
 * attributes and must show the upgrade and its one-line summary. The screenshot lands in test-artifacts/.
 */
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const ARTIFACTS = join(projectRoot, 'test-artifacts');

let server: TemporalDevServer;
let system: SystemHarness;
let browser: Browser | undefined;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: the Temporal UI check needs Debian's chromium (apt-get install -y chromium, done by npm run setup)`);
  }
  // Our own dev server: the shared one from globalSetup runs headless in CI.
  server = await startTemporalDevServer({ headless: false });
  const shared = process.env.TEMPORAL_ADDRESS;
  process.env.TEMPORAL_ADDRESS = server.address;
  try {
    system = await startSystemHarness('ui');
  } finally {
    process.env.TEMPORAL_ADDRESS = shared;
  }
}, 120_000);

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  await system?.close();
  await server?.stop();
});

test('an operator filters the Temporal UI by UpgradeStatus and account and sees the upgrade with its summary', async () => {
  const account = makeAccount();
  const source = makeSubscription(account, { quantity: 10 });
  await system.seed({ accounts: [account], subscriptions: [source] });
  const started = await system.api(
    'POST',
    '/v1/upgrades',
    { sourceSubscriptionId: source.id, targetProductId: DEMO_PRODUCT_IDS.businessStandard, quantity: 10, destination: { type: 'new' } },
    { 'idempotency-key': randomUUID() },
  );
  expect(started.status).toBe(202);
  const upgradeId: string = started.body.upgradeId;
  expect((await system.waitForUpgrade(upgradeId)).status).toBe('completed');
  const summary = 'Full upgrade: 10 × Microsoft 365 Business Basic → Microsoft 365 Business Standard, in place';
  expect(await (await system.client.workflow.getHandle(upgradeId).describe()).staticSummary()).toBe(summary);

  const query = `UpgradeStatus="completed" AND UpgradeAccountId="${account.id}"`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  const url = `${server.uiUrl}/namespaces/default/workflows?query=${encodeURIComponent(query)}`;
  // Visibility is eventually consistent: reload until the run shows up.
  const row = page.getByRole('link', { name: upgradeId });
  for (let attempt = 0; attempt < 10; attempt++) {
    await page.goto(url, { waitUntil: 'domcontentloaded' });
    if (
      await row
        .first()
        .waitFor({ timeout: 3_000 })
        .then(
          () => true,
          () => false,
        )
    )
      break;
  }
  await expect(row.first().isVisible()).resolves.toBe(true);
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, 'temporal-ui-upgrades-filtered.png'), fullPage: true });

  // The run's page (where the list links to): its User Metadata tab renders the summary, details and current details
  // as markdown in sandboxed frames.
  await row.first().click();
  await page.getByRole('link', { name: 'User Metadata' }).or(page.getByText('User Metadata')).first().click();
  const rendered = async () =>
    (
      await Promise.all(
        page.frames().map((frame) =>
          frame
            .locator('body')
            .innerText()
            .catch(() => ''),
        ),
      )
    ).join('\n');
  let text = '';
  const currentDetails = /Current Details[\s\S]*Completed: full upgrade of 10\S10 seats/;
  // The current details come from a query the worker answers, a moment after the summary.
  for (let attempt = 0; attempt < 50 && !(text.includes(summary) && currentDetails.test(text)); attempt++) {
    await page.waitForTimeout(200);
    text = await rendered();
  }
  expect(text).toContain(summary);
  expect(text).toContain(`Account: ${account.id}`);
  expect(text).toMatch(currentDetails);
  await page.screenshot({ path: join(ARTIFACTS, 'temporal-ui-upgrade-summary.png'), fullPage: true });
});
