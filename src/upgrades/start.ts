import type { UpgradeDocument } from '../db/models';
import { isDuplicateKeyError } from '../db/duplicate-key';
import { lockSubscriptions, releaseSubscriptions } from '../db/subscription-locks';
import { planUpgrade, subscriptionsHeldBy, upgradeKindOf, type EligibilityReason, type UpgradePlan, type UpgradeRequest } from '../domain';
import { startUpgradeWorkflow, type UpgradeDisplay } from '../temporal/upgrade-client';
import { requestFingerprint, upgradeIdFor } from '../temporal/upgrade-ids';
import type { UpgradeStatus, UpgradeWorkflowInput } from '../../workflows/messages';
import type { UpgradeActor, UpgradeUseCaseDeps, UseCaseLog } from './deps';
import { UpgradeError, upgradeNotFound } from './errors';
import { loadPlanningInputs, type PlanningInputs } from './planning-inputs';

/**
 * Quote and start: the start use case plans (the eligibility engine decides), locks the source and destination,
 * records the upgrade and starts its workflow, and undoes its own steps when a later one fails, so a refusal changes
 * nothing. Idempotent per (key, idempotency key): the same request again answers with the same upgrade.
 */
type StoredUpgrade = Pick<UpgradeDocument, 'requestFingerprint' | 'status' | 'request'> & { _id: unknown };

export interface StartUpgradeResult {
  upgradeId: string;
  status: UpgradeStatus;
  /** Undefined when this answered a repeated request (the upgrade was started before). */
  started?: Pick<UpgradePlan, 'kind' | 'destinationType'>;
}

/**
 * Plans `request` on `now`'s date for `actor` (undefined: an operator's action, every account), or refuses with every
 * reason. Shared by quote, start and a re-planned retry (replan-on-retry.ts).
 */
export async function planFor(deps: UpgradeUseCaseDeps, actor: UpgradeActor | undefined, request: UpgradeRequest, now: Date, ownUpgradeId?: string) {
  const inputs = await loadPlanningInputs(deps, request, {
    ...(actor ? { mayActOnAccount: (accountId: string) => actor.mayActOnAccount(accountId) } : {}),
    now,
    ...(ownUpgradeId ? { ownUpgradeId } : {}),
  });
  // An orphan subscription (its account missing) is as good as missing.
  if (!inputs.found) throw upgradeNotFound(`Subscription ${request.sourceSubscriptionId}`);
  const result = planUpgrade({
    request,
    source: inputs.source,
    sourceAccount: inputs.sourceAccount,
    ...(inputs.destination ? { destination: inputs.destination } : {}),
    accountSubscriptions: inputs.accountSubscriptions,
    catalog: inputs.catalog,
    now: now.toISOString(),
    policy: deps.policy,
    ...(actor ? { caller: actor } : {}),
    busySubscriptionIds: [...inputs.heldByOthers.keys()],
  });
  if (!result.ok) throw ineligible(result.reasons, inputs);
  return { inputs, plan: result.plan };
}

/** When the only problem is another running upgrade, that is a conflict: the request is fine, the moment isn't. */
function ineligible(reasons: readonly EligibilityReason[], inputs: PlanningInputs): UpgradeError {
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

/** The same idempotency key again: the same body answers with the same upgrade; another body is refused. */
function answerRepeatedRequest(existing: StoredUpgrade, fingerprint: string): StartUpgradeResult {
  const upgradeId = String(existing._id);
  if (existing.requestFingerprint !== fingerprint) {
    throw new UpgradeError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was already used with a different request body', { upgradeId });
  }
  return { upgradeId, status: existing.status as UpgradeStatus };
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
  const existing = (await models.upgrades.findById(upgradeId).lean()) as StoredUpgrade | null;
  if (existing) return answerRepeatedRequest(existing, fingerprint);

  const acceptedAt = deps.clock();
  const { inputs, plan } = await planFor(deps, actor, request, acceptedAt, upgradeId);
  const accountId = inputs.source.accountId;
  const lockIds = subscriptionsHeldBy(request);
  const lock = await lockSubscriptions(models, upgradeId, accountId, lockIds);
  if (!lock.locked) throw new UpgradeError('UPGRADE_IN_PROGRESS', 'Another upgrade is running on this subscription', { heldBy: lock.heldBy });

  try {
    await models.upgrades.create({
      _id: upgradeId,
      requestFingerprint: fingerprint,
      requestedByKeyId: actor.keyId,
      accountId,
      request,
      kind: plan.kind,
      destinationType: plan.destinationType,
      status: 'accepted',
      upgradeDate: plan.upgradeDate,
      steps: { accepted: { status: 'completed', at: acceptedAt } },
      createdAt: acceptedAt,
    });
  } catch (error) {
    if (!isDuplicateKeyError(error)) {
      await releaseSubscriptions(models, upgradeId, lockIds);
      throw error;
    }
    // The same key raced itself. Keep the locks the winner's request needs; give back any only we wanted.
    const winner = (await models.upgrades.findById(upgradeId).lean()) as StoredUpgrade;
    const winnerNeeds = new Set(subscriptionsHeldBy(winner.request as UpgradeRequest));
    const onlyOurs = lockIds.filter((id) => !winnerNeeds.has(id));
    if (onlyOurs.length > 0) await releaseSubscriptions(models, upgradeId, onlyOurs);
    return answerRepeatedRequest(winner, fingerprint);
  }

  const input: UpgradeWorkflowInput = {
    upgradeId,
    accountId,
    request,
    requestedByKeyId: actor.keyId,
    acceptedAt: acceptedAt.toISOString(),
    requestFingerprint: fingerprint,
    seatReassignment: deps.seatReassignment,
    recordedByApi: true,
  };
  const display: UpgradeDisplay = {
    kind: upgradeKindOf(request.quantity, inputs.source.quantity),
    sourceQuantity: inputs.source.quantity,
    sourceProductName: inputs.catalog.nameOf(inputs.source.productId),
    targetProductName: inputs.catalog.nameOf(request.targetProductId),
  };
  try {
    await startUpgradeWorkflow(deps.temporalClient, deps.taskQueue, input, display);
  } catch (error) {
    log?.error({ err: error, upgradeId }, 'starting the upgrade workflow failed');
    await releaseSubscriptions(models, upgradeId, lockIds);
    await models.upgrades.updateOne(
      { _id: upgradeId, status: 'accepted' },
      { $set: { status: 'failed', error: { code: 'WORKFLOW_START_FAILED', message: 'The workflow could not be started; retry later' } } },
    );
    throw new UpgradeError('TEMPORAL_UNAVAILABLE', 'The upgrade could not be started; it was recorded as failed and can be retried by an operator', {
      upgradeId,
    });
  }
  return { upgradeId, status: 'accepted', started: { kind: plan.kind, destinationType: plan.destinationType } };
}
