import { randomBytes } from 'node:crypto';
import { addDays, addMonths, utcDateOf } from '../../../src/domain/dates';
import { DEMO_PRODUCT_IDS } from '../../../src/domain/demo-catalog';
import type { Account, Subscription } from '../../../src/domain/types';

/** Test data around "today", so the current charge cycle always contains the upgrade date. */
export function makeAccount(overrides: Partial<Account> = {}): Account {
  const id = overrides.id ?? `acc_${randomBytes(4).toString('hex')}`;
  return {
    id,
    name: `Contoso ${id}`,
    tenantId: `tenant-${id}`,
    role: 'direct_reseller',
    partnerId: 'mpn-1001',
    currency: 'USD',
    taxRateBasisPoints: 2000,
    ...overrides,
  };
}

export function makeSubscription(account: Account, overrides: Partial<Subscription> = {}): Subscription {
  const today = utcDateOf(new Date());
  const chargeStart = addDays(today, -5);
  const termStart = addMonths(chargeStart, -2);
  const id = overrides.id ?? `sub_${randomBytes(5).toString('hex')}`;
  return {
    id,
    externalId: `ext-${id}`,
    accountId: account.id,
    productId: DEMO_PRODUCT_IDS.businessBasic,
    quantity: 10,
    status: 'active',
    isTrial: false,
    term: 'P1Y',
    billingFrequency: 'monthly',
    termStart,
    termEnd: addDays(addMonths(termStart, 12), -1),
    chargeStart,
    chargeEnd: addDays(addMonths(chargeStart, 1), -1),
    purchasedAt: `${termStart}T09:00:00.000Z`,
    cancellationWindowEndsAt: `${addDays(termStart, 7)}T09:00:00.000Z`,
    unitPrice: 735,
    currency: 'USD',
    partnerId: 'mpn-1001',
    ...overrides,
  };
}
