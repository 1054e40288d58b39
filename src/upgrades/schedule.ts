import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { isDuplicateKeyError } from '../db/duplicate-key';
import type { Models } from '../db/models';
import { lockSubscriptions } from '../db/subscription-locks';
import { subscriptionsHeldBy, utcDateOf, type EligibilityReason, type IsoDate, type UpgradePlan, type UpgradeRequest } from '../domain';
import { planSummaryOf } from '../domain/upgrade-plan';
import { searchAttributes, startScheduledUpgradeWorkflow, upgradeDetails, upgradeSummary } from '../temporal/upgrade-client';
import { requestFingerprint, upgradeIdFor } from '../temporal/upgrade-ids';
import {
  cancelScheduledUpgradeUpdate,
  scheduledWorkflowIdOf,
  type ScheduledUpgradeBeginning,
  type ScheduledUpgradeWorkflowInput,
} from '../../workflows/scheduled-upgrade-contract';
import type { UpgradeActor, UpgradeUseCaseDeps, UseCaseLog } from './deps';
import { UpgradeError } from './errors';
import type { RenewalUpgradeQuote } from '../domain/renewal-upgrade';
import { planAtRenewal, renewalQuoteBreakdown, unmarkRenewal } from './renewal-upgrades';
import { loadVisibleUpgrade } from './read';
import {
  answerRepeatedRequest,
  planFor,
  quoteUpgrade,
  START_LOCK_CLAIM,
  workflowStartOf,
  workflowStartOfRecord,
  newUpgradeRecord,
  type AcceptedUpgrade,
  type PlanningDeps,
  type StartUpgradeResult,
  type StoredUpgrade,
} from './start';

/**
 * Upgrades on the customer's chosen day (docs/scheduled-upgrades.md). Scheduling plans and prices the upgrade for its
 * day, takes the source's one schedule slot (not its lock: the source stays free until the day), records the upgrade
 * as `scheduled` and starts its ScheduledUpgradeWorkflow, which waits on a durable timer and on the day re-checks and
 * starts the ordinary UpgradeWorkflow through `beginScheduledUpgrade` below.
 */
export type UpgradeWhen = { type: 'now' } | { type: 'on_date'; date: IsoDate } | { type: 'at_renewal' };
export type ScheduledWhen = Exclude<UpgradeWhen, { type: 'now' }>;
type OnDateWhen = Extract<UpgradeWhen, { type: 'on_date' }>;

/** A scheduled upgrade runs, and is priced, at 00:00 UTC of its day. */
export const dueInstantOf = (date: IsoDate): Date => new Date(`${date}T00:00:00.000Z`);

const invalidSchedule = (field: string, rule: string, message: string) => new UpgradeError('INVALID_SCHEDULE', message, { field, rule });

/** The day must be after today (UTC): today's upgrade is an immediate one. */
export function requireFutureDate(date: IsoDate, now: Date, field: string): void {
  const today = utcDateOf(now);
  if (date <= today) throw invalidSchedule(field, 'after_today', `${field} must be after today (${today}, UTC); to upgrade today, leave it out`);
}

/**
 * The day must fall in the source's current term (on or before its last day): after it the source renews or expires,
 * and a change for the next term is a renewal instruction at Microsoft, not a mid-term transition.
 */
function requireWithinTerm(date: IsoDate, termEnd: IsoDate, field: string): void {
  if (date > termEnd) throw invalidSchedule(field, 'within_source_term', `${field} must be on or before the source's term end (${termEnd})`);
}

/** Both scheduling rules for a day named by `field` (upgrade-options' `date`); the source as it stands today. */
export function requireSchedulableDate(date: IsoDate, now: Date, sourceTermEnd: IsoDate, field: string): void {
  requireFutureDate(date, now, field);
  requireWithinTerm(date, sourceTermEnd, field);
}

