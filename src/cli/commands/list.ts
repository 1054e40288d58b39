import type { Client } from '@temporalio/client';
import { UPGRADE_STATUSES, type UpgradeStatus } from '../../../workflows/messages';
import { UPGRADE_ACCOUNT_ID, UPGRADE_KIND, UPGRADE_STATUS } from '../../../workflows/search-attributes';
import { UsageError } from '../errors';

/**
 * `upgrades list --status failed [--account acc_x]`: what needs attention, straight from Temporal's visibility store
 * with the same query an operator types in the Web UI, so CLI and UI always agree.
 */
export interface ListFilter {
  status?: string;
  account?: string;
  kind?: string;
  limit?: number;
}

export interface ListedUpgrade {
  upgradeId: string;
  runId: string;
  upgradeStatus?: string;
  accountId?: string;
  kind?: string;
  workflowStatus: string;
  startTime: string;
  closeTime?: string;
  summary?: string;
}

const SAFE_VALUE = /^[A-Za-z0-9_.:@-]{1,200}$/;

/** The visibility query text, e.g. `UpgradeStatus = "failed" AND UpgradeAccountId = "acc_x"`. */
function upgradeListQuery(filter: ListFilter): string {
  if (filter.status !== undefined && !(UPGRADE_STATUSES as readonly string[]).includes(filter.status)) {
    throw new UsageError(`unknown status "${filter.status}"; one of: ${UPGRADE_STATUSES.join(', ')}`);
  }
  if (filter.kind !== undefined && !['full', 'partial'].includes(filter.kind)) throw new UsageError(`unknown kind "${filter.kind}"; full or partial`);
  if (filter.account !== undefined && !SAFE_VALUE.test(filter.account)) {
    throw new UsageError(`"${filter.account}" is not an account id (letters, digits and _.:@- only)`);
  }
  const clauses = [
    'WorkflowType = "UpgradeWorkflow"',
    ...(filter.status ? [`${UPGRADE_STATUS.name} = "${filter.status as UpgradeStatus}"`] : []),
    ...(filter.account ? [`${UPGRADE_ACCOUNT_ID.name} = "${filter.account}"`] : []),
    ...(filter.kind ? [`${UPGRADE_KIND.name} = "${filter.kind}"`] : []),
  ];
  return clauses.join(' AND ');
}

/**
 * Lists the latest run of each matching upgrade. An upgrade retried by an operator has older runs (the failed one)
 * under the same id; those still match `UpgradeStatus = "failed"` in visibility but no longer need attention, so a
 * run that is not its upgrade's latest is left out.
 */
export async function listUpgrades(client: Client, filter: ListFilter): Promise<{ query: string; upgrades: ListedUpgrade[] }> {
  const query = upgradeListQuery(filter);
  const limit = filter.limit ?? 50;
  const upgrades: ListedUpgrade[] = [];
  const seen = new Set<string>();
  for await (const run of client.workflow.list({ query, pageSize: Math.min(limit * 2, 1000) })) {
    if (seen.has(run.workflowId)) continue;
    const latest = await client.workflow.getHandle(run.workflowId).describe();
    if (latest.runId !== run.runId) continue;
    seen.add(run.workflowId);
    const attributes = run.typedSearchAttributes;
    const summary = await latest.staticSummary().catch(() => undefined);
    upgrades.push({
      upgradeId: run.workflowId,
      runId: run.runId,
      ...(attributes.get(UPGRADE_STATUS) ? { upgradeStatus: attributes.get(UPGRADE_STATUS) } : {}),
      ...(attributes.get(UPGRADE_ACCOUNT_ID) ? { accountId: attributes.get(UPGRADE_ACCOUNT_ID) } : {}),
      ...(attributes.get(UPGRADE_KIND) ? { kind: attributes.get(UPGRADE_KIND) } : {}),
      workflowStatus: run.status.name,
      startTime: run.startTime.toISOString(),
      ...(run.closeTime ? { closeTime: run.closeTime.toISOString() } : {}),
      ...(summary ? { summary } : {}),
    });
    if (upgrades.length >= limit) break;
  }
  return { query, upgrades };
}

export function formatUpgradeList(result: { query: string; upgrades: ListedUpgrade[] }): string {
  if (result.upgrades.length === 0) return `No upgrades match ${result.query}`;
  const rows = result.upgrades.map(
    (upgrade) =>
      `${upgrade.upgradeId}  ${(upgrade.upgradeStatus ?? '?').padEnd(12)} ${(upgrade.accountId ?? '?').padEnd(16)} ${upgrade.startTime}  ${upgrade.summary ?? ''}`,
  );
  return [`${result.upgrades.length} upgrade(s) matching ${result.query}:`, ...rows].join('\n');
}
