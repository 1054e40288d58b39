import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { UpgradeDocument } from '../db/models';
import { isDuplicateKeyError } from '../db/duplicate-key';
import { lockSubscriptions, releaseSubscriptions } from '../db/subscription-locks';
import { microsoftReasons, subscriptionsHeldBy, upgradeKindOf, type EligibilityReason, type UpgradePlan, type UpgradeRequest } from '../domain';
import { startUpgradeWorkflow, type UpgradeDisplay } from '../temporal/upgrade-client';
import { requestFingerprint, upgradeIdFor } from '../temporal/upgrade-ids';
import type { UpgradeStatus, UpgradeWorkflowInput } from '../../workflows/messages';
import type { UpgradeActor, UpgradeUseCaseDeps, UseCaseLog } from './deps';
import { UpgradeError, upgradeNotFound } from './errors';
import { loadPlanningInputs, planFromInputs, type PlanningInputs } from './planning-inputs';

/**
 * Quote and start: the start use case plans (the eligibility engine decides), locks the source and destination,
 * records the upgrade and starts its workflow, and undoes its own steps when a later one fails, so a refusal changes
 * nothing. Idempotent per (key, idempotency key): the same request again answers with the same upgrade.
 */
/**
 * The claim token of a start (src/db/subscription-locks.ts). The same for every request of one upgrade id: concurrent
 * repeats of one Idempotency-Key share the locks and the record's insert picks the winner. Retries claim afresh.
 */
export const START_LOCK_CLAIM = 'start';

export type StoredUpgrade = Pick<UpgradeDocument, 'requestFingerprint' | 'status' | 'request'> & { _id: unknown };
export type AcceptedUpgrade = StoredUpgrade & Pick<UpgradeDocument, 'accountId' | 'requestedByKeyId' | 'retries' | 'steps'> & { createdAt?: Date };

export interface StartUpgradeResult {
  upgradeId: string;
  status: UpgradeStatus;
  /** Undefined when this answered a repeated request (the upgrade was started before). */
  started?: Pick<UpgradePlan, 'kind' | 'destinationType'>;
}

/** What planning reads: the API's and the worker's (a scheduled upgrade re-planned on its day) alike. */
export type PlanningDeps = Pick<UpgradeUseCaseDeps, 'models' | 'catalog' | 'policy' | 'microsoftEligibility'>;

/**
 * Plans `request` on `now`'s date for `actor` (undefined: an operator's action, every account), or refuses with every
 * reason. Shared by quote, start, a scheduled upgrade (on its day, and priced for it when scheduled) and a re-planned
 * retry (replan-on-retry.ts). `plannedOn`: a later instant to plan for (a scheduled upgrade's day); the subscriptions
 * are read as they stand `now` and projected onto it by the planner, never written for a day not yet come.
 */
export async function planFor(
  deps: PlanningDeps,
  actor: UpgradeActor | undefined,
  request: UpgradeRequest,
  now: Date,
  ownUpgradeId?: string,
  plannedOn: Date = now,
) {
  const inputs = await loadPlanningInputs(deps, request, {
    ...(actor ? { mayActOnAccount: (accountId: string) => actor.mayActOnAccount(accountId) } : {}),
    now,
    ...(ownUpgradeId ? { ownUpgradeId } : {}),
  });
  // An orphan subscription (its account missing) is as good as missing.
  if (!inputs.found) throw upgradeNotFound(`Subscription ${request.sourceSubscriptionId}`);
  const result = planFromInputs(request, inputs, { now: plannedOn.toISOString(), policy: deps.policy, ...(actor ? { caller: actor } : {}) });
  if (!result.ok) throw ineligible(result.reasons, inputs);
  await requireMicrosoftVerdict(deps, inputs, request);
  return { inputs, plan: result.plan };
}

/**
 * Microsoft's own verdict, after our rules passed: a target or existing destination Microsoft refuses is
 * VENDOR_NOT_ELIGIBLE with Microsoft's code; no answer from Partner Center blocks the start (503), since Microsoft
 * would refuse the transition after the locks and the record were taken.
 */
async function requireMicrosoftVerdict(deps: PlanningDeps, inputs: PlanningInputs, request: UpgradeRequest): Promise<void> {
  if (!deps.microsoftEligibility) return;
  let answer;
  try {
    answer = await deps.microsoftEligibility.get(inputs.sourceAccount.tenantId, inputs.source.externalId);
  } catch (error) {
    throw new UpgradeError('VENDOR_UNAVAILABLE', `Partner Center did not give its eligibility verdict (${(error as Error).name}); try again later`);
  }
  const reasons = microsoftReasons(answer, request.targetProductId, inputs.destination?.externalId);
  if (reasons.length > 0) throw ineligible(reasons, inputs);
}

