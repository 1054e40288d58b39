/**
 * Re-records the replay suite's histories (test/replay/histories/*.json) from real runs: every upgrade kind and
 * failure path, driven through the HTTP API against a real Temporal dev server, FerretDB and the in-process Partner
 * Center simulator, exactly as production runs them.
 *
 *   npm run record-histories                 # all scenarios
 *   npm run record-histories -- full-to-new  # only the named ones
 *
 * Uses TEMPORAL_ADDRESS / MONGODB_URI when set (its data goes into a throwaway database), else starts its own.
 * Re-record after a deliberate, `patched()`-guarded change to the workflow, and keep the old files too: every shape
 * that ever ran in production must still replay.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { startRecordingServices } from './support/recording-services';
import type { Database } from '../src/db/connection';
import { addDays, addMonths } from '../src/domain/dates';
import { sampleAccount, sampleSubscription } from '../src/sample-data';
import { DEMO_PRODUCT_IDS } from '../src/domain/demo-catalog';
import type { Account, Installment, Subscription } from '../src/domain/types';
import { projectRoot } from '../src/local-services/tools';
import { assembleSystem } from '../src/system';
import { reserveTransitionSlot, transitionLimitFromConfig } from '../src/partner-center/transition-limit';
import { WORKFLOWS_PATH } from '../src/worker-factory';

export const HISTORIES_DIR = join(projectRoot, 'test', 'replay', 'histories');
const OPERATOR_KEY = `record-operator-${randomBytes(12).toString('hex')}`;
/** Short seat reminders so the manual scenario records the reminder and escalation branch in a few seconds. */
const SEAT_REMINDER_MS = 1_000;
const SEAT_ESCALATION_MS = 1_500;

