/**
 * Microsoft's NCE licence-based price list (the `updatedlicensebased` price sheet) → our catalog's prices.
 * Columns, as documented at https://learn.microsoft.com/en-us/partner-center/developer/get-a-price-sheet :
 * ProductTitle, ProductId, SkuId, SkuTitle, Publisher, SkuDescription, UnitOfMeasure, TermDuration, BillingPlan,
 * Market, Currency, UnitPrice, PricingTierRangeMin, PricingTierRangeMax, EffectiveStartDate, EffectiveEndDate, Tags,
 * ERP Price.
 *
 * `UnitPrice` is what Microsoft charges the partner (our `unitCost`); `ERP Price` the estimated retail price we sell
 * at (our `unitPrice`; the cost when empty). Both are per seat per billing cycle, in major units. A row names a
 * product and SKU, not an availability: its prices go to every catalog item `product:sku:*`. Rows not effective at
 * `asOf` are skipped; where Microsoft lists pricing tiers, the first tier (lowest PricingTierRangeMin) is taken.
 * Parsing is csv-parse's (RFC 4180: quoted fields, embedded commas and line breaks, a UTF-8 byte-order mark).
 */
import { CsvError, type Options, parse } from 'csv-parse/sync';
import { loadCatalog } from '../db/mappers';
import type { Models } from '../db/models';
import { storeSourcedFields } from './store-sourced-fields';
import { PRICE_SHEET_COLUMNS, type PriceSheetColumn } from '../partner-center/price-sheet-columns';
import { BILLING_FREQUENCIES, type BillingFrequency, isKnownCurrency, parseDecimalToMinor, type Price, type Product, type Term, TERMS } from '../domain';

const PRICE_LIST_COLUMNS = PRICE_SHEET_COLUMNS;
type Column = PriceSheetColumn;

/** Bad input, located: `line` is the CSV line (1 = the header), `column` the header name. */
export class PriceListError extends Error {
  constructor(
    readonly line: number,
    readonly column: string | undefined,
    message: string,
  ) {
    super(`line ${line}${column === undefined ? '' : `, column ${column}`}: ${message}`);
    this.name = 'PriceListError';
  }
  get path(): string {
    return `line ${this.line}${this.column === undefined ? '' : `, column ${this.column}`}`;
  }
}

export interface PriceListRow {
  line: number;
  productId: string;
  skuId: string;
  term: Term;
  billingFrequency: BillingFrequency;
  currency: string;
  unitCost: number;
  unitPrice: number;
  tierMin: number;
}

export interface ParsedPriceList {
  rows: PriceListRow[];
  /** Rows this catalog cannot hold (other terms or billing plans, e.g. one-time purchases), by reason. */
  unsupported: number;
  notEffective: number;
}

const BILLING_PLANS: Readonly<Record<string, BillingFrequency>> = { monthly: 'monthly', annual: 'annual', triennial: 'triennial' };

/** Microsoft's decimals may carry trailing zeros ("7.2000"); more significant decimals than the currency has are an error. */
function parseAmount(text: string, currency: Parameters<typeof parseDecimalToMinor>[1]): number {
  const trimmed = text
    .trim()
    .replace(/(\.\d*?)0+$/, '$1')
    .replace(/\.$/, '');
  return parseDecimalToMinor(trimmed, currency);
}

function parseInstant(text: string): number | undefined {
  const value = text.trim();
  if (!/^\d{4}-\d{2}-\d{2}/.test(value)) return undefined;
  // A date alone, or a date-time without a zone, is UTC; Microsoft writes both (and 7-digit fractions).
  const normalized = /T/.test(value) ? value.replace(/(\.\d{3})\d+/, '$1').replace(/(T[\d:.]+)$/, '$1Z') : `${value}T00:00:00Z`;
  const instant = Date.parse(normalized);
  return Number.isNaN(instant) ? undefined : instant;
}

