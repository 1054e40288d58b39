import { splitProductId } from '../../../src/domain/catalog';
import { buildDemoCatalog, DEMO_PRODUCT_IDS } from '../../../src/domain/demo-catalog';

const catalog = buildDemoCatalog();
const ids = DEMO_PRODUCT_IDS;

describe('demo catalog', () => {
  it('uses catalogItemIds product:sku:availability', () => {
    for (const product of catalog.products) expect(() => splitProductId(product.productId)).not.toThrow();
    expect(catalog.require(ids.businessBasic).name).toBe('Microsoft 365 Business Basic');
  });

  it.each([
    ['businessBasic', 700],
    ['businessStandard', 1400],
    ['businessPremium', 2200],
    ['office365E1', 1000],
    ['office365E3', 2600],
    ['office365E5', 3800],
    ['microsoft365E3', 3900],
    ['microsoft365E5', 6000],
    ['microsoft365F1', 300],
    ['microsoft365F3', 1000],
    ['exchangeOnlinePlan1', 400],
    ['exchangeOnlinePlan2', 800],
  ] as const)('%s: annual = base×12, annual billed monthly = +5 %, monthly term = +20 %, USD and EUR', (key, base) => {
    for (const currency of ['USD', 'EUR']) {
      expect(catalog.priceFor(ids[key], 'P1Y', 'annual', currency)?.unitPrice).toBe(base * 12);
      expect(catalog.priceFor(ids[key], 'P1Y', 'monthly', currency)?.unitPrice).toBe((base * 105) / 100);
      expect(catalog.priceFor(ids[key], 'P1M', 'monthly', currency)?.unitPrice).toBe((base * 120) / 100);
    }
  });

  it('offers P3Y billed annually for the enterprise suites only', () => {
    expect(catalog.priceFor(ids.microsoft365E3, 'P3Y', 'annual', 'USD')?.unitPrice).toBe(46800);
    expect(catalog.priceFor(ids.businessBasic, 'P3Y', 'annual', 'USD')).toBeUndefined();
  });

  it.each([
    ['businessBasic', ['businessStandard', 'businessPremium', 'office365E1']],
    ['businessStandard', ['businessPremium', 'office365E3', 'office365E5']],
    ['businessPremium', ['microsoft365E3', 'microsoft365E5']],
    ['office365E1', ['office365E3']],
    ['office365E3', ['office365E5']],
    ['microsoft365E3', ['microsoft365E5']],
    ['exchangeOnlinePlan1', ['exchangeOnlinePlan2', 'businessBasic', 'businessStandard']],
    ['microsoft365F1', ['microsoft365F3']],
    ['microsoft365F3', ['microsoft365E3']],
  ] as const)('%s upgrades to %p', (from, targets) => {
    expect(catalog.upgradeTargets(ids[from]).map((p) => p.productId)).toEqual(targets.map((t) => ids[t]));
  });

  it('has no cycles, so downgrade detection is unambiguous', () => {
    for (const product of catalog.products) expect(catalog.isDowngrade(product.productId, product.productId)).toBe(false);
    expect(catalog.isDowngrade(ids.microsoft365E5, ids.businessBasic)).toBe(true); // Basic → Premium → M365 E5
    expect(catalog.isDowngrade(ids.businessBasic, ids.microsoft365E5)).toBe(false);
    expect(catalog.isDowngrade(ids.office365E5, ids.office365E1)).toBe(true);
  });

  it('every upgrade path points at a product in the catalog', () => {
    for (const product of catalog.products) {
      for (const target of product.upgradePaths) expect(catalog.get(target)).toBeDefined();
    }
  });
});