/** Plans `request` for `when` (checked), as `planFor` does for today. */
async function planForWhen(deps: PlanningDeps, actor: UpgradeActor, request: UpgradeRequest, when: OnDateWhen, now: Date, ownUpgradeId?: string) {
  requireFutureDate(when.date, now, 'when.date');
  const planned = await planFor(deps, actor, request, now, ownUpgradeId, dueInstantOf(when.date));
  requireWithinTerm(when.date, planned.inputs.source.termEnd, 'when.date');
  return planned;
}

/** The credit and debit an upgrade would produce on its day (today without `when`); no side effects. */
export async function quoteUpgradeWhen(
  deps: UpgradeUseCaseDeps,
  actor: UpgradeActor,
  request: UpgradeRequest,
  when?: Exclude<UpgradeWhen, { type: 'at_renewal' }>,
): Promise<UpgradePlan> {
  if (!when || when.type === 'now') return quoteUpgrade(deps, actor, request);
  return (await planForWhen(deps, actor, request, when, deps.clock())).plan;
}

/** The upgrade scheduled on a source, if one waits for its day: an immediate upgrade of that source is warned of it. */
export async function scheduledUpgradeOn(models: Models, sourceSubscriptionId: string): Promise<{ upgradeId: string; dueDate: IsoDate } | undefined> {
  const slot = await models.scheduledUpgradeSlots.findById(sourceSubscriptionId, { upgradeId: 1, dueDate: 1 }).lean();
  return slot ? { upgradeId: slot.upgradeId, dueDate: slot.dueDate } : undefined;
}

/** A scheduled request's fingerprint covers its day: the same key with another day is another request. */
export const scheduledFingerprint = (request: UpgradeRequest, when: ScheduledWhen): string => requestFingerprint({ ...request, when });

type ScheduledRecord = Omit<AcceptedUpgrade, 'retries'> & { dueDate?: string | null };

function scheduledRunOf(
  deps: Pick<UpgradeUseCaseDeps, 'seatReassignment'>,
  upgradeId: string,
  accountId: string,
  dueDate: IsoDate,
  atRenewal: boolean,
): ScheduledUpgradeWorkflowInput {
  return { upgradeId, accountId, dueDate, seatReassignment: deps.seatReassignment, ...(atRenewal ? { atRenewal: true } : {}) };
}

