import { listPageInScope, type ListingQuery, type ListingScope } from '../db/listing';
import type { InvoiceDocument, UpgradeDocument } from '../db/models';
import { queryUpgradeState } from '../temporal/upgrade-client';
import { ENDED_UPGRADE_STATUSES, type UpgradeState } from '../../workflows/messages';
import type { UpgradeActor, UpgradeUseCaseDeps } from './deps';
import { upgradeNotFound } from './errors';

/**
 * Reading an upgrade: its record, its invoices, and — while it runs — the workflow's live state, which is ahead of
 * the record. Outside the caller's accounts an upgrade is "not found".
 */
export type StoredUpgradeRecord = UpgradeDocument & { _id: unknown; createdAt?: Date; updatedAt?: Date };
export type StoredInvoice = InvoiceDocument & { _id: unknown; createdAt?: Date };

export const isFinalUpgradeStatus = (status: string): boolean => (ENDED_UPGRADE_STATUSES as readonly string[]).includes(status);
/** No UpgradeWorkflow runs for it (yet, or ever): the record is the whole truth. */
const hasNoRun = (status: string): boolean => status === 'scheduled' || isFinalUpgradeStatus(status);

export async function loadVisibleUpgrade(deps: Pick<UpgradeUseCaseDeps, 'models'>, actor: UpgradeActor, upgradeId: string): Promise<StoredUpgradeRecord> {
  const doc = (await deps.models.upgrades.findById(upgradeId).lean()) as StoredUpgradeRecord | null;
  if (!doc || !actor.mayActOnAccount(doc.accountId)) throw upgradeNotFound(`Upgrade ${upgradeId}`);
  return doc;
}

export async function readUpgrade(
  deps: UpgradeUseCaseDeps,
  actor: UpgradeActor,
  upgradeId: string,
): Promise<{ record: StoredUpgradeRecord; invoices: StoredInvoice[]; live: UpgradeState | undefined }> {
  const record = await loadVisibleUpgrade(deps, actor, upgradeId);
  const [invoices, live] = await Promise.all([
    deps.models.invoices.find({ upgradeId }).sort({ _id: 1 }).lean() as Promise<StoredInvoice[]>,
    hasNoRun(record.status) ? Promise.resolve(undefined) : queryUpgradeState(deps.temporalClient, upgradeId, deps.queryTimeoutMs),
  ]);
  return { record, invoices, live };
}

export async function listUpgrades(
  deps: Pick<UpgradeUseCaseDeps, 'models'>,
  scope: ListingScope,
  query: ListingQuery & { status?: string },
): Promise<{ page: StoredUpgradeRecord[]; nextCursor?: string }> {
  const result = await listPageInScope(deps.models, deps.models.upgrades, scope, query, query.status ? { status: query.status } : {});
  if (!result) throw upgradeNotFound(`Account ${query.accountId}`);
  return result as { page: StoredUpgradeRecord[]; nextCursor?: string };
}