/** When the only problem is another running upgrade, that is a conflict: the request is fine, the moment isn't. */
export function ineligible(reasons: readonly EligibilityReason[], inputs: PlanningInputs): UpgradeError {
  if (reasons.length > 0 && reasons.every((reason) => reason.code === 'UPGRADE_IN_PROGRESS')) {
    const heldBy = [...inputs.heldByOthers].map(([subscriptionId, upgradeId]) => ({ subscriptionId, upgradeId }));
    return new UpgradeError('UPGRADE_IN_PROGRESS', reasons.map((r) => r.message).join('; '), { heldBy, reasons });
  }
  return new UpgradeError('NOT_ELIGIBLE', `The upgrade is not eligible: ${reasons.map((r) => r.code).join(', ')}`, { reasons });
}

/** The credit and debit an upgrade would produce now; no side effects. */
export async function quoteUpgrade(deps: UpgradeUseCaseDeps, actor: UpgradeActor, request: UpgradeRequest): Promise<UpgradePlan> {
  return (await planFor(deps, actor, request, deps.clock())).plan;
}

/** The run's input and the summary shown in Temporal's UI, for the first start, its repeats and a scheduled upgrade's day. */
export function workflowStartOf(
  deps: Pick<UpgradeUseCaseDeps, 'seatReassignment'>,
  upgrade: { upgradeId: string; accountId: string; request: UpgradeRequest; requestedByKeyId: string; acceptedAt: Date; fingerprint: string },
  source: { quantity: number; productId: string },
  catalog: PlanningInputs['catalog'],
): { input: UpgradeWorkflowInput; display: UpgradeDisplay } {
  const input: UpgradeWorkflowInput = {
    upgradeId: upgrade.upgradeId,
    accountId: upgrade.accountId,
    request: upgrade.request,
    requestedByKeyId: upgrade.requestedByKeyId,
    acceptedAt: upgrade.acceptedAt.toISOString(),
    requestFingerprint: upgrade.fingerprint,
    seatReassignment: deps.seatReassignment,
    recordedByApi: true,
    lockClaim: START_LOCK_CLAIM,
  };
  const display: UpgradeDisplay = {
    kind: upgradeKindOf(upgrade.request.quantity, source.quantity),
    sourceQuantity: source.quantity,
    sourceProductName: catalog.nameOf(source.productId),
    targetProductName: catalog.nameOf(upgrade.request.targetProductId),
  };
  return { input, display };
}

const acceptedStepAt = (record: Pick<AcceptedUpgrade, 'steps'>): Date | undefined => {
  const at = (record.steps as { accepted?: { at?: unknown } } | undefined)?.accepted?.at;
  return at instanceof Date ? at : undefined;
};

/** `workflowStartOf` for a recorded upgrade, its source's quantity and product read again (a repeated request). */
export async function workflowStartOfRecord(
  deps: Pick<UpgradeUseCaseDeps, 'seatReassignment' | 'catalog' | 'models' | 'clock'>,
  record: Omit<AcceptedUpgrade, 'retries'>,
): Promise<ReturnType<typeof workflowStartOf>> {
  const request = record.request as UpgradeRequest;
  const [catalog, source] = await Promise.all([
    deps.catalog(),
    deps.models.subscriptions.findById(request.sourceSubscriptionId, { quantity: 1, productId: 1 }).lean(),
  ]);
  return workflowStartOf(
    deps,
    {
      upgradeId: String(record._id),
      accountId: record.accountId,
      request,
      requestedByKeyId: record.requestedByKeyId,
      // A scheduled upgrade was accepted on its day, not when it was recorded.
      acceptedAt: acceptedStepAt(record) ?? record.createdAt ?? deps.clock(),
      fingerprint: record.requestFingerprint,
    },
    { quantity: source?.quantity ?? request.quantity, productId: source?.productId ?? '' },
    catalog,
  );
}

/**
 * A repeat of a request whose upgrade is still `accepted` from its first start (never retried): the API may have died
 * between inserting the record and starting the run, so the run is started now. The start is idempotent by workflow
 * id: a running run is used as is (USE_EXISTING), and an ended one is refused (REJECT_DUPLICATE) and left alone.
 */
export async function ensureWorkflowStarted(deps: UpgradeUseCaseDeps, existing: AcceptedUpgrade, log?: UseCaseLog): Promise<void> {
  const upgradeId = String(existing._id);
  const { input, display } = await workflowStartOfRecord(deps, existing);
  try {
    await startUpgradeWorkflow(deps.temporalClient, deps.taskQueue, input, display);
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return;
    log?.error({ err: error, upgradeId }, 'starting the workflow of a repeated request failed');
    throw new UpgradeError('TEMPORAL_UNAVAILABLE', 'The upgrade is recorded but its workflow could not be started; repeat the request later', { upgradeId });
  }
}