interface System {
  api(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
  client: Client;
  models: Database['models'];
  seed(accounts: Account[], subscriptions: Subscription[]): Promise<void>;
  setFaults(faults: Record<string, unknown>): Promise<void>;
  stopWorker(): Promise<void>;
  startWorker(): Promise<void>;
  /** Holds back every transition POST of the tenant for `ms` (a slot of its request limit taken that far ahead). */
  holdBackTransitions(ms: number): Promise<void>;
}

interface Scenario {
  name: string;
  description: string;
  /** Runs the upgrade to its end and returns the run to record (workflow id, and run id when not the latest). */
  run(system: System): Promise<{ workflowId: string; runId?: string }>;
}

let counter = 0;
function account(): Account {
  return sampleAccount({ id: `acc_rec_${++counter}_${randomBytes(3).toString('hex')}` });
}

function subscription(owner: Account, overrides: Partial<Subscription> = {}): Subscription {
  return sampleSubscription(owner, { id: overrides.id ?? `sub_rec_${randomBytes(5).toString('hex')}`, ...overrides });
}

/** Monthly installments of an annual term: the current one invoiced, the rest pending until the term ends. */
function installments(sub: Subscription): Installment[] {
  const plan: Installment[] = [];
  for (let start = sub.chargeStart; start <= sub.termEnd; start = addMonths(start, 1)) {
    plan.push({
      periodStart: start,
      periodEnd: addDays(addMonths(start, 1), -1),
      amount: sub.unitPrice * sub.quantity,
      quantity: sub.quantity,
      status: start === sub.chargeStart ? 'invoiced' : 'pending',
    });
  }
  return plan;
}

async function startUpgrade(system: System, body: unknown): Promise<string> {
  const response = await system.api('POST', '/v1/upgrades', body, { 'idempotency-key': randomUUID() });
  if (response.status !== 202) throw new Error(`start refused: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body.upgradeId as string;
}

async function waitForStatus(system: System, upgradeId: string, done: (doc: any) => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const doc = await system.models.upgrades.findById(upgradeId).lean();
    if (doc && done(doc)) return;
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  throw new Error(`${upgradeId}: timed out waiting for ${what}`);
}

async function finish(system: System, upgradeId: string, expected: string): Promise<void> {
  await system.client.workflow
    .getHandle(upgradeId)
    .result()
    .catch(() => undefined);
  const doc = await system.models.upgrades.findById(upgradeId).lean();
  if (doc?.status !== expected) throw new Error(`${upgradeId}: expected ${expected}, got ${doc?.status} ${JSON.stringify(doc?.error)}`);
}

const standard = DEMO_PRODUCT_IDS.businessStandard;

export const SCENARIOS: Scenario[] = [
  {
    name: 'full-to-new',
    description: 'Full upgrade converting the source in place, automatic seat reassignment',
    async run(system) {
      const owner = account();
      const source = subscription(owner);
      await system.seed([owner], [source]);
      const upgradeId = await startUpgrade(system, { sourceSubscriptionId: source.id, targetProductId: standard, quantity: 10, destination: { type: 'new' } });
      await finish(system, upgradeId, 'completed');
      return { workflowId: upgradeId };
    },
  },
  {
    name: 'partial-to-new-manual-seats',
    description: 'Partial upgrade into a new subscription; manual seat reassignment with a reminder and an escalation, then confirmed',
    async run(system) {
      const owner = account();
      const source = subscription(owner);
      await system.seed([owner], [source]);
      const upgradeId = await startUpgrade(system, { sourceSubscriptionId: source.id, targetProductId: standard, quantity: 4, destination: { type: 'new' } });
      await waitForStatus(system, upgradeId, (doc) => doc.seatReassignment?.escalated === true, 'a reminder and the escalation');
      const confirmed = await system.api('POST', `/v1/upgrades/${upgradeId}/seat-reassignment`, { note: 'assigned in the admin centre' });
      if (confirmed.status !== 200) throw new Error(`confirmation refused: ${confirmed.status} ${JSON.stringify(confirmed.body)}`);
      await finish(system, upgradeId, 'completed');
      return { workflowId: upgradeId };
    },
  },
  {
    name: 'full-to-existing',
    description: 'Full upgrade into an existing subscription of the target product',
    async run(system) {
      const owner = account();
      const source = subscription(owner, { quantity: 6 });
      const destination = subscription(owner, {
        productId: standard,
        quantity: 3,
        unitPrice: 1470,
        purchasedAt: '2025-01-01T00:00:00.000Z',
        cancellationWindowEndsAt: '2025-01-08T00:00:00.000Z',
      });
      await system.seed([owner], [source, destination]);
      const upgradeId = await startUpgrade(system, {
        sourceSubscriptionId: source.id,
        targetProductId: standard,
        quantity: 6,
        destination: { type: 'existing', subscriptionId: destination.id },
      });
      await confirmIfWaiting(system, upgradeId);
      await finish(system, upgradeId, 'completed');
      return { workflowId: upgradeId };
    },
  },
  {
    name: 'partial-to-existing',
    description: 'Partial upgrade moving seats into an existing subscription; manual seat confirmation',
    async run(system) {
      const owner = account();
      const source = subscription(owner);
      const destination = subscription(owner, {
        productId: standard,
        quantity: 3,
        unitPrice: 1470,
        purchasedAt: '2025-01-01T00:00:00.000Z',
        cancellationWindowEndsAt: '2025-01-08T00:00:00.000Z',
      });
      await system.seed([owner], [source, destination]);
      const upgradeId = await startUpgrade(system, {
        sourceSubscriptionId: source.id,
        targetProductId: standard,
        quantity: 4,
        destination: { type: 'existing', subscriptionId: destination.id },
      });
      await confirmIfWaiting(system, upgradeId);
      await finish(system, upgradeId, 'completed');
      return { workflowId: upgradeId };
    },
  },
  {
    name: 'installments-p1y-monthly',
    description: 'Full upgrade of an annual term billed monthly with a pending installment plan',
    async run(system) {
      const owner = account();
      const base = subscription(owner, { quantity: 12 });
      const source = { ...base, installmentPlan: { installments: installments(base) } };
      await system.seed([owner], [source]);
      const upgradeId = await startUpgrade(system, {
        sourceSubscriptionId: source.id,
        targetProductId: DEMO_PRODUCT_IDS.businessPremium,
        quantity: 12,
        destination: { type: 'new' },
      });
      await confirmIfWaiting(system, upgradeId);
      await finish(system, upgradeId, 'completed');
      return { workflowId: upgradeId };
    },
  },
  {
    name: 'vendor-rejected',
    description: 'Partner Center rejects the transition: failed, nothing changed',
    async run(system) {
      const owner = account();
      const source = subscription(owner, { quantity: 5 });
      await system.seed([owner], [source]);
      await system.setFaults({ rejectTransitionsForSubscriptions: [source.externalId] });
      try {
        const upgradeId = await startUpgrade(system, { sourceSubscriptionId: source.id, targetProductId: standard, quantity: 5, destination: { type: 'new' } });
        await finish(system, upgradeId, 'failed');
        return { workflowId: upgradeId };
      } finally {
        await system.setFaults({ rejectTransitionsForSubscriptions: [] });
      }
    },
  },
  {
    name: 'retry-after-vendor-rejection',
    description: 'The operator retry (POST /v1/upgrades/:id/retry) of a vendor-rejected upgrade, completing (runAttempt 1)',
    async run(system) {
      const owner = account();
      const source = subscription(owner, { quantity: 5 });
      await system.seed([owner], [source]);
      await system.setFaults({ rejectTransitionsForSubscriptions: [source.externalId] });
      let upgradeId: string;
      try {
        upgradeId = await startUpgrade(system, { sourceSubscriptionId: source.id, targetProductId: standard, quantity: 5, destination: { type: 'new' } });
        await finish(system, upgradeId, 'failed');
      } finally {
        await system.setFaults({ rejectTransitionsForSubscriptions: [] });
      }
      const retried = await system.api('POST', `/v1/upgrades/${upgradeId}/retry`);
      if (retried.status !== 202) throw new Error(`retry refused: ${retried.status} ${JSON.stringify(retried.body)}`);
      await finish(system, upgradeId, 'completed');
      return { workflowId: upgradeId };
    },
  },
  {
    name: 'eligibility-rejected-at-execution',
    description: 'Accepted by the API, but the source was suspended before the workflow validated: rejected, nothing changed',
    async run(system) {
      const owner = account();
      const source = subscription(owner, { quantity: 5 });
      await system.seed([owner], [source]);
      // No worker polls while the data changes under the accepted upgrade, so validation certainly sees the change.
      await system.stopWorker();
      const upgradeId = await startUpgrade(system, { sourceSubscriptionId: source.id, targetProductId: standard, quantity: 5, destination: { type: 'new' } });
      await system.models.subscriptions.updateOne({ _id: source.id }, { $set: { status: 'suspended' } });
      await system.startWorker();
      await finish(system, upgradeId, 'rejected');
      return { workflowId: upgradeId };
    },
  },
  {
    name: 'needs-attention-resolved-converted',
    description:
      'Partner Center converts fewer seats than requested (partial to new): needs_attention, resolved as converted: completes, seats confirmed by hand',
    async run(system) {
      const owner = account();
      const source = subscription(owner, { quantity: 6 });
      await system.seed([owner], [source]);
      await system.setFaults({ convertedQuantityShortBy: 1 });
      try {
        // Partial: its seats are reassigned by hand, so the run does not wait for Graph's retries on the short seats.
        const upgradeId = await startUpgrade(system, { sourceSubscriptionId: source.id, targetProductId: standard, quantity: 4, destination: { type: 'new' } });
        await resolveWhenNeedingAttention(system, upgradeId, { outcome: 'converted', note: 'the conversion is visible in Partner Center' });
        await confirmIfWaiting(system, upgradeId);
        await finish(system, upgradeId, 'completed');
        return { workflowId: upgradeId };
      } finally {
        await system.setFaults({ convertedQuantityShortBy: 0 });
      }
    },
  },
  {
    name: 'needs-attention-resolved-not-converted',
    description: 'Partner Center reports an undocumented conversion status: needs_attention, then an operator resolves it as not converted: failed',
    async run(system) {
      const owner = account();
      const source = subscription(owner, { quantity: 5 });
      await system.seed([owner], [source]);
      await system.setFaults({ unrecognisedConversionStatus: 'Paused' });
      try {
        const upgradeId = await startUpgrade(system, { sourceSubscriptionId: source.id, targetProductId: standard, quantity: 5, destination: { type: 'new' } });
        await resolveWhenNeedingAttention(system, upgradeId, { outcome: 'not_converted' });
        await finish(system, upgradeId, 'failed');
        return { workflowId: upgradeId };
      } finally {
        await system.setFaults({ unrecognisedConversionStatus: null });
      }
    },
  },
  {
    name: 'cancelled-while-following',
    description: 'Cancelled (temporal workflow cancel) while following the transition: needs_attention, resolved as not converted: failed, locks released',
    async run(system) {
      const owner = account();
      const source = subscription(owner, { quantity: 5 });
      await system.seed([owner], [source]);
      await system.setFaults({ completionDelayMs: 60_000 });
      try {
        const upgradeId = await startUpgrade(system, { sourceSubscriptionId: source.id, targetProductId: standard, quantity: 5, destination: { type: 'new' } });
        await waitForStatus(system, upgradeId, (doc) => Boolean(doc.vendor?.transition), 'the transition request');
        await system.client.workflow.getHandle(upgradeId).cancel();
        await resolveWhenNeedingAttention(system, upgradeId, { outcome: 'not_converted' });
        await finish(system, upgradeId, 'failed');
        return { workflowId: upgradeId };
      } finally {
        await system.setFaults({ completionDelayMs: 200 });
      }
    },
  },
  {
    name: 'cancelled-while-waiting-for-slot',
    description: 'Cancelled while the request waited for its slot of the request limit: withdrawn, failed with nothing sent, locks released',
    async run(system) {
      const owner = account();
      const source = subscription(owner, { quantity: 5 });
      await system.seed([owner], [source]);
      await system.holdBackTransitions(8_000);
      const upgradeId = await startUpgrade(system, { sourceSubscriptionId: source.id, targetProductId: standard, quantity: 5, destination: { type: 'new' } });
      await waitForStatus(system, upgradeId, (doc) => doc.status === 'awaiting_vendor', 'the transition request');
      await system.client.workflow.getHandle(upgradeId).cancel();
      await finish(system, upgradeId, 'failed');
      return { workflowId: upgradeId };
    },
  },
];

async function resolveWhenNeedingAttention(system: System, upgradeId: string, decision: Record<string, unknown>): Promise<void> {
  await waitForStatus(system, upgradeId, (doc) => doc.status === 'needs_attention', 'needs_attention');
  const resolved = await system.api('POST', `/v1/upgrades/${upgradeId}/resolve`, decision);
  if (resolved.status !== 200) throw new Error(`resolution refused: ${resolved.status} ${JSON.stringify(resolved.body)}`);
}

async function confirmIfWaiting(system: System, upgradeId: string): Promise<void> {
  await waitForStatus(
    system,
    upgradeId,
    (doc) => ['awaiting_manual_seat_reassignment', 'completed', 'failed', 'rejected'].includes(doc.status),
    'the seat reassignment',
  );
  const doc = await system.models.upgrades.findById(upgradeId).lean();
  if (doc?.status !== 'awaiting_manual_seat_reassignment') return;
  const confirmed = await system.api('POST', `/v1/upgrades/${upgradeId}/seat-reassignment`, {});
  if (confirmed.status !== 200) throw new Error(`confirmation refused: ${confirmed.status} ${JSON.stringify(confirmed.body)}`);
}

async function main(): Promise<void> {
  const only = process.argv.slice(2).filter((arg) => !arg.startsWith('-'));
  const unknown = only.filter((name) => !SCENARIOS.some((scenario) => scenario.name === name));
  if (unknown.length > 0) {
    process.stderr.write(`unknown scenario(s): ${unknown.join(', ')}\nknown: ${SCENARIOS.map((s) => s.name).join(', ')}\n`);
    process.exit(2);
  }
  const selected = only.length > 0 ? SCENARIOS.filter((scenario) => only.includes(scenario.name)) : SCENARIOS;
  const say = (message: string) => process.stdout.write(`[record] ${message}\n`);
  const { services, config } = await startRecordingServices('record-histories', OPERATOR_KEY, say);
  const cleanups: Array<() => Promise<unknown>> = [() => services.stop()];
  try {
    const assembled = await assembleSystem({
      // Short seat reminders (below the configuration's whole hours) record the reminder and escalation branch in seconds.
      config: { ...config, PORT: 0, SEAT_REMINDER_INTERVAL_HOURS: SEAT_REMINDER_MS / 3_600_000, SEAT_ESCALATION_DAYS: SEAT_ESCALATION_MS / 86_400_000 },
      simulator: { faults: { completionDelayMs: 200, licenseReassignmentDelayMs: 100 } },
      worker: { workflowBundle: await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') }) },
      dropDatabaseOnClose: true,
    });
    cleanups.unshift(() => assembled.close());
    const { temporalClient: client, db } = assembled;
    const apiUrl = assembled.api!.url;

    const system: System = {
      client,
      models: db.models,
      startWorker: () => assembled.startWorker(),
      stopWorker: () => assembled.stopWorker(),
      async api(method, path, body, headers = {}) {
        const response = await fetch(`${apiUrl}${path}`, {
          method,
          headers: { authorization: `Bearer ${OPERATOR_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        const text = await response.text();
        return { status: response.status, body: text ? JSON.parse(text) : undefined };
      },
      seed: (accounts, subscriptions) => assembled.seed({ accounts, subscriptions }),
      setFaults: (faults) => assembled.setFaults(faults),
      async holdBackTransitions(ms) {
        await reserveTransitionSlot(db.models, transitionLimitFromConfig(assembled.config), new Date(Date.now() + ms));
      },
    };

    mkdirSync(HISTORIES_DIR, { recursive: true });
    for (const scenario of selected) {
      const started = Date.now();
      const { workflowId, runId } = await scenario.run(system);
      const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
      const file = join(HISTORIES_DIR, `${scenario.name}.json`);
      writeFileSync(file, `${historyToJSON(history)}\n`);
      say(`${scenario.name}: ${history.events?.length ?? 0} events → ${relative(projectRoot, file)} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    }
  } finally {
    for (const cleanup of cleanups) await cleanup().catch((error) => say(`cleanup failed: ${String(error)}`));
  }
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (error) => {
      process.stderr.write(`[record] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
