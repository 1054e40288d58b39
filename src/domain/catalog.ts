/**
 * Catalog: products, prices per (term, billing frequency, currency), promotions and upgrade paths.
 *
 * `productId` is the vendor's catalogItemId, `product:sku:availability` (e.g.
 * 'CFQ7TTC0LH18:0001:CFQ7TTC0K971'), so a catalog entry maps 1:1 to what Partner Center sells and
 * the transition's from/toCatalogItemId needs no lookup. Use `splitProductId` for the parts.
 */
import type { IsoDate } from './dates';
import { isWithin } from './dates';

export type Term = 'P1M' | 'P1Y' | 'P3Y';
export type BillingFrequency = 'monthly' | 'annual' | 'triennial';
export type OfferType = 'standard' | 'specialized' | 'trial';

export const TERMS: readonly Term[] = ['P1M', 'P1Y', 'P3Y'];
export const BILLING_FREQUENCIES: readonly BillingFrequency[] = ['monthly', 'annual', 'triennial'];

export const TERM_MONTHS: Readonly<Record<Term, number>> = { P1M: 1, P1Y: 12, P3Y: 36 };
export const BILLING_CYCLE_MONTHS: Readonly<Record<BillingFrequency, number>> = { monthly: 1, annual: 12, triennial: 36 };

/** A term paid in several cycles (P1Y billed monthly, P3Y billed annually) has an installment plan. */
export function hasInstallments(term: Term, billingFrequency: BillingFrequency): boolean {
  return BILLING_CYCLE_MONTHS[billingFrequency] < TERM_MONTHS[term];
}

export interface Price {
  term: Term;
  billingFrequency: BillingFrequency;
  currency: string;
  /** Sell price per seat per BILLING CYCLE, minor units (what we invoice). */
  unitPrice: number;
  /** Vendor cost per seat per billing cycle, minor units (what Microsoft charges us). */
  unitCost: number;
}

export interface Promotion {
  promotionId: string;
  description: string;
  /** Discount on the sell price, 1500 = 15.00 %. */
  discountBasisPoints: number;
  /** Inclusive UTC dates. */
  validFrom: IsoDate;
  validTo: IsoDate;
}

export interface Product {
  /** catalogItemId `product:sku:availability`. */
  productId: string;
  name: string;
  offerType: OfferType;
  segment: 'commercial' | 'education' | 'government' | 'nonprofit';
  minQuantity: number;
  maxQuantity: number;
  prices: readonly Price[];
  promotion?: Promotion;
  /** Direct upgrade targets (productIds), as Microsoft's conversion list gives them. */
  upgradePaths: readonly string[];
  /** Entra (Azure AD) SKU GUID used when (re)assigning licences. */
  entraSkuId: string;
}

export interface ProductIdParts {
  product: string;
  sku: string;
  availability: string;
}

export function splitProductId(productId: string): ProductIdParts {
  const parts = productId.split(':');
  const [product, sku, availability] = parts;
  if (parts.length !== 3 || !product || !sku || !availability) {
    throw new RangeError(`productId "${productId}" is not product:sku:availability`);
  }
  return { product, sku, availability };
}

/** Read-only view over a list of products; plain data in, so it can be rebuilt from any payload. */
export class Catalog {
  private readonly byId: ReadonlyMap<string, Product>;

  constructor(readonly products: readonly Product[]) {
    const byId = new Map<string, Product>();
    for (const product of products) {
      if (byId.has(product.productId)) throw new RangeError(`duplicate productId ${product.productId}`);
      byId.set(product.productId, product);
    }
    this.byId = byId;
  }

  get(productId: string): Product | undefined {
    return this.byId.get(productId);
  }

  require(productId: string): Product {
    const product = this.byId.get(productId);
    if (!product) throw new RangeError(`unknown product ${productId}`);
    return product;
  }

  nameOf(productId: string): string {
    return this.byId.get(productId)?.name ?? productId;
  }

  /** Direct upgrade targets that exist in this catalog, in path order. */
  upgradeTargets(productId: string): Product[] {
    const paths = this.byId.get(productId)?.upgradePaths ?? [];
    return paths.flatMap((targetId) => this.byId.get(targetId) ?? []);
  }

  isOnUpgradePath(sourceProductId: string, targetProductId: string): boolean {
    return this.byId.get(sourceProductId)?.upgradePaths.includes(targetProductId) ?? false;
  }

  /** Every product reachable from `productId` by following upgrade paths one or more times. */
  reachableUpgrades(productId: string): ReadonlySet<string> {
    const seen = new Set<string>();
    const queue = [...(this.byId.get(productId)?.upgradePaths ?? [])];
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      if (seen.has(next)) continue;
      seen.add(next);
      queue.push(...(this.byId.get(next)?.upgradePaths ?? []));
    }
    return seen;
  }

  /**
   * A downgrade: the target sits below the source on some path, i.e. the source can be reached from
   * the target by upgrading. A product is never a downgrade of itself (unless paths form a cycle).
   */
  isDowngrade(sourceProductId: string, targetProductId: string): boolean {
    return this.reachableUpgrades(targetProductId).has(sourceProductId);
  }

  priceFor(productId: string, term: Term, billingFrequency: BillingFrequency, currency: string): Price | undefined {
    return this.byId.get(productId)?.prices.find((p) => p.term === term && p.billingFrequency === billingFrequency && p.currency === currency);
  }
}

/** The product's promotion if it is valid on that date (inclusive), else undefined. */
export function activePromotion(product: Product, date: IsoDate): Promotion | undefined {
  const promotion = product.promotion;
  return promotion && isWithin(date, promotion.validFrom, promotion.validTo) ? promotion : undefined;
}
