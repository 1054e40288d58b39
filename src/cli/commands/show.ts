import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import type { Models } from '../../db/models';
import { upgradeStepsOf } from '../../db/mappers';
import { queryUpgradeState } from '../../temporal/upgrade-client';
import { ENDED_UPGRADE_STATUSES, type UpgradeState } from '../../../workflows/messages';
import { CliError } from '../errors';

/**
 * `upgrades show <upgradeId>`: everything an engineer asks first about one upgrade, from the upgrade record (what was
 * written), the running workflow (live state via the state query) and Temporal's description of the run.
 */
export interface UpgradeReport {
  upgradeId: string;
  status: string;
  /** True when status, steps and details came from the running workflow rather than the record. */
  live: boolean;
  currentDetails?: string;
  summary?: string;
  kind?: string;
  destinationType?: string;
  accountId?: string;
  request?: unknown;
  upgradeDate?: string;
  steps: Array<{ name: string; status: string; at: string; detail?: string }>;
  subscriptionsTouched: string[];
  invoices: Array<{ id: string; type: string; status: string; currency: string; subtotal: number; tax: number; total: number }>;
  seatReassignment: unknown;
  vendor: unknown;
  error: { code?: string; message?: string; details?: unknown } | null;
  retries: number;
  createdAt?: string;
  completedAt?: string;
  workflow?: {
    runId: string;
    status: string;
    taskQueue: string;
    startTime: string;
    closeTime?: string;
    historyLength: number;
    staticSummary?: string;
    searchAttributes: Record<string, unknown>;
  };
}

const iso = (value: unknown): string | undefined => (value instanceof Date ? value.toISOString() : typeof value === 'string' ? value : undefined);

export async function showUpgrade(options: { models: Models; client?: Client; upgradeId: string; queryTimeoutMs?: number }): Promise<UpgradeReport> {
  const { models, client, upgradeId } = options;
  const doc = (await models.upgrades.findById(upgradeId).lean()) as Record<string, any> | null;
  const workflow = client ? await describeRun(client, upgradeId) : undefined;
  if (!doc && !workflow) throw new CliError(`no upgrade ${upgradeId}: neither an upgrade record nor a workflow has that id`);

  // A scheduled upgrade has no UpgradeWorkflow yet (its ScheduledUpgradeWorkflow waits under `<id>:scheduled`).
  const running = workflow?.status === 'RUNNING' || (doc && doc.status !== 'scheduled' && !(ENDED_UPGRADE_STATUSES as readonly string[]).includes(doc.status));
  const live: UpgradeState | undefined = client && running ? await queryUpgradeState(client, upgradeId, options.queryTimeoutMs ?? 3_000) : undefined;
  const invoices = (await models.invoices.find({ upgradeId }).sort({ _id: 1 }).lean()) as Array<Record<string, any>>;
  const recordSteps = upgradeStepsOf(doc?.steps).map((step) => ({
    name: String(step.name),
    status: String(step.status),
    at: iso(step.at) ?? '',
    ...(step.detail ? { detail: String(step.detail) } : {}),
  }));

  return {
    upgradeId,
    status: live?.status ?? doc?.status ?? 'unknown',
    live: Boolean(live),
    ...(live?.currentDetails ? { currentDetails: live.currentDetails } : {}),
    ...(doc?.plan?.summary ? { summary: String(doc.plan.summary) } : workflow?.staticSummary ? { summary: workflow.staticSummary } : {}),
    ...(doc ? { kind: doc.kind, destinationType: doc.destinationType, accountId: doc.accountId, request: doc.request } : {}),
    ...(doc?.upgradeDate ? { upgradeDate: doc.upgradeDate } : {}),
    steps: live && live.steps.length > 0 ? live.steps : recordSteps,
    subscriptionsTouched: (doc?.subscriptionsTouched ?? []) as string[],
    invoices: invoices.map((invoice) => ({
      id: String(invoice._id),
      type: invoice.type,
      status: invoice.status,
      currency: invoice.currency,
      subtotal: invoice.subtotal,
      tax: invoice.tax,
      total: invoice.total,
    })),
    seatReassignment: live?.seatReassignment ?? doc?.seatReassignment ?? null,
    vendor: doc?.vendor ?? null,
    error: live?.error ?? doc?.error ?? null,
    retries: doc?.retries ?? 0,
    ...(iso(doc?.createdAt) ? { createdAt: iso(doc?.createdAt) } : {}),
    ...(iso(doc?.completedAt) ? { completedAt: iso(doc?.completedAt) } : {}),
    ...(workflow ? { workflow } : {}),
  };
}