/** The same idempotency key again: the same body answers with the same upgrade; another body is refused. */
export function answerRepeatedRequest(existing: StoredUpgrade, fingerprint: string): StartUpgradeResult {
  const upgradeId = String(existing._id);
  if (existing.requestFingerprint !== fingerprint) {
    throw new UpgradeError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was already used with a different request body', { upgradeId });
  }
  return { upgradeId, status: existing.status as UpgradeStatus };
}

/** The fields every new upgrade record starts with, accepted now or scheduled. */
export function newUpgradeRecord(fields: {
  upgradeId: string;
  fingerprint: string;
  actor: UpgradeActor;
  accountId: string;
  request: UpgradeRequest;
  plan: Pick<UpgradePlan, 'kind' | 'destinationType'>;
}) {
  const { upgradeId, fingerprint, actor, accountId, request, plan } = fields;
  return {
    _id: upgradeId,
    requestFingerprint: fingerprint,
    requestedByKeyId: actor.keyId,
    accountId,
    request,
    kind: plan.kind,
    destinationType: plan.destinationType,
    ...(actor.campaignId ? { campaignId: actor.campaignId } : {}),
  };
}

export async function startUpgrade(
  deps: UpgradeUseCaseDeps,
  actor: UpgradeActor,
  request: UpgradeRequest,
  idempotencyKey: string,
  log?: UseCaseLog,
): Promise<StartUpgradeResult> {
  const { models } = deps;
  const upgradeId = upgradeIdFor(actor.keyId, idempotencyKey);
  const fingerprint = requestFingerprint(request);
  const acceptedAt = deps.clock();
  // Planned while the repeat is looked up (one round trip fewer for a first start, the common case); a repeat's answer
  // never depends on the plan, whose refusal is then dropped.
  const planning = planFor(deps, actor, request, acceptedAt, upgradeId);
  planning.catch(() => undefined);
  const existing = (await models.upgrades.findById(upgradeId).lean()) as StoredUpgrade | null;
  if (existing) {
    const answer = answerRepeatedRequest(existing, fingerprint);
    const accepted = existing as AcceptedUpgrade;
    if (accepted.status === 'accepted' && !accepted.retries) await ensureWorkflowStarted(deps, accepted, log);
    return answer;
  }
  const { inputs, plan } = await planning;
  const accountId = inputs.source.accountId;
  const lockIds = subscriptionsHeldBy(request);
  const lock = await lockSubscriptions(models, upgradeId, accountId, lockIds, START_LOCK_CLAIM);
  if (!lock.locked) throw new UpgradeError('UPGRADE_IN_PROGRESS', 'Another upgrade is running on this subscription', { heldBy: lock.heldBy });
  deps.crashAt?.('after_locks');

  try {
    await models.upgrades.create({
      ...newUpgradeRecord({ upgradeId, fingerprint, actor, accountId, request, plan }),
      status: 'accepted',
      upgradeDate: plan.upgradeDate,
      steps: { accepted: { status: 'completed', at: acceptedAt } },
      createdAt: acceptedAt,
    });
  } catch (error) {
    if (!isDuplicateKeyError(error)) {
      await releaseSubscriptions(models, upgradeId, lockIds, START_LOCK_CLAIM);
      throw error;
    }
    // The same key raced itself. Keep the locks the winner's request needs; give back any only we wanted.
    const winner = (await models.upgrades.findById(upgradeId).lean()) as StoredUpgrade;
    const winnerNeeds = new Set(subscriptionsHeldBy(winner.request as UpgradeRequest));
    const onlyOurs = lockIds.filter((id) => !winnerNeeds.has(id));
    if (onlyOurs.length > 0) await releaseSubscriptions(models, upgradeId, onlyOurs, START_LOCK_CLAIM);
    return answerRepeatedRequest(winner, fingerprint);
  }

  deps.crashAt?.('after_record');
  const { input, display } = workflowStartOf(
    deps,
    { upgradeId, accountId, request, requestedByKeyId: actor.keyId, acceptedAt, fingerprint },
    inputs.source,
    inputs.catalog,
  );
  try {
    await startUpgradeWorkflow(deps.temporalClient, deps.taskQueue, input, display);
  } catch (error) {
    log?.error({ err: error, upgradeId }, 'starting the upgrade workflow failed');
    await releaseSubscriptions(models, upgradeId, lockIds, START_LOCK_CLAIM);
    await models.upgrades.updateOne(
      { _id: upgradeId, status: 'accepted' },
      { $set: { status: 'failed', error: { code: 'WORKFLOW_START_FAILED', message: 'The workflow could not be started; retry later' } } },
    );
    throw new UpgradeError('TEMPORAL_UNAVAILABLE', 'The upgrade could not be started; it was recorded as failed and can be retried by an operator', {
      upgradeId,
    });
  }
  deps.crashAt?.('after_start');
  return { upgradeId, status: 'accepted', started: { kind: plan.kind, destinationType: plan.destinationType } };
}
