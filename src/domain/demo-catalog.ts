/**
 * Demo catalog: real Microsoft 365 names, NCE product ids and US list prices (docs/partner-center.md, "Subscriptions and the catalog"),
 * used by `npm start` seeding and by tests. DEMO DATA, not a price list to invoice from:
 *
 * - Prices are the list price valid on 2026-11-22: the 1-Jul-2026 price where it is published
 *   (Business Basic, Business Standard, O365 E3, M365 E3/E5, F1, F3), else the 2022 price
 *   (Business Premium unchanged, O365 E1, O365 E5, Exchange Online Plan 1/2).
 * - Per seat per BILLING CYCLE: P1Y/annual = base × 12; P1Y/monthly = base × 1.05 (monthly installment);
 *   P1M/monthly = base × 1.20; P3Y/annual = base × 12 (annual installment, enterprise suites only).
 * - EUR prices equal the USD numbers (demo only; real EUR lists differ).
 * - unitCost = sell − 10 % (a demo margin; the real cost comes from the partner price list).
 * - productId is the catalogItemId `product:sku:availability`. Only Business Basic's availability id
 *   (CFQ7TTC0K971) is published; the others use the placeholder availability `DEMO`, and F1, F3 and
 *   Exchange Online Plan 2, whose product ids were not found, use `DEMO…` product ids.
 * - entraSkuId: the SKU GUIDs of Microsoft's "product names and service plan identifiers" list.
 */
import { Catalog, type BillingFrequency, type Price, type Product, type Term } from './catalog';
import { applyBasisPoints, roundHalfEven, toBigInt, toMinorUnits } from './money';

export const DEMO_PRODUCT_IDS = {
  exchangeOnlinePlan1: 'CFQ7TTC0LH16:0001:DEMO',
  exchangeOnlinePlan2: 'DEMOEXOP2:0001:DEMO',
  businessBasic: 'CFQ7TTC0LH18:0001:CFQ7TTC0K971',
  businessStandard: 'CFQ7TTC0LDPB:0001:DEMO',
  businessPremium: 'CFQ7TTC0LCHC:0001:DEMO',
  office365E1: 'CFQ7TTC0LF8Q:0001:DEMO',
  office365E3: 'CFQ7TTC0LF8R:0001:DEMO',
  office365E5: 'CFQ7TTC0LF8S:0001:DEMO',
  microsoft365E3: 'CFQ7TTC0LFLX:0001:DEMO',
  microsoft365E5: 'CFQ7TTC0LFLZ:0001:DEMO',
  microsoft365F1: 'DEMOM365F1:0001:DEMO',
  microsoft365F3: 'DEMOM365F3:0001:DEMO',
} as const;

export type DemoProductKey = keyof typeof DEMO_PRODUCT_IDS;

const DEMO_CURRENCIES = ['USD', 'EUR'] as const;

/** Cycle price from the annual-commitment monthly base: multiplier in basis points of the base. */
const CYCLE_PRICING: readonly { term: Term; billingFrequency: BillingFrequency; basisPointsOfBase: bigint }[] = [
  { term: 'P1Y', billingFrequency: 'annual', basisPointsOfBase: 120_000n }, // 12 months
  { term: 'P1Y', billingFrequency: 'monthly', basisPointsOfBase: 10_500n }, // +5 % per installment
  { term: 'P1M', billingFrequency: 'monthly', basisPointsOfBase: 12_000n }, // +20 % month-to-month
];
const TRIENNIAL_PRICING = { term: 'P3Y', billingFrequency: 'annual', basisPointsOfBase: 120_000n } as const;

const DEMO_MARGIN_BASIS_POINTS = 9_000; // cost = 90 % of sell

interface DemoProductSpec {
  key: DemoProductKey;
  name: string;
  /** USD cents per user per month, annual commitment paid annually. */
  baseMonthly: number;
  maxQuantity: number;
  triennial?: boolean;
  upgradesTo: readonly DemoProductKey[];
  entraSkuId: string;
}

const BUSINESS_MAX_SEATS = 300;
const ENTERPRISE_MAX_SEATS = 100_000; // demo cap

