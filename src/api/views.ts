import type { AccountDocument, InvoiceDocument, UpgradeDocument } from '../db/models';
import { toAccount, upgradeStepsOf } from '../db/mappers';
import type { Subscription } from '../domain/types';
import type { Caller } from './auth';
import { notFound } from './errors';
import { previousSecretsValidUntil, type StoredAccountSecret } from '../webhooks/account-secrets';

/**
 * Stored documents → response bodies. The one place that decides what a portal sees of a document (no bookkeeping
 * fields, ids as `id`, dates as strings).
 */
type Lean<T> = T & { _id: unknown; createdAt?: Date; updatedAt?: Date };

/**
 * A subscription as it stands today (db/subscriptions-on-date.ts: the term renewed or expired, the cycle that holds
 * today); `lockedBy`: the upgrade holding it (from `subscription_locks`), if any.
 */
export function subscriptionView(subscription: Subscription, lockedBy: ReadonlyMap<string, string>) {
  return { ...subscription, lockedByUpgradeId: lockedBy.get(subscription.id) ?? null };
}

export function accountView(doc: Lean<AccountDocument>, now: Date) {
  const secrets = doc.webhookSecrets as StoredAccountSecret[] | undefined;
  const until = previousSecretsValidUntil(secrets, now);
  return {
    ...toAccount(doc),
    webhookSigning: { secret: secrets?.length ? ('own' as const) : ('shared' as const), previousSecretsValidUntil: until ? until.toISOString() : null },
  };
}

export function invoiceView(doc: Lean<InvoiceDocument>) {
  return {
    id: String(doc._id),
    upgradeId: doc.upgradeId,
    accountId: doc.accountId,
    subscriptionId: doc.subscriptionId,
    type: doc.type,
    status: doc.status,
    currency: doc.currency,
    lines: doc.lines.map((line) => ({ ...line })),
    subtotal: doc.subtotal,
    taxBasisPoints: doc.taxBasisPoints,
    tax: doc.tax,
    total: doc.total,
    ...(doc.createdAt ? { createdAt: doc.createdAt.toISOString() } : {}),
  };
}

const iso = (value: unknown): string | undefined => (value instanceof Date ? value.toISOString() : typeof value === 'string' ? value : undefined);

export function upgradeView(doc: Lean<UpgradeDocument>, invoices: Array<Lean<InvoiceDocument>> = []) {
  const plan = (doc.plan ?? null) as Record<string, unknown> | null;
  return {
    upgradeId: String(doc._id),
    status: doc.status,
    kind: doc.kind,
    destinationType: doc.destinationType,
    accountId: doc.accountId,
    request: doc.request,
    ...(doc.upgradeDate ? { upgradeDate: doc.upgradeDate } : {}),
    ...(doc.when ? { when: doc.when as { type: 'on_date'; date: string } } : {}),
    ...(doc.dueDate ? { dueDate: doc.dueDate } : {}),
    ...(doc.renewal ? { renewal: doc.renewal as Record<string, unknown> } : {}),
    steps: upgradeStepsOf(doc.steps).map((step) => ({
      name: step.name,
      status: step.status,
      at: iso(step.at) ?? '',
      ...(step.detail ? { detail: step.detail } : {}),
    })),
    subscriptionsTouched: doc.subscriptionsTouched ?? [],
    invoices: invoices.map((invoice) => ({
      id: String(invoice._id),
      type: invoice.type,
      status: invoice.status,
      currency: invoice.currency,
      total: invoice.total,
    })),
    seatReassignment: doc.seatReassignment ?? null,
    vendor: doc.vendor ?? null,
    error: doc.error ?? null,
    attention: doc.attention ?? null,
    plan: plan
      ? {
          ...(typeof plan.summary === 'string' ? { summary: plan.summary } : {}),
          ...(plan.quote ? { quote: plan.quote } : {}),
          ...(plan.kind ? { kind: plan.kind } : {}),
          ...(plan.upgradeDate ? { upgradeDate: plan.upgradeDate } : {}),
        }
      : null,
    retries: doc.retries ?? 0,
    replans: (doc.replans ?? []) as Array<{ at: string; previous: Record<string, unknown> | null; current: Record<string, unknown> }>,
    ...(doc.createdAt ? { createdAt: doc.createdAt.toISOString() } : {}),
    completedAt: iso(doc.completedAt) ?? null,
  };
}

/** The resource exists and the caller may see its account; otherwise the same 404 as a missing one. */
export function ensureVisible<T extends { accountId: string }>(caller: Caller, doc: T | null | undefined, what: string): T {
  if (!doc || !caller.mayActOnAccount(doc.accountId)) throw notFound(what);
  return doc;
}
