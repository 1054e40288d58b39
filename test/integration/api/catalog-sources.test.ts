/**
 * The catalog from Microsoft's sources, over real HTTP: `POST /v1/catalog/sync` against the simulator's Partner
 * Center catalog and licence-based price sheet, and `PUT /v1/catalog/price-list` with a file in Microsoft's format.
 */
import { createPartnerCenterClient, staticTokenProvider } from '../../../src/partner-center';
import { createPartnerCenterSimulator, type RunningSimulator } from '../../../src/partner-center/simulator';
import { simulatorSeedFor } from '../../../src/partner-center/simulator-registration';
import { DEMO_PRODUCT_IDS, demoProducts } from '../../../src/domain/demo-catalog';
import { type Harness, NOW, startHarness } from './harness';

const BASIC = DEMO_PRODUCT_IDS.businessBasic; // CFQ7TTC0LH18:0001:CFQ7TTC0K971
const STANDARD = DEMO_PRODUCT_IDS.businessStandard; // CFQ7TTC0LDPB:0001:DEMO

let h: Harness;
let running: RunningSimulator;
let simulator: ReturnType<typeof createPartnerCenterSimulator>;

beforeAll(async () => {
  // Microsoft's side: the demo catalog, except that Business Basic is renamed, has new seat limits and new prices.
  const microsoftCatalog = demoProducts().map((product) =>
    product.productId === BASIC
      ? {
          ...product,
          name: 'Microsoft 365 Business Basic (NCE)',
          maxQuantity: 2_400,
          prices: [{ term: 'P1Y' as const, billingFrequency: 'annual' as const, currency: 'USD', unitCost: 6_480, unitPrice: 7_200 }],
        }
      : product,
  );
  simulator = createPartnerCenterSimulator({
    initialData: simulatorSeedFor({ accounts: [], subscriptions: [], products: microsoftCatalog }),
    now: () => NOW.getTime(),
  });
  running = await simulator.listen(0);
  h = await startHarness('catalog_sources', {
    vendor: createPartnerCenterClient({ baseUrl: running.url, tokenProvider: staticTokenProvider('test'), timeoutMs: 5_000 }),
    catalogSync: { country: 'US', readPriceSheet: true },
  });
}, 60_000);

afterAll(async () => {
  await h?.close();
  await running?.close();
  expect(simulator.state.unmatchedRequests).toEqual([]);
});

beforeEach(async () => {
  expect((await h.call('PUT', '/v1/catalog', { body: { products: demoProducts(), replace: true } })).status).toBe(200);
});

const product = async (productId: string) => (await h.call('GET', `/v1/catalog/products/${productId}`)).body;
const putCsv = (csv: string, contentType = 'text/csv') => h.call('PUT', '/v1/catalog/price-list', { rawBody: csv, headers: { 'content-type': contentType } });

test('sync reads products, SKUs, availabilities and the price sheet; keeps upgrade paths and Entra SKU ids', async () => {
  const before = await product(BASIC);
  const response = await h.call('POST', '/v1/catalog/sync');
  expect(response.status).toBe(200);
  expect(response.body.updated).toEqual([BASIC]);
  expect(response.body.notSold).toEqual([]);
  expect(response.body.availabilityChanged).toEqual([]);
  expect(response.body.priceList).toMatchObject({ status: 'applied', market: 'US', notEffectiveRows: 0 });
  const after = await product(BASIC);
  expect(after).toMatchObject({
    name: 'Microsoft 365 Business Basic (NCE)',
    maxQuantity: 2_400,
    upgradePaths: before.upgradePaths,
    entraSkuId: before.entraSkuId,
  });
  // The P1Y/annual USD price is Microsoft's now (UnitPrice → cost, ERP Price → sell price); the others are unchanged.
  expect(after.prices).toContainEqual({ term: 'P1Y', billingFrequency: 'annual', currency: 'USD', unitPrice: 7_200, unitCost: 6_480 });
  expect(after.prices.filter((price: { term: string; billingFrequency: string }) => price.term !== 'P1Y' || price.billingFrequency !== 'annual')).toEqual(
    before.prices.filter((price: { term: string; billingFrequency: string }) => price.term !== 'P1Y' || price.billingFrequency !== 'annual'),
  );
  // Each catalog call is one Microsoft documents: no request fell through to the simulator's 404.
  expect(simulator.state.unmatchedRequests).toEqual([]);
});

test('sync reports a catalog item whose availability Microsoft no longer offers, and a product it does not sell', async () => {
  await h.call('PUT', '/v1/catalog', {
    body: {
      products: [
        { ...demoProducts().find((p) => p.productId === BASIC)!, productId: 'CFQ7TTC0LH18:0001:OLDAVAIL' },
        { ...demoProducts()[0]!, productId: 'GONE0000:0001:0001', upgradePaths: [] },
      ],
    },
  });
  const response = await h.call('POST', '/v1/catalog/sync');
  expect(response.status).toBe(200);
  expect(response.body.availabilityChanged).toEqual([{ productId: 'CFQ7TTC0LH18:0001:OLDAVAIL', availableNow: [BASIC] }]);
  expect(response.body.notSold).toEqual(['GONE0000:0001:0001']);
});

