import { type Client, type WorkflowHandle, WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';
import { UPGRADE_WORKFLOW_TYPE, getUpgradeStateQuery, type UpgradeState, type UpgradeStatus, type UpgradeWorkflowInput } from '../../workflows/messages';
import {
  UPGRADE_ACCOUNT_ID,
  UPGRADE_DESTINATION_TYPE,
  UPGRADE_DUE_DATE,
  UPGRADE_KIND,
  UPGRADE_SOURCE_SUBSCRIPTION_ID,
  UPGRADE_STATUS,
  UPGRADE_TARGET_PRODUCT_ID,
} from '../../workflows/search-attributes';
import { SCHEDULED_UPGRADE_WORKFLOW_TYPE, scheduledWorkflowIdOf, type ScheduledUpgradeWorkflowInput } from '../../workflows/scheduled-upgrade-contract';

/**
 * The API's side of the Temporal edge: how an upgrade workflow is started, re-run and read. The workflow id is the
 * upgrade id (derived from the caller's Idempotency-Key by `upgradeIdFor`), so Temporal itself refuses a second run
 * of the same upgrade.
 */

/** Human names for the one-line summary the Temporal UI shows per run; ids only go to search attributes. */
export interface UpgradeDisplay {
  kind: 'full' | 'partial';
  sourceQuantity: number;
  sourceProductName: string;
  targetProductName: string;
}

export function upgradeSummary(input: UpgradeWorkflowInput, display: UpgradeDisplay): string {
  const { request } = input;
  const kind = display.kind === 'full' ? 'Full' : 'Partial';
  const destination =
    request.destination.type === 'existing'
      ? `into existing subscription ${request.destination.subscriptionId}`
      : display.kind === 'full'
        ? 'in place'
        : 'new subscription';
  return `${kind} upgrade: ${request.quantity} × ${display.sourceProductName} → ${display.targetProductName}, ${destination}`;
}

export function upgradeDetails(input: UpgradeWorkflowInput, display: UpgradeDisplay): string {
  const { request } = input;
  return [
    `**Upgrade** \`${input.upgradeId}\``,
    '',
    `- Account: \`${input.accountId}\``,
    `- Source subscription: \`${request.sourceSubscriptionId}\` (${display.sourceQuantity} seats of ${display.sourceProductName})`,
    `- Target product: ${display.targetProductName} (\`${request.targetProductId}\`)`,
    `- Seats moving: ${request.quantity} (${display.kind})`,
    `- Destination: ${request.destination.type === 'existing' ? `existing \`${request.destination.subscriptionId}\`` : 'new'}`,
    `- Accepted at: ${input.acceptedAt} by key \`${input.requestedByKeyId}\``,
  ].join('\n');
}

export function searchAttributes(input: UpgradeWorkflowInput, display: UpgradeDisplay, status: UpgradeStatus): SearchAttributePair[] {
  return [
    { key: UPGRADE_STATUS, value: status },
    { key: UPGRADE_ACCOUNT_ID, value: input.accountId },
    { key: UPGRADE_SOURCE_SUBSCRIPTION_ID, value: input.request.sourceSubscriptionId },
    { key: UPGRADE_TARGET_PRODUCT_ID, value: input.request.targetProductId },
    { key: UPGRADE_KIND, value: display.kind },
    { key: UPGRADE_DESTINATION_TYPE, value: input.request.destination.type },
  ];
}

function startWithPolicies(
  client: Client,
  taskQueue: string,
  input: UpgradeWorkflowInput,
  display: UpgradeDisplay,
  policies: { workflowIdConflictPolicy: WorkflowIdConflictPolicy; workflowIdReusePolicy: WorkflowIdReusePolicy },
  staticSummary = upgradeSummary(input, display),
): Promise<WorkflowHandle> {
  return client.workflow.start(UPGRADE_WORKFLOW_TYPE, {
    taskQueue,
    workflowId: input.upgradeId,
    args: [input],
    ...policies,
    typedSearchAttributes: searchAttributes(input, display, 'accepted'),
    staticSummary,
    staticDetails: upgradeDetails(input, display),
  });
}

/**
 * Starts the upgrade's workflow. USE_EXISTING: a second start of a running upgrade (same Idempotency-Key racing
 * itself) returns the running one; REJECT_DUPLICATE: a closed upgrade is never silently re-run by a start — re-runs
 * go through `restartFailedUpgradeWorkflow`.
 */
export function startUpgradeWorkflow(client: Client, taskQueue: string, input: UpgradeWorkflowInput, display: UpgradeDisplay): Promise<WorkflowHandle> {
  return startWithPolicies(client, taskQueue, input, display, {
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
  });
}

/**
 * Re-runs a failed upgrade under the same workflow id. ALLOW_DUPLICATE_FAILED_ONLY: Temporal refuses if the last run
 * completed; FAIL: refuses if one is still running. The activities are keyed by the upgrade id, so the re-run never
 * makes a second vendor transition nor a second invoice.
 */
export function restartFailedUpgradeWorkflow(client: Client, taskQueue: string, input: UpgradeWorkflowInput, display: UpgradeDisplay): Promise<WorkflowHandle> {
  return startWithPolicies(
    client,
    taskQueue,
    input,
    display,
    { workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL, workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY },
    `Retry — ${upgradeSummary(input, display)}`,
  );
}

export async function queryUpgradeState(client: Client, upgradeId: string, timeoutMs: number): Promise<UpgradeState | undefined> {
  try {
    return await client.withDeadline(Date.now() + timeoutMs, () => client.workflow.getHandle(upgradeId).query(getUpgradeStateQuery));
  } catch {
    return undefined;
  }
}

/**
 * Starts the ScheduledUpgradeWorkflow of an upgrade scheduled for `scheduled.dueDate` (workflows/
 * scheduled-upgrade-workflow.ts), under its own id so the upgrade's id stays free for the UpgradeWorkflow it starts on
 * the day. Shown in the Temporal UI with the upgrade's summary and search attributes, status `scheduled` and the due
 * date (`UpgradeDueDate`, a Datetime: operators filter "due this week"). Idempotent as `startUpgradeWorkflow`.
 */
export function startScheduledUpgradeWorkflow(
  client: Client,
  taskQueue: string,
  scheduled: ScheduledUpgradeWorkflowInput,
  input: UpgradeWorkflowInput,
  display: UpgradeDisplay,
): Promise<WorkflowHandle> {
  return client.workflow.start(SCHEDULED_UPGRADE_WORKFLOW_TYPE, {
    taskQueue,
    workflowId: scheduledWorkflowIdOf(scheduled.upgradeId),
    args: [scheduled],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    typedSearchAttributes: [...searchAttributes(input, display, 'scheduled'), { key: UPGRADE_DUE_DATE, value: new Date(`${scheduled.dueDate}T00:00:00.000Z`) }],
    staticSummary: `Scheduled for ${scheduled.dueDate}: ${upgradeSummary(input, display)}`,
    staticDetails: upgradeDetails(input, display),
  });
}
