/**
 * What a seat of a product costs a given account today: the list (sell) price for the term and billing
 * frequency, less the product's active promotion, and for end customers of standard resellers the
 * reseller's special price or markup. One place, used by eligibility (is there a price at all?) and by
 * the upgrade plan (the debit and the renewed unit/protected price).
 */
import { activePromotion, type BillingFrequency, type Catalog, type Promotion, type Term } from './catalog';
import type { IsoDate } from './dates';
import { applyBasisPoints, BASIS_POINTS_PER_UNIT } from './money';
import type { Account } from './types';

export interface UnitPriceQuote {
  /** Per seat per billing cycle, minor units. */
  unitPrice: number;
  unitCost: number;
  /** The promotion that applies to the new seats (recorded on the subscription), if any. */
  promotion?: Promotion;
  basis: 'list' | 'promotion' | 'special_price' | 'markup';
}

export interface UnitPriceQuery {
  catalog: Catalog;
  account: Account;
  productId: string;
  term: Term;
  billingFrequency: BillingFrequency;
  currency: string;
  date: IsoDate;
}

function isEndCustomerOfStandardReseller(account: Account): boolean {
  return account.role === 'end_customer';
}

/** Undefined when the catalog has no price for that product/term/billing/currency. */
export function currentUnitPrice(query: UnitPriceQuery): UnitPriceQuote | undefined {
  const { catalog, account, productId, term, billingFrequency, currency, date } = query;
  const product = catalog.get(productId);
  const listPrice = catalog.priceFor(productId, term, billingFrequency, currency);
  if (!product || !listPrice) return undefined;

  const promotion = activePromotion(product, date);
  const promotedPrice = promotion ? applyBasisPoints(listPrice.unitPrice, Number(BASIS_POINTS_PER_UNIT) - promotion.discountBasisPoints) : listPrice.unitPrice;
  const base = { unitCost: listPrice.unitCost, ...(promotion ? { promotion } : {}) };

  if (!isEndCustomerOfStandardReseller(account)) {
    return { ...base, unitPrice: promotedPrice, basis: promotion ? 'promotion' : 'list' };
  }
  const special = account.specialPrices?.find((p) => p.productId === productId && p.term === term && p.billingFrequency === billingFrequency);
  if (special) return { ...base, unitPrice: special.unitPrice, basis: 'special_price' };
  const markup = account.markupBasisPoints ?? 0;
  return {
    ...base,
    unitPrice: applyBasisPoints(promotedPrice, Number(BASIS_POINTS_PER_UNIT) + markup),
    basis: markup === 0 && !promotion ? 'list' : 'markup',
  };
}

/** End-customer orders of standard resellers are tax-free; everyone else pays the account's rate. */
export function taxRateFor(account: Account): number {
  return isEndCustomerOfStandardReseller(account) ? 0 : account.taxRateBasisPoints;
}