/** A file as Partner Center exports it: byte-order mark, quoted titles with commas, 4-decimal amounts, CRLF. */
const HEADER =
  'ProductTitle,ProductId,SkuId,SkuTitle,Publisher,SkuDescription,UnitOfMeasure,TermDuration,BillingPlan,Market,Currency,UnitPrice,PricingTierRangeMin,PricingTierRangeMax,EffectiveStartDate,EffectiveEndDate,Tags,ERP Price';
const row = (fields: Partial<Record<string, string>>) => {
  const defaults: Record<string, string> = {
    ProductTitle: '"Microsoft 365 Business Standard"',
    ProductId: 'CFQ7TTC0LDPB',
    SkuId: '0001',
    SkuTitle: '"Microsoft 365 Business Standard"',
    Publisher: 'Microsoft Corporation',
    SkuDescription: '"Office apps, email, files, Teams"',
    UnitOfMeasure: '1 License',
    TermDuration: 'P1Y',
    BillingPlan: 'Monthly',
    Market: 'US',
    Currency: 'USD',
    UnitPrice: '11.2500',
    PricingTierRangeMin: '0',
    PricingTierRangeMax: '',
    EffectiveStartDate: '2025-04-01T00:00:00.0000000Z',
    EffectiveEndDate: '2025-04-30T23:59:59.9990000Z',
    Tags: 'License',
    'ERP Price': '12.5000',
  };
  return HEADER.split(',')
    .map((column) => fields[column] ?? defaults[column])
    .join(',');
};

test("PUT /v1/catalog/price-list imports a file in Microsoft's format into minor units, as of the API's date", async () => {
  const csv = `\uFEFF${[
    HEADER,
    row({}),
    row({ BillingPlan: 'Annual', UnitPrice: '135.0000', 'ERP Price': '150.0000' }),
    // Next month's price is not effective yet on 2025-04-12.
    row({ UnitPrice: '99.0000', EffectiveStartDate: '2025-05-01T00:00:00.0000000Z', EffectiveEndDate: '2025-05-31T23:59:59.9990000Z' }),
    // A one-time billing plan is not something this catalog holds.
    row({ TermDuration: 'P1Y', BillingPlan: 'OneTime' }),
    // A product and SKU no catalog item carries.
    row({ ProductId: 'CFQ7TTC0ZZZZ', ProductTitle: '"Other, Product"' }),
  ].join('\r\n')}\r\n`;
  const response = await putCsv(csv);
  expect(response.status).toBe(200);
  expect(response.body).toEqual({ productIds: [STANDARD], pricesSet: 2, notInCatalog: 1, unsupportedRows: 1, notEffectiveRows: 1, otherTiers: 0 });
  const prices = (await product(STANDARD)).prices;
  expect(prices).toContainEqual({ term: 'P1Y', billingFrequency: 'monthly', currency: 'USD', unitPrice: 1_250, unitCost: 1_125 });
  expect(prices).toContainEqual({ term: 'P1Y', billingFrequency: 'annual', currency: 'USD', unitPrice: 15_000, unitCost: 13_500 });
});

test('a bad price list answers 400 with the line and column, and changes nothing', async () => {
  const before = await product(STANDARD);
  const badAmount = await putCsv([HEADER, row({}), row({ BillingPlan: 'Annual', UnitPrice: '12.345' })].join('\n'));
  expect(badAmount.status).toBe(400);
  expect(badAmount.body.error.details.fields).toEqual([{ path: 'line 3, column UnitPrice', message: expect.stringMatching(/more than 2 decimals/) }]);

  const badDate = await putCsv([HEADER, row({ EffectiveStartDate: 'April' })].join('\n'));
  expect(badDate.body.error.details.fields).toEqual([{ path: 'line 2, column EffectiveStartDate', message: expect.stringMatching(/not a date/) }]);

  const missingColumn = await putCsv([HEADER.replace(',ERP Price', ''), 'x'].join('\n'));
  expect(missingColumn.status).toBe(400);
  expect(missingColumn.body.error.details.fields[0]).toMatchObject({ path: 'line 1, column ERP Price' });

  const ragged = await putCsv([HEADER, row({}), 'only,three,fields'].join('\n'));
  expect(ragged.status).toBe(400);
  expect(ragged.body.error.details.fields[0].path).toBe('line 3');

  expect((await putCsv('{"products": []}', 'application/json')).status).toBe(415);
  expect(await product(STANDARD)).toEqual(before);
});
