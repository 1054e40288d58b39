import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { UpgradeActivities, VendorOutcome } from '../../workflows/activity-contract';
import { WORKFLOWS_PATH } from '../../src/worker-factory';
import { confirmSeatReassignmentUpdate } from '../../workflows/messages';
import { needsManualSeatConfirmation, UPGRADE_KINDS, type UpgradeKind } from './support/scenarios';

/**
 * The benchmark's second baseline (`node --import tsx scripts/bench/same-shape-worker.ts`, env TEMPORAL_ADDRESS,
 * TEMPORAL_TASK_QUEUE): our real UpgradeWorkflow, with every activity a no-op that returns what the real one would.
 * Started like the API starts an upgrade (same search attributes, summary and details), it makes exactly our
 * Temporal commands — the status upserts docs/architecture.md describes, the activity summaries, the patch marker, the update
 * that confirms a manual seat reassignment — with no database, no vendor and no HTTP. Against the plain no-op
 * baseline, it shows what the engine charges for the workflow's shape; against ours, what our code and the
 * database cost. Same worker settings as src/worker-factory.ts.
 *
 * The workflow id says the kind (`<prefix>-<kind>-<n>`, see `sameShapeWorkflowId`), which the no-op validation
 * turns into what the real one decides: full → new reassigns seats automatically, every other kind waits for a
 * manual confirmation, sent here (as the portal does through the API) when the "manual reassignment required"
 * notification goes out.
 */
export const SAME_SHAPE_WORKER_READY_TEXT = 'same-shape worker running';

export const sameShapeWorkflowId = (prefix: string, kind: UpgradeKind, index: number) => `${prefix}-${kind}-${index}`;

/** The kind a `sameShapeWorkflowId` names. */
export function kindOf(upgradeId: string): UpgradeKind {
  const kind = UPGRADE_KINDS.find((candidate) => upgradeId.includes(`-${candidate}-`));
  if (!kind) throw new Error(`no upgrade kind in workflow id ${upgradeId}`);
  return kind;
}

function noopActivities(confirm: (upgradeId: string) => void): UpgradeActivities {
  const completedOutcome = (upgradeId: string): VendorOutcome => ({
    conversion: 'completed',
    licenseReassignment: kindOf(upgradeId) === 'full_to_new' ? 'completed' : 'not_requested',
    errors: [],
    toSubscriptionId: `vendor-${upgradeId}`,
    completedAt: new Date().toISOString(),
  });
  return {
    recordUpgradeAccepted: async () => undefined,
    failUpgrade: async () => undefined,
    completeUpgrade: async () => undefined,
    recordUpgradeProgress: async () => undefined,
    withdrawVendorRequest: async () => true,
    validateAndLockUpgrade: async (input) => {
      const kind = kindOf(input.upgradeId);
      const manual = needsManualSeatConfirmation(kind);
      return {
        ok: true,
        kind: kind.startsWith('full') ? 'full' : 'partial',
        destinationType: input.request.destination.type,
        seatReassignment: manual
          ? { mode: 'manual', reason: 'partial or into-existing upgrades need the customer to choose the users' }
          : { mode: 'automatic', reason: 'full upgrade into a new subscription: Microsoft transfers the licences' },
        summary: `${kind} upgrade of ${input.request.quantity} seats`,
        upgradeDate: input.acceptedAt.slice(0, 10),
      };
    },
    requestVendorTransition: async (upgradeId, runAttempt) => ({
      attempt: runAttempt,
      requestId: `request-${upgradeId}`,
      customerTenantId: `tenant-${upgradeId}`,
      vendorSubscriptionId: `vendor-source-${upgradeId}`,
      transition: {
        id: `transition-${upgradeId}`,
        fromCatalogItemId: 'CFQ7TTC0LH18:0001',
        fromSubscriptionId: `vendor-source-${upgradeId}`,
        toCatalogItemId: 'CFQ7TTC0LDPB:0001',
        toSubscriptionId: undefined,
        quantity: 10,
        termDuration: 'P1Y',
        billingCycle: 'Monthly',
        transitionType: 'transition_with_license_transfer',
        promotionId: undefined,
        events: [],
      },
      requestedAt: new Date().toISOString(),
    }),
    awaitVendorTransition: async (upgradeId) => completedOutcome(upgradeId),
    applySubscriptionChanges: async (upgradeId) => ({ destinationSubscriptionId: `sub-${upgradeId}` }),
    issueInvoices: async (upgradeId) => ({ creditInvoiceId: `${upgradeId}:credit`, debitInvoiceId: `${upgradeId}:debit` }),
    applySubscriptionChangesAndIssueInvoices: async (upgradeId) => ({
      destinationSubscriptionId: `sub-${upgradeId}`,
      creditInvoiceId: `${upgradeId}:credit`,
      debitInvoiceId: `${upgradeId}:debit`,
    }),
    reassignSeatsAutomatically: async () => ({ movedUsers: 10, by: 'vendor' }),
    recordSeatReassignmentState: async () => undefined,
    sendUpgradeNotification: async (upgradeId, event) => {
      if (event === 'manual_seat_reassignment_required') confirm(upgradeId);
      return 'delivered';
    },
    markNotificationUndeliverable: async () => undefined,
  };
}

async function main(): Promise<void> {
  const address = process.env.TEMPORAL_ADDRESS;
  const taskQueue = process.env.TEMPORAL_TASK_QUEUE;
  if (!address || !taskQueue) throw new Error('TEMPORAL_ADDRESS and TEMPORAL_TASK_QUEUE are required');
  const namespace = process.env.TEMPORAL_NAMESPACE ?? 'default';
  const client = new Client({ connection: await Connection.connect({ address }), namespace });
  // After the activity has answered, like a portal reacting to the webhook; a refused confirmation is logged.
  const confirm = (upgradeId: string) =>
    setImmediate(() => {
      client.workflow
        .getHandle(upgradeId)
        .executeUpdate(confirmSeatReassignmentUpdate, { args: [{ confirmedBy: 'bench' }] })
        .catch((error: unknown) => process.stderr.write(`confirmation of ${upgradeId} refused: ${String(error)}\n`));
    });
  const connection = await NativeConnection.connect({ address });
  const worker = await Worker.create({
    connection,
    namespace,
    taskQueue,
    workflowsPath: WORKFLOWS_PATH,
    activities: noopActivities(confirm),
    maxConcurrentActivityTaskExecutions: 100,
    maxConcurrentWorkflowTaskExecutions: 40,
    shutdownGraceTime: '10 seconds',
  });
  process.stdout.write(`${SAME_SHAPE_WORKER_READY_TEXT} on ${taskQueue}\n`);
  await worker.run();
  await connection.close();
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