/** Starts (or finds running) the ScheduledUpgradeWorkflow of a recorded scheduled upgrade. */
async function startScheduledRun(deps: UpgradeUseCaseDeps, record: ScheduledRecord, dueDate: IsoDate): Promise<void> {
  const upgradeId = String(record._id);
  const { input, display } = await workflowStartOfRecord(deps, record);
  const atRenewal = (record as { when?: { type?: string } }).when?.type === 'at_renewal';
  try {
    await startScheduledUpgradeWorkflow(
      deps.temporalClient,
      deps.taskQueue,
      scheduledRunOf(deps, upgradeId, record.accountId, dueDate, atRenewal),
      input,
      display,
    );
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
}

/** Frees the source's schedule slot if this upgrade holds it. */
const freeScheduleSlot = (models: Models, sourceSubscriptionId: string, upgradeId: string) =>
  models.scheduledUpgradeSlots.deleteOne({ _id: sourceSubscriptionId, upgradeId });

/**
 * Schedules `request` for `when.date`: priced for that day, one scheduled upgrade per source (409
 * `UPGRADE_ALREADY_SCHEDULED`), idempotent per (key, Idempotency-Key) like a start. A refusal changes nothing.
 */
export async function scheduleUpgrade(
  deps: UpgradeUseCaseDeps,
  actor: UpgradeActor,
  request: UpgradeRequest,
  when: ScheduledWhen,
  idempotencyKey: string,
  log?: UseCaseLog,
): Promise<StartUpgradeResult & { dueDate?: IsoDate }> {
  const { models } = deps;
  const upgradeId = upgradeIdFor(actor.keyId, idempotencyKey);
  const fingerprint = scheduledFingerprint(request, when);
  const existing = (await models.upgrades.findById(upgradeId).lean()) as ScheduledRecord | null;
  if (existing) {
    const answer = answerRepeatedRequest(existing, fingerprint);
    const dueDate = existing.dueDate ?? (when.type === 'on_date' ? when.date : undefined);
    // The API may have died between the record and the workflow start: start it now (idempotent by workflow id).
    if (existing.status === 'scheduled' && dueDate) await startScheduledRun(deps, existing, dueDate).catch(() => undefined);
    return { ...answer, ...(dueDate ? { dueDate } : {}) };
  }

  const scheduledAt = deps.clock();
  const scheduled = await scheduledPlanOf(deps, actor, request, when, scheduledAt, upgradeId);
  const { accountId, dueDate, plan } = scheduled;
  try {
    await models.scheduledUpgradeSlots.create({ _id: request.sourceSubscriptionId, upgradeId, accountId, dueDate });
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
    const holder = await models.scheduledUpgradeSlots.findById(request.sourceSubscriptionId).lean();
    // Our own slot: the same key raced itself; the record's insert below picks the winner.
    if (holder && holder.upgradeId !== upgradeId) {
      throw new UpgradeError(
        'UPGRADE_ALREADY_SCHEDULED',
        `Subscription ${request.sourceSubscriptionId} already has an upgrade scheduled for ${holder.dueDate}; cancel it first`,
        { upgradeId: holder.upgradeId, dueDate: holder.dueDate },
      );
    }
  }

  const record = {
    ...newUpgradeRecord({ upgradeId, fingerprint, actor, accountId, request, plan }),
    status: 'scheduled',
    when,
    dueDate,
    upgradeDate: plan.upgradeDate,
    // The quote for the day, for portals; the plan is frozen only on the day, when the UpgradeWorkflow validates.
    plan: scheduled.planSummary,
    ...(scheduled.renewal ? { renewal: scheduled.renewal } : {}),
    steps: { scheduled: { status: 'completed', at: scheduledAt, detail: `due ${dueDate}${scheduled.renewal ? ' (at renewal)' : ''}` } },
    createdAt: scheduledAt,
  };
  try {
    await models.upgrades.create(record);
  } catch (error) {
    if (!isDuplicateKeyError(error)) {
      await freeScheduleSlot(models, request.sourceSubscriptionId, upgradeId);
      throw error;
    }
    const winner = (await models.upgrades.findById(upgradeId).lean()) as StoredUpgrade;
    return { ...answerRepeatedRequest(winner, fingerprint), dueDate };
  }

  try {
    await startScheduledRun(deps, { ...record, createdAt: scheduledAt }, dueDate);
  } catch (error) {
    log?.error({ err: error, upgradeId }, 'starting the scheduled upgrade workflow failed');
    await freeScheduleSlot(models, request.sourceSubscriptionId, upgradeId);
    await models.upgrades.updateOne(
      { _id: upgradeId, status: 'scheduled' },
      { $set: { status: 'failed', error: { code: 'WORKFLOW_START_FAILED', message: 'The scheduled workflow could not be started; schedule it again later' } } },
    );
    throw new UpgradeError('TEMPORAL_UNAVAILABLE', 'The upgrade could not be scheduled; it was recorded as failed', { upgradeId });
  }
  return { upgradeId, status: 'scheduled', started: { kind: plan.kind, destinationType: plan.destinationType }, dueDate };
}

/**
 * What a scheduled upgrade is recorded with: on a date, the day's plan; at renewal, the next term
 * (renewal-upgrades.ts), due on the renewal day, with no proration (a zero quote).
 */
async function scheduledPlanOf(deps: PlanningDeps, actor: UpgradeActor, request: UpgradeRequest, when: ScheduledWhen, now: Date, upgradeId: string) {
  if (when.type === 'on_date') {
    const { inputs, plan } = await planForWhen(deps, actor, request, when, now, upgradeId);
    return { accountId: inputs.source.accountId, dueDate: when.date, plan, planSummary: planSummaryOf(plan), renewal: undefined };
  }
  const { inputs, quote } = await planAtRenewal(deps, actor, request, now, upgradeId);
  const plan = { kind: 'full' as const, destinationType: 'new' as const, upgradeDate: quote.renewalDate };
  return {
    accountId: inputs.source.accountId,
    dueDate: quote.renewalDate,
    plan,
    planSummary: { ...plan, summary: quote.summary, quote: renewalQuoteBreakdown(quote.currency) },
    renewal: quote,
  };
}

/** The quote of an upgrade at renewal: the next term, priced, no side effects. */
export async function quoteAtRenewal(deps: UpgradeUseCaseDeps, actor: UpgradeActor, request: UpgradeRequest): Promise<RenewalUpgradeQuote> {
  return (await planAtRenewal(deps, actor, request, deps.clock())).quote;
}

const upgradeInProgress = (heldBy: Array<{ subscriptionId: string; upgradeId: string | null }>): EligibilityReason[] =>
  heldBy.map((holder) => ({
    code: 'UPGRADE_IN_PROGRESS',
    message: `subscription ${holder.subscriptionId} is being upgraded by ${holder.upgradeId ?? 'another upgrade'}`,
  }));

/**
 * On the day (the ScheduledUpgradeWorkflow's activity): the request is judged again at `runAt` as a start judges it —
 * our rules and Microsoft's verdict, for the key that scheduled it and its account — locked, and recorded as
 * `accepted`; the source's schedule slot is freed. Returns the UpgradeWorkflow's input and display, or every reason it
 * is no longer eligible. Partner Center not answering throws, so the activity retries. Idempotent.
 */
export async function beginScheduledUpgrade(deps: PlanningDeps, scheduled: ScheduledUpgradeWorkflowInput, runAt: Date): Promise<ScheduledUpgradeBeginning> {
  const { models } = deps;
  const { upgradeId } = scheduled;
  const record = (await models.upgrades.findById(upgradeId).lean()) as ScheduledRecord | null;
  if (!record || !['scheduled', 'accepted'].includes(record.status)) {
    throw new UpgradeError('NOT_SCHEDULED', `upgrade ${upgradeId} is ${record ? record.status : 'missing'}, not scheduled`);
  }
  const request = record.request as UpgradeRequest;
  const actor: UpgradeActor = { keyId: record.requestedByKeyId, mayActOnAccount: (accountId) => accountId === record.accountId };
  let planned: Awaited<ReturnType<typeof planFor>>;
  try {
    planned = await planFor(deps, actor, request, runAt, upgradeId);
  } catch (error) {
    if (!(error instanceof UpgradeError)) throw error;
    if (error.code === 'NOT_ELIGIBLE' || error.code === 'UPGRADE_IN_PROGRESS') {
      return { ok: false, reasons: (error.details?.reasons as EligibilityReason[] | undefined) ?? [] };
    }
    if (error.code === 'NOT_FOUND') {
      return { ok: false, reasons: [{ code: 'SOURCE_NOT_ACTIVE', message: `source subscription ${request.sourceSubscriptionId} no longer exists` }] };
    }
    throw error;
  }
  const { inputs, plan } = planned;
  const lock = await lockSubscriptions(models, upgradeId, record.accountId, subscriptionsHeldBy(request), START_LOCK_CLAIM);
  if (!lock.locked) return { ok: false, reasons: upgradeInProgress(lock.heldBy) };
  await models.upgrades.updateOne(
    { _id: upgradeId },
    {
      $set: {
        status: 'accepted',
        kind: plan.kind,
        destinationType: plan.destinationType,
        upgradeDate: plan.upgradeDate,
        plan: planSummaryOf(plan),
        'steps.accepted': { status: 'completed', at: runAt, detail: `scheduled for ${scheduled.dueDate}, re-checked on the day` },
      },
    },
  );
  await freeScheduleSlot(models, request.sourceSubscriptionId, upgradeId);

  const { input, display } = workflowStartOf(
    scheduled,
    {
      upgradeId,
      accountId: record.accountId,
      request,
      requestedByKeyId: record.requestedByKeyId,
      acceptedAt: runAt,
      fingerprint: record.requestFingerprint,
    },
    inputs.source,
    inputs.catalog,
  );
  return {
    ok: true,
    start: {
      input,
      staticSummary: upgradeSummary(input, display),
      staticDetails: upgradeDetails(input, display),
      searchAttributes: Object.fromEntries(searchAttributes(input, display, 'accepted').map((pair) => [pair.key.name, String(pair.value)])),
    },
  };
}

/**
 * Ends a scheduled upgrade that will not run: `rejected` on its day with its reasons, or `cancelled` before it. The
 * record changes only while it is still `scheduled`; the source's slot is freed either way. Idempotent.
 */
export async function endScheduledUpgrade(
  deps: { models: Models; clock: () => Date },
  upgradeId: string,
  outcome: 'rejected' | 'cancelled',
  detail: { reasons?: EligibilityReason[]; cancelledBy?: string },
): Promise<void> {
  const { models } = deps;
  const record = await models.upgrades.findById(upgradeId, { request: 1 }).lean();
  if (!record) return;
  const at = deps.clock();
  const reasons = detail.reasons ?? [];
  const message = reasons.map((reason) => reason.message).join('; ') || 'no longer eligible';
  const ending =
    outcome === 'rejected'
      ? { error: { code: 'NOT_ELIGIBLE', message, details: { reasons } }, 'steps.rejected': { status: 'failed', at, detail: `NOT_ELIGIBLE: ${message}` } }
      : { 'steps.cancelled': { status: 'completed', at, detail: `cancelled by ${detail.cancelledBy ?? 'unknown'}` } };
  await models.upgrades.updateOne({ _id: upgradeId, status: 'scheduled' }, { $set: { status: outcome, completedAt: at, ...ending } });
  const { sourceSubscriptionId } = record.request as UpgradeRequest;
  await freeScheduleSlot(models, sourceSubscriptionId, upgradeId);
  // An upgrade at renewal: the source's renewal no longer waits for it.
  await unmarkRenewal(models, sourceSubscriptionId, upgradeId);
}

/**
 * Cancels a scheduled upgrade before its day, leaving nothing behind (no slot, no lock: it never took one). The
 * workflow's update validator decides: once the day has come and the upgrade is being started, it is refused (409).
 */
export async function cancelScheduledUpgrade(
  deps: UpgradeUseCaseDeps,
  actor: UpgradeActor,
  upgradeId: string,
): Promise<{ upgradeId: string; status: 'cancelled' }> {
  const record = await loadVisibleUpgrade(deps, actor, upgradeId);
  const notScheduled = (status: string) =>
    new UpgradeError('NOT_SCHEDULED', `Upgrade ${upgradeId} is ${status}, not scheduled: only a scheduled upgrade can be cancelled`);
  if (record.status !== 'scheduled') throw notScheduled(record.status);
  const handle = deps.temporalClient.workflow.getHandle(scheduledWorkflowIdOf(upgradeId));
  try {
    await deps.temporalClient.withDeadline(Date.now() + deps.updateTimeoutMs, () =>
      handle.executeUpdate(cancelScheduledUpgradeUpdate, { args: [{ cancelledBy: actor.keyId }] }),
    );
  } catch (error) {
    const running = await handle.describe().then(
      (description) => description.status.name === 'RUNNING',
      (describeError: unknown) => (describeError instanceof WorkflowNotFoundError ? false : undefined),
    );
    if (running === undefined) throw new UpgradeError('TEMPORAL_UNAVAILABLE', 'The scheduled workflow did not answer the cancellation in time; try again');
    if (running) {
      if (error instanceof WorkflowUpdateFailedError) throw notScheduled('being started');
      throw new UpgradeError('TEMPORAL_UNAVAILABLE', 'The scheduled workflow did not answer the cancellation in time; try again');
    }
    // Still `scheduled` but nothing runs for it (never started, or terminated by hand): nothing can race, end it here.
    await endScheduledUpgrade(deps, upgradeId, 'cancelled', { cancelledBy: actor.keyId });
  }
  return { upgradeId, status: 'cancelled' };
}
