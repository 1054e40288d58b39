import { randomBytes } from 'node:crypto';
import { addDays, addMonths, utcDateOf } from './domain/dates';
import { DEMO_PRODUCT_IDS } from './domain/demo-catalog';
import type { Account, Subscription } from './domain/types';

/**
 * Sample accounts and subscriptions for the demo, tests, history recording and benchmarks: valid data whose current
 * charge cycle contains today, so an upgrade started now is eligible unless the overrides say otherwise.
 */
export function sampleAccount(overrides: Partial<Account> = {}): Account {
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

export interface SampleTiming {
  /** Days since the current monthly charge cycle started (default 5). */
  daysIntoCycle?: number;
  /** Whole months between the term start and the current cycle's start (default 2). */
  monthsIntoTerm?: number;
  today?: string;
}

/** 10 seats of Business Basic, annual term billed monthly, bought outside its cancellation window. */
export function sampleSubscription(account: Account, overrides: Partial<Subscription> = {}, timing: SampleTiming = {}): Subscription {
  const today = timing.today ?? utcDateOf(new Date());
  const chargeStart = addDays(today, -(timing.daysIntoCycle ?? 5));
  const termStart = addMonths(chargeStart, -(timing.monthsIntoTerm ?? 2));
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
    ...(account.partnerId ? { partnerId: account.partnerId } : {}),
    ...overrides,
  };
}
