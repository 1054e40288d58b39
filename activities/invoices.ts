import type { InvoiceDraft, InvoiceLine } from '../src/domain/proration';
import type { UpgradePlan } from '../src/domain/upgrade-plan';
import type { IssuedInvoices, UpgradeActivities } from '../workflows/activity-contract';
import type { UpgradeActivityDeps } from './deps';
import { loadPlan } from './frozen-plans';
import { updateUpgradeRecord } from './upgrade-record';
import { isDuplicateKeyError } from '../src/db/duplicate-key';

/** `<upgradeId>:credit` / `<upgradeId>:debit`: the primary key is the idempotency key, so a second insert cannot happen. */
const invoiceIdFor = (upgradeId: string, kind: InvoiceDraft['kind']) => `${upgradeId}:${kind}`;

/** Issues an upgrade's credit and debit invoices, each exactly once; the caller records their ids on the upgrade. */
export function invoiceIssuer(deps: UpgradeActivityDeps) {
  /** The invoice document for a draft; its `_id` is the idempotency key. */
  function invoiceDocument(upgradeId: string, accountId: string, draft: InvoiceDraft, subscriptionId: string, describe: (line: InvoiceLine) => string) {
    const id = invoiceIdFor(upgradeId, draft.kind);
    return {
      _id: id,
      idempotencyKey: id,
      upgradeId,
      accountId,
      subscriptionId,
      type: draft.kind,
      // The credit waits for finance to settle it against the next bill (distributors call it a "credit pending invoice").
      status: draft.kind === 'credit' ? 'pending' : 'issued',
      currency: draft.currency,
      lines: draft.lines.map((line) => ({
        subscriptionId: line.subscriptionId ?? subscriptionId,
        productId: line.productId,
        description: describe(line),
        periodStart: line.periodStart,
        periodEnd: line.periodEnd,
        days: line.days,
        cycleDays: line.cycleDays,
        quantity: line.quantity,
        unitPrice: line.unitPrice,
        amount: line.amount,
      })),
      subtotal: draft.subtotal,
      taxBasisPoints: draft.taxRateBasisPoints,
      tax: draft.tax,
      total: draft.total,
    };
  }

  /** The credit for the source's unused days and the debit for the destination, each exactly once. */
  return async function issuePlanInvoices(upgradeId: string, destinationSubscriptionId: string): Promise<IssuedInvoices> {
    const plan: UpgradePlan = await loadPlan(deps, upgradeId);
    const accountId = plan.accountId ?? (await deps.models.upgrades.findById(upgradeId, { accountId: 1 }).lean())!.accountId;
    const days = (line: InvoiceLine) => `${line.days}/${line.cycleDays} days, ${line.periodStart}..${line.periodEnd}`;
    const credit = invoiceDocument(
      upgradeId,
      accountId,
      plan.credit,
      plan.sourceSubscriptionId,
      (line) => `Upgrade credit: ${line.quantity} × ${line.productId}, unused ${days(line)}`,
    );
    const debit = invoiceDocument(
      upgradeId,
      accountId,
      plan.debit,
      destinationSubscriptionId,
      (line) => `Upgrade charge: ${line.quantity} × ${line.productId}, ${days(line)}`,
    );
    // Both in one unordered insert; one an earlier attempt already issued fails alone on its key (11000).
    try {
      await deps.models.invoices.insertMany([credit, debit], { ordered: false });
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
    return { creditInvoiceId: credit._id, debitInvoiceId: debit._id };
  };
}

export function createInvoiceActivities(deps: UpgradeActivityDeps) {
  const issuePlanInvoices = invoiceIssuer(deps);
  return {
    /** The invoices, recorded on the upgrade (runs started before PATCHES.LEAN_SHAPE; later ones apply and invoice at once). */
    async issueInvoices(upgradeId: string, destinationSubscriptionId: string): Promise<IssuedInvoices> {
      const invoices = await issuePlanInvoices(upgradeId, destinationSubscriptionId);
      await updateUpgradeRecord(deps, upgradeId, { addToSet: { invoiceIds: [invoices.creditInvoiceId, invoices.debitInvoiceId] } });
      return invoices;
    },
  } satisfies Partial<UpgradeActivities>;
}