const SPECS: readonly DemoProductSpec[] = [
  {
    key: 'exchangeOnlinePlan1',
    name: 'Exchange Online (Plan 1)',
    baseMonthly: 400,
    maxQuantity: ENTERPRISE_MAX_SEATS,
    upgradesTo: ['exchangeOnlinePlan2', 'businessBasic', 'businessStandard'],
    entraSkuId: '4b9405b0-7788-4568-add1-99614e613b69',
  },
  {
    key: 'exchangeOnlinePlan2',
    name: 'Exchange Online (Plan 2)',
    baseMonthly: 800,
    maxQuantity: ENTERPRISE_MAX_SEATS,
    upgradesTo: [],
    entraSkuId: '19ec0d23-8335-4cbd-94ac-6050e30712fa',
  },
  {
    key: 'businessBasic',
    name: 'Microsoft 365 Business Basic',
    baseMonthly: 700,
    maxQuantity: BUSINESS_MAX_SEATS,
    upgradesTo: ['businessStandard', 'businessPremium', 'office365E1'],
    entraSkuId: '3b555118-da6a-4418-894f-7df1e2096870',
  },
  {
    key: 'businessStandard',
    name: 'Microsoft 365 Business Standard',
    baseMonthly: 1400,
    maxQuantity: BUSINESS_MAX_SEATS,
    upgradesTo: ['businessPremium', 'office365E3', 'office365E5'],
    entraSkuId: 'f245ecc8-75af-4f8e-b61f-27d8114de5f3',
  },
  {
    key: 'businessPremium',
    name: 'Microsoft 365 Business Premium',
    baseMonthly: 2200,
    maxQuantity: BUSINESS_MAX_SEATS,
    upgradesTo: ['microsoft365E3', 'microsoft365E5'],
    entraSkuId: 'cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46',
  },
  {
    key: 'office365E1',
    name: 'Office 365 E1',
    baseMonthly: 1000,
    maxQuantity: ENTERPRISE_MAX_SEATS,
    upgradesTo: ['office365E3'],
    entraSkuId: '18181a46-0d4e-45cd-891e-60aabd171b4e',
  },
  {
    key: 'office365E3',
    name: 'Office 365 E3',
    baseMonthly: 2600,
    maxQuantity: ENTERPRISE_MAX_SEATS,
    triennial: true,
    upgradesTo: ['office365E5'],
    entraSkuId: '6fd2c87f-b296-42f0-b197-1e91e994b900',
  },
  {
    key: 'office365E5',
    name: 'Office 365 E5',
    baseMonthly: 3800,
    maxQuantity: ENTERPRISE_MAX_SEATS,
    triennial: true,
    upgradesTo: [],
    entraSkuId: 'c7df2760-2c81-4ef7-b578-5b5392b571df',
  },
  {
    key: 'microsoft365E3',
    name: 'Microsoft 365 E3',
    baseMonthly: 3900,
    maxQuantity: ENTERPRISE_MAX_SEATS,
    triennial: true,
    upgradesTo: ['microsoft365E5'],
    entraSkuId: '05e9a617-0261-4cee-bb44-138d3ef5d965',
  },
  {
    key: 'microsoft365E5',
    name: 'Microsoft 365 E5',
    baseMonthly: 6000,
    maxQuantity: ENTERPRISE_MAX_SEATS,
    triennial: true,
    upgradesTo: [],
    entraSkuId: '06ebc4ee-1bb5-47dd-8120-11324bc54e06',
  },
  {
    key: 'microsoft365F1',
    name: 'Microsoft 365 F1',
    baseMonthly: 300,
    maxQuantity: ENTERPRISE_MAX_SEATS,
    upgradesTo: ['microsoft365F3'],
    entraSkuId: '50f60901-3181-4b75-8a2c-4c8e4c1d5a72',
  },
  {
    key: 'microsoft365F3',
    name: 'Microsoft 365 F3',
    baseMonthly: 1000,
    maxQuantity: ENTERPRISE_MAX_SEATS,
    upgradesTo: ['microsoft365E3'],
    entraSkuId: '66b55226-6b4f-492c-910c-a3b7a3c9d993',
  },
];

function demoPrices(spec: DemoProductSpec): Price[] {
  const pricing = spec.triennial ? [...CYCLE_PRICING, TRIENNIAL_PRICING] : CYCLE_PRICING;
  return DEMO_CURRENCIES.flatMap((currency) =>
    pricing.map(({ term, billingFrequency, basisPointsOfBase }) => {
      const unitPrice = toMinorUnits(roundHalfEven(toBigInt(spec.baseMonthly) * basisPointsOfBase, 10_000n));
      return { term, billingFrequency, currency, unitPrice, unitCost: applyBasisPoints(unitPrice, DEMO_MARGIN_BASIS_POINTS) };
    }),
  );
}

/** Fresh product objects on every call (callers may mutate their copy). */
export function demoProducts(): Product[] {
  return SPECS.map((spec) => ({
    productId: DEMO_PRODUCT_IDS[spec.key],
    name: spec.name,
    offerType: 'standard',
    segment: 'commercial',
    minQuantity: 1,
    maxQuantity: spec.maxQuantity,
    prices: demoPrices(spec),
    upgradePaths: spec.upgradesTo.map((key) => DEMO_PRODUCT_IDS[key]),
    entraSkuId: spec.entraSkuId,
  }));
}

export function buildDemoCatalog(): Catalog {
  return new Catalog(demoProducts());
}