async function describeRun(client: Client, upgradeId: string): Promise<UpgradeReport['workflow']> {
  try {
    const description = await client.workflow.getHandle(upgradeId).describe();
    const staticSummary = await description.staticSummary().catch(() => undefined);
    return {
      runId: description.runId,
      status: description.status.name,
      taskQueue: description.taskQueue,
      startTime: description.startTime.toISOString(),
      ...(description.closeTime ? { closeTime: description.closeTime.toISOString() } : {}),
      historyLength: description.historyLength,
      ...(staticSummary ? { staticSummary } : {}),
      searchAttributes: Object.fromEntries(description.typedSearchAttributes.getAll().map((pair) => [pair.key.name, pair.value])),
    };
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return undefined;
    throw new CliError(`Temporal could not describe ${upgradeId}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

const money = (minor: number, currency: string) => `${(minor / 100).toFixed(2)} ${currency}`;

/** The report as an engineer reads it in a terminal. */
export function formatUpgradeReport(report: UpgradeReport): string {
  const lines: string[] = [];
  lines.push(`Upgrade ${report.upgradeId}: ${report.status}${report.live ? ' (live from the running workflow)' : ''}`);
  if (report.summary) lines.push(`  ${report.summary}`);
  if (report.currentDetails) lines.push(`  Now: ${report.currentDetails}`);
  if (report.kind) lines.push(`  Kind: ${report.kind} → ${report.destinationType} destination; account ${report.accountId}`);
  const request = report.request as { sourceSubscriptionId?: string; targetProductId?: string; quantity?: number } | undefined;
  if (request) lines.push(`  Request: ${request.quantity} seat(s) of ${request.sourceSubscriptionId} → ${request.targetProductId}`);
  if (report.upgradeDate) lines.push(`  Upgrade date: ${report.upgradeDate}`);
  if (report.retries > 0) lines.push(`  Operator retries: ${report.retries}`);
  if (report.error) {
    lines.push('', `Error: ${report.error.code ?? 'ERROR'}: ${report.error.message ?? ''}`);
  }
  lines.push('', 'Timeline:');
  if (report.steps.length === 0) lines.push('  (no steps recorded yet)');
  for (const step of report.steps) lines.push(`  ${step.at || '-'.padEnd(24)}  ${step.status.padEnd(9)} ${step.name}${step.detail ? ` — ${step.detail}` : ''}`);
  lines.push('', `Subscriptions touched: ${report.subscriptionsTouched.length > 0 ? report.subscriptionsTouched.join(', ') : '(none)'}`);
  lines.push('', 'Invoices:');
  if (report.invoices.length === 0) lines.push('  (none)');
  for (const invoice of report.invoices) {
    lines.push(
      `  ${invoice.id}  ${invoice.type.padEnd(6)} ${invoice.status.padEnd(7)} total ${money(invoice.total, invoice.currency)} (tax ${money(invoice.tax, invoice.currency)})`,
    );
  }
  const seats = report.seatReassignment as { mode?: string; state?: string; remindersSent?: number; escalated?: boolean; confirmedBy?: string } | null;
  if (seats) {
    lines.push(
      '',
      `Seat reassignment: ${seats.mode ?? '?'}, ${seats.state ?? '?'}${seats.remindersSent ? `, ${seats.remindersSent} reminder(s)` : ''}${seats.escalated ? ', escalated' : ''}${seats.confirmedBy ? `, confirmed by ${seats.confirmedBy}` : ''}`,
    );
  }
  const vendor = report.vendor as {
    requestId?: string;
    attempt?: number;
    transition?: { id?: string; status?: string };
    outcome?: { conversion?: string };
  } | null;
  if (vendor) {
    lines.push(
      `Vendor transition: ${vendor.transition?.id ?? '(none)'} ${vendor.outcome?.conversion ?? vendor.transition?.status ?? ''} (MS-RequestId ${vendor.requestId}, attempt ${vendor.attempt ?? 0})`.replace(
        /\s+\(/,
        ' (',
      ),
    );
  }
  if (report.workflow) {
    const run = report.workflow;
    lines.push(
      '',
      `Temporal run ${run.runId}: ${run.status}, ${run.historyLength} events, task queue ${run.taskQueue}, started ${run.startTime}${run.closeTime ? `, closed ${run.closeTime}` : ''}`,
    );
  } else {
    lines.push('', 'Temporal: no workflow with this id (history retention may have removed it)');
  }
  return lines.join('\n');
}
