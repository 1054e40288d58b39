import type { IssuedInvoices, UpgradeActivities, VendorOutcome } from '../workflows/activity-contract';
import type { UpgradeActivityDeps } from './deps';
import { invoiceIssuer } from './invoices';
import { subscriptionChangeApplier } from './subscription-changes';
import { updateUpgradeRecord } from './upgrade-record';

export function createChangesAndInvoicesActivities(deps: UpgradeActivityDeps) {
  const applyPlanChanges = subscriptionChangeApplier(deps);
  const issuePlanInvoices = invoiceIssuer(deps);
  return {
    /**
     * The two steps after the conversion that share a retry policy (retried until they succeed) and an idempotency key
     * (the upgrade id): the subscription changes, then the invoices, each safe to repeat, with what they produced
     * recorded on the upgrade in one write. The workflow records both steps by name (PATCHES.LEAN_SHAPE).
     */
    async applySubscriptionChangesAndIssueInvoices(
      upgradeId: string,
      vendorOutcome: VendorOutcome,
      lockClaim?: string,
    ): Promise<{ destinationSubscriptionId: string } & IssuedInvoices> {
      const { destinationSubscriptionId, touched } = await applyPlanChanges(upgradeId, vendorOutcome, lockClaim);
      const invoices = await issuePlanInvoices(upgradeId, destinationSubscriptionId);
      await updateUpgradeRecord(deps, upgradeId, {
        addToSet: { subscriptionsTouched: touched, invoiceIds: [invoices.creditInvoiceId, invoices.debitInvoiceId] },
      });
      return { destinationSubscriptionId, ...invoices };
    },
  } satisfies Partial<UpgradeActivities>;
}