export function parsePriceList(csv: string, asOf: Date): ParsedPriceList {
  const parseOrLocate = <Output>(options: Options): Output => {
    try {
      return parse(csv, options) as unknown as Output;
    } catch (error) {
      if (!(error instanceof CsvError)) throw error;
      const lines = (error as CsvError & { lines?: unknown }).lines;
      throw new PriceListError(typeof lines === 'number' ? lines : 1, undefined, error.message);
    }
  };
  // The header first, so that a missing column is named before any row is judged against it.
  const [header = []] = parseOrLocate<string[][]>({ bom: true, to_line: 1, trim: true });
  const missing = PRICE_LIST_COLUMNS.filter((column) => !header.includes(column));
  if (missing.length > 0) throw new PriceListError(1, missing[0], `missing column(s) ${missing.join(', ')} (Microsoft's licence-based price list columns)`);
  const records = parseOrLocate<{ record: Record<string, string>; info: { lines: number } }[]>({
    columns: true,
    bom: true,
    skip_empty_lines: true,
    trim: true,
    info: true,
  });

  const at = asOf.getTime();
  const rows: PriceListRow[] = [];
  let unsupported = 0;
  let notEffective = 0;
  for (const { record, info } of records) {
    const line = info.lines;
    const field = (column: Column) => record[column] ?? '';
    const required = (column: Column) => {
      const value = field(column);
      if (value === '') throw new PriceListError(line, column, 'is empty');
      return value;
    };
    const productId = required('ProductId');
    const skuId = required('SkuId');
    const currency = required('Currency').toUpperCase();
    if (!isKnownCurrency(currency)) throw new PriceListError(line, 'Currency', `"${currency}" is not an ISO 4217 currency code`);
    const start = parseInstant(required('EffectiveStartDate'));
    if (start === undefined) throw new PriceListError(line, 'EffectiveStartDate', `"${field('EffectiveStartDate')}" is not a date`);
    const endText = field('EffectiveEndDate');
    const end = endText === '' ? undefined : parseInstant(endText);
    if (endText !== '' && end === undefined) throw new PriceListError(line, 'EffectiveEndDate', `"${endText}" is not a date`);
    let unitCost: number;
    let unitPrice: number;
    try {
      unitCost = parseAmount(required('UnitPrice'), currency);
    } catch (error) {
      throw error instanceof PriceListError ? error : new PriceListError(line, 'UnitPrice', (error as Error).message);
    }
    try {
      unitPrice = field('ERP Price') === '' ? unitCost : parseAmount(field('ERP Price'), currency);
    } catch (error) {
      throw new PriceListError(line, 'ERP Price', (error as Error).message);
    }
    if (unitCost < 0 || unitPrice < 0) throw new PriceListError(line, unitCost < 0 ? 'UnitPrice' : 'ERP Price', 'is negative');
    const tierText = field('PricingTierRangeMin');
    const tierMin = tierText === '' ? 0 : Number(tierText);
    if (!Number.isFinite(tierMin)) throw new PriceListError(line, 'PricingTierRangeMin', `"${tierText}" is not a number`);

    const term = required('TermDuration').toUpperCase() as Term;
    const billingFrequency = BILLING_PLANS[required('BillingPlan').toLowerCase()];
    if (!TERMS.includes(term) || billingFrequency === undefined || !BILLING_FREQUENCIES.includes(billingFrequency)) {
      unsupported += 1;
      continue;
    }
    if (start > at || (end !== undefined && end < at)) {
      notEffective += 1;
      continue;
    }
    rows.push({ line, productId, skuId, term, billingFrequency, currency, unitCost, unitPrice, tierMin });
  }
  return { rows, unsupported, notEffective };
}

export interface PriceListApplication {
  /** Catalog products whose prices changed, with their new price lists. */
  products: Product[];
  pricesSet: number;
  /** `product:sku` pairs of the price list that no catalog item carries. */
  notInCatalog: number;
  unsupportedRows: number;
  notEffectiveRows: number;
  otherTiers: number;
}

const priceKey = (price: Pick<Price, 'term' | 'billingFrequency' | 'currency'>) => `${price.term}|${price.billingFrequency}|${price.currency}`;

/** New price lists for the catalog's products: each (term, billing, currency) the price list names is replaced. */
export function applyPriceList(products: readonly Product[], parsed: ParsedPriceList): PriceListApplication {
  const byProductSku = new Map<string, Map<string, PriceListRow>>();
  let otherTiers = 0;
  for (const row of parsed.rows) {
    const key = `${row.productId}:${row.skuId}`.toUpperCase();
    const prices = byProductSku.get(key) ?? new Map<string, PriceListRow>();
    byProductSku.set(key, prices);
    const existing = prices.get(priceKey(row));
    if (existing === undefined || row.tierMin < existing.tierMin) {
      if (existing !== undefined) otherTiers += 1;
      prices.set(priceKey(row), row);
    } else {
      otherTiers += 1;
    }
  }
  const matched = new Set<string>();
  const changed: Product[] = [];
  let pricesSet = 0;
  for (const product of products) {
    const [productPart = '', skuPart = ''] = product.productId.split(':');
    const key = `${productPart}:${skuPart}`.toUpperCase();
    const listed = byProductSku.get(key);
    if (listed === undefined) continue;
    matched.add(key);
    const replaced = new Map(product.prices.map((price) => [priceKey(price), price]));
    for (const row of listed.values()) {
      replaced.set(priceKey(row), {
        term: row.term,
        billingFrequency: row.billingFrequency,
        currency: row.currency,
        unitPrice: row.unitPrice,
        unitCost: row.unitCost,
      });
      pricesSet += 1;
    }
    changed.push({ ...product, prices: [...replaced.values()] });
  }
  return {
    products: changed,
    pricesSet,
    notInCatalog: [...byProductSku.keys()].filter((key) => !matched.has(key)).length,
    unsupportedRows: parsed.unsupported,
    notEffectiveRows: parsed.notEffective,
    otherTiers,
  };
}

/** `PUT /v1/catalog/price-list`: parse, apply to the stored catalog, store the new prices (nothing on a bad file). */
export async function importPriceList(models: Models, csv: string, asOf: Date) {
  const { products, ...counts } = applyPriceList((await loadCatalog(models)).products, parsePriceList(csv, asOf));
  await storeSourcedFields(models, products);
  return { ...counts, productIds: products.map((product) => product.productId) };
}
