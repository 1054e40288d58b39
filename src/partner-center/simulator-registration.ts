import type { Price, Product } from '../domain/catalog';
import { currencyExponent, isKnownCurrency } from '../domain/money';
import type { Account, Subscription } from '../domain/types';
import type { SimulatorSeed } from './simulator';

/**
 * Makes the Partner Center simulator know what our database knows (dev, demo, tests, benchmarks): tenants,
 * subscriptions under their vendor ids, the catalog, and one licensed user per seat so that seat reassignment has
 * users to move. Production never calls this: Microsoft already has the data.
 */
export function simulatorSeedFor(data: { accounts: readonly Account[]; subscriptions: readonly Subscription[]; products: readonly Product[] }): SimulatorSeed {
  const accountsById = new Map(data.accounts.map((account) => [account.id, account]));
  const skuOf = new Map(data.products.map((product) => [product.productId, product.entraSkuId]));
  const tenantOf = (subscription: Subscription) => accountsById.get(subscription.accountId)?.tenantId ?? subscription.accountId;
  return {
    tenants: data.accounts.map((account) => ({ customerTenantId: account.tenantId, ...(account.partnerId ? { partnerId: account.partnerId } : {}) })),
    products: data.products.map((product) => ({
      catalogItemId: product.productId,
      title: product.name,
      offerType: product.offerType,
      segment: product.segment,
      minimumQuantity: product.minQuantity,
      maximumQuantity: product.maxQuantity,
      entraSkuId: product.entraSkuId,
      upgradeTargets: [...product.upgradePaths],
      // Microsoft's price sheet: UnitPrice is the partner's cost, ERP Price the retail price.
      prices: product.prices.map((price) => ({
        termDuration: price.term,
        billingCycle: price.billingFrequency,
        currency: price.currency,
        unitPrice: majorUnits(price.unitCost, price),
        erpPrice: majorUnits(price.unitPrice, price),
      })),
    })),
    subscriptions: data.subscriptions.map((subscription) => ({
      id: subscription.externalId,
      customerTenantId: tenantOf(subscription),
      offerId: subscription.productId,
      quantity: subscription.quantity,
      status: subscription.status,
      termDuration: subscription.term,
      billingCycle: subscription.billingFrequency,
      effectiveStartDate: subscription.termStart,
      commitmentEndDate: subscription.termEnd,
      cancellationAllowedUntilDate: subscription.cancellationWindowEndsAt,
      isTrial: subscription.isTrial,
      autoRenewEnabled: subscription.autoRenew !== false,
      ...(subscription.partnerId ? { partnerId: subscription.partnerId } : {}),
    })),
    users: data.subscriptions.flatMap((subscription) => {
      const skuId = skuOf.get(subscription.productId);
      if (!skuId || subscription.status !== 'active') return [];
      return Array.from({ length: subscription.quantity }, (_, seat) => ({
        id: `${subscription.externalId}-user-${seat + 1}`,
        customerTenantId: tenantOf(subscription),
        userPrincipalName: `user${seat + 1}.${subscription.externalId.slice(0, 8)}@${tenantOf(subscription).slice(0, 8)}.example`,
        assignedLicenses: [{ skuId, disabledPlans: [] }],
      }));
    }),
  };
}

/** Minor units as the decimal string a price sheet carries ("735" USD → "7.35"). */
function majorUnits(minor: number, price: Pick<Price, 'currency'>): string {
  const exponent = isKnownCurrency(price.currency) ? currencyExponent(price.currency) : 2;
  const digits = Math.abs(minor)
    .toString()
    .padStart(exponent + 1, '0');
  const whole = digits.slice(0, digits.length - exponent);
  return `${minor < 0 ? '-' : ''}${whole}${exponent > 0 ? `.${digits.slice(digits.length - exponent)}` : ''}`;
}

/** Seeds a running simulator over its admin API (works for an in-process or a standalone one). */
export async function registerWithSimulator(simulatorUrl: string, seed: SimulatorSeed): Promise<void> {
  const response = await fetch(new URL('/admin/seed', simulatorUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(seed),
  });
  if (!response.ok) throw new Error(`simulator seed refused: HTTP ${response.status} ${await response.text()}`);
}
