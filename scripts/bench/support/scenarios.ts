import { randomBytes } from 'node:crypto';
import { DEMO_PRODUCT_IDS } from '../../../src/domain/demo-catalog';
import type { Account, Subscription } from '../../../src/domain/types';
import { sampleAccount, sampleSubscription } from '../../../src/sample-data';

/**
 * Generated upgrade cases for the benchmark and the fault suite: one account per case (so seat conservation can be
 * checked per account), its current charge cycle around today, Business Basic → Business Standard.
 */
export const UPGRADE_KINDS = ['full_to_new', 'partial_to_new', 'full_to_existing', 'partial_to_existing'] as const;
export type UpgradeKind = (typeof UPGRADE_KINDS)[number];

/** Partial and into-existing upgrades wait for a confirmed manual seat reassignment (docs/upgrade-kinds.md). */
export function needsManualSeatConfirmation(kind: UpgradeKind): boolean {
  return kind !== 'full_to_new';
}

export interface UpgradeCase {
  index: number;
  kind: UpgradeKind;
  account: Account;
  source: Subscription;
  destination?: Subscription;
  body: {
    sourceSubscriptionId: string;
    targetProductId: string;
    quantity: number;
    destination: { type: 'new' } | { type: 'existing'; subscriptionId: string };
  };
  idempotencyKey: string;
}

/** `count` cases cycling through the four kinds; `runId` keeps ids unique across runs on a reused database. */
export function makeUpgradeCases(count: number, runId = randomBytes(3).toString('hex'), kinds: readonly UpgradeKind[] = UPGRADE_KINDS): UpgradeCase[] {
  return Array.from({ length: count }, (_, index) => {
    const kind = kinds[index % kinds.length]!;
    const tag = `${runId}_${index}`;
    const account = sampleAccount({ id: `acc_${tag}`, name: `Bench acc_${tag}` });
    const source = sampleSubscription(account, { id: `sub_${tag}_src`, quantity: 10 });
    const intoExisting = kind === 'full_to_existing' || kind === 'partial_to_existing';
    const destination = intoExisting
      ? sampleSubscription(account, {
          id: `sub_${tag}_dst`,
          productId: DEMO_PRODUCT_IDS.businessStandard,
          quantity: 3,
          unitPrice: 1470,
          purchasedAt: '2025-01-01T00:00:00.000Z',
          cancellationWindowEndsAt: '2025-01-08T00:00:00.000Z',
        })
      : undefined;
    const quantity = kind.startsWith('full') ? source.quantity : 4;
    return {
      index,
      kind,
      account,
      source,
      ...(destination ? { destination } : {}),
      body: {
        sourceSubscriptionId: source.id,
        targetProductId: DEMO_PRODUCT_IDS.businessStandard,
        quantity,
        destination: destination ? { type: 'existing', subscriptionId: destination.id } : { type: 'new' },
      },
      idempotencyKey: `bench-${tag}`,
    };
  });
}
