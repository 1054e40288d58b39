import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { lockSubscriptions, releaseSubscriptions } from '../../db/subscription-locks';
import type { InvoiceDocument, UpgradeDocument } from '../../db/models';
import { planUpgrade, subscriptionsHeldBy, upgradeKindOf, type EligibilityReason, type UpgradePlan, type UpgradeRequest } from '../../domain';
import { requestFingerprint, upgradeIdFor } from '../../temporal/upgrade-ids';
import { queryUpgradeState, restartFailedUpgradeWorkflow, startUpgradeWorkflow, type UpgradeDisplay } from '../../temporal/upgrade-client';
import { FINAL_UPGRADE_STATUSES, confirmSeatReassignmentUpdate, type UpgradeStatus, type UpgradeWorkflowInput } from '../../../workflows/messages';
import type { Caller } from '../auth';
import type { ResolvedDeps } from '../deps';
import { ApiError, notFound } from '../errors';
import type { ApiMetrics } from '../metrics';
import { defineRoute, type AnyRoute } from '../routing';
import { idParamsSchema } from '../schemas/common';
import {
  idempotencyHeadersSchema,
  quoteSchema,
  seatReassignmentConfirmSchema,
  upgradeAcceptedSchema,
  upgradeListQuerySchema,
  upgradeListSchema,
  upgradeRequestSchema,
  upgradeSchema,
} from '../schemas/upgrades';
import { loadUpgradeContext, type UpgradeContext } from '../upgrade-context';
import { listPage } from '../listing';
import { ensureVisible, upgradeView } from '../views';
import { isDuplicateKeyError as isDuplicateKey } from '../../db/duplicate-key';

type LeanUpgrade = UpgradeDocument & { _id: unknown; createdAt?: Date; updatedAt?: Date };
type LeanInvoice = InvoiceDocument & { _id: unknown; createdAt?: Date };

const isFinal = (status: string): boolean => (FINAL_UPGRADE_STATUSES as readonly string[]).includes(status);
const location = (upgradeId: string) => ({ Location: `/v1/upgrades/${upgradeId}` });

/** Runs the domain planner (which runs the eligibility engine) for this caller at `now`. */
function plan(context: UpgradeContext, request: UpgradeRequest, caller: Caller, now: string) {
  return planUpgrade({
    request,
    source: context.source,
    sourceAccount: context.sourceAccount,
    ...(context.destination ? { destination: context.destination } : {}),
    accountSubscriptions: context.accountSubscriptions,
    catalog: context.catalog,
    now,
    policy: context.policy,
    caller,
    busySubscriptionIds: context.busySubscriptionIds,
  });
}

/**
 * Ineligible → 422 with every reason. When the only problem is another running upgrade, that is a conflict (409):
 * the request is fine, the moment isn't.
 */
function ineligible(reasons: readonly EligibilityReason[], context: UpgradeContext): ApiError {
  if (reasons.length > 0 && reasons.every((reason) => reason.code === 'UPGRADE_IN_PROGRESS')) {
    const heldBy = [
      ...(context.busySubscriptionIds.includes(context.source.id) ? [{ subscriptionId: context.source.id, upgradeId: context.sourceLockedBy }] : []),
      ...(context.destination && context.busySubscriptionIds.includes(context.destination.id)
        ? [{ subscriptionId: context.destination.id, upgradeId: context.destinationLockedBy }]
        : []),
    ];
    return new ApiError(409, 'UPGRADE_IN_PROGRESS', reasons.map((r) => r.message).join('; '), { heldBy, reasons });
  }
  return new ApiError(422, 'NOT_ELIGIBLE', `The upgrade is not eligible: ${reasons.map((r) => r.code).join(', ')}`, { reasons });
}

function display(context: UpgradeContext, request: UpgradeRequest): UpgradeDisplay {
  return {
    kind: upgradeKindOf(request.quantity, context.source.quantity),
    sourceQuantity: context.source.quantity,
    sourceProductName: context.catalog.nameOf(context.source.productId),
    targetProductName: context.catalog.nameOf(request.targetProductId),
  };
}

function quoteBody(plan: UpgradePlan) {
  return {
    eligible: true as const,
    upgradeDate: plan.upgradeDate,
    kind: plan.kind,
    destinationType: plan.destinationType,
    quantity: plan.quantity,
    sourceSubscriptionId: plan.sourceSubscriptionId,
    targetProductId: plan.targetProductId,
    ...(plan.destinationSubscriptionId ? { destinationSubscriptionId: plan.destinationSubscriptionId } : {}),
    credit: plan.credit,
    debit: plan.debit,
    installmentChanges: plan.installmentChanges,
    seatReassignment: plan.seatReassignment,
    quote: plan.quote,
    summary: plan.summary,
  };
}

export function upgradeRoutes(deps: ResolvedDeps, metrics: ApiMetrics): AnyRoute[] {
  const { models, temporalClient } = deps;
  const takeLocks = (upgradeId: string, accountId: string, ids: string[]) => lockSubscriptions(models, upgradeId, accountId, ids);
  const taskQueue = deps.config.TEMPORAL_TASK_QUEUE;
  const seatReassignment = {
    reminderIntervalMs: deps.config.SEAT_REMINDER_INTERVAL_HOURS * 3_600_000,
    escalateAfterMs: deps.config.SEAT_ESCALATION_DAYS * 86_400_000,
  };

  /** The same Idempotency-Key again: same body → the same upgrade; another body → refused. */
  function replay(existing: LeanUpgrade, fingerprint: string) {
    if (existing.requestFingerprint !== fingerprint) {
      throw new ApiError(422, 'IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was already used with a different request body', {
        upgradeId: String(existing._id),
      });
    }
    const upgradeId = String(existing._id);
    return { status: 202, body: { upgradeId, status: existing.status as UpgradeStatus }, headers: location(upgradeId) };
  }

  async function loadVisibleUpgrade(caller: Caller, id: string): Promise<LeanUpgrade> {
    const doc = (await models.upgrades.findById(id).lean()) as LeanUpgrade | null;
    return ensureVisible(caller, doc, `Upgrade ${id}`);
  }

  return [
    defineRoute({
      method: 'post',
      path: '/v1/upgrades/quote',
      operationId: 'quoteUpgrade',
      tag: 'Upgrades',
      summary: 'The credit/debit lines and the breakdown an upgrade would produce now (no side effects)',
      access: 'authenticated',
      body: upgradeRequestSchema,
      responses: { 200: { description: 'Quote', schema: quoteSchema } },
      errors: [404, 409, 422],
      async handler({ body, caller }) {
        const context = await loadUpgradeContext(deps, caller, body);
        const result = plan(context, body, caller, deps.clock().toISOString());
        if (!result.ok) throw ineligible(result.reasons, context);
        return { status: 200, body: quoteBody(result.plan) };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/upgrades',
      operationId: 'startUpgrade',
      tag: 'Upgrades',
      summary: 'Start an upgrade (idempotent per Idempotency-Key)',
      description:
        'Same key and body → the same upgrade (202, same `upgradeId`); same key with another body → 422 `IDEMPOTENCY_KEY_REUSED`; another upgrade running on the source or destination → 409 `UPGRADE_IN_PROGRESS`; ineligible → 422 with every reason.',
      access: 'authenticated',
      headers: idempotencyHeadersSchema,
      body: upgradeRequestSchema,
      responses: { 202: { description: 'Accepted; `Location` names the upgrade', schema: upgradeAcceptedSchema } },
      errors: [404, 409, 422, 503],
      async handler({ body, headers, caller, req }) {
        const upgradeId = upgradeIdFor(caller.keyId, headers['idempotency-key']);
        const fingerprint = requestFingerprint(body);
        const existing = (await models.upgrades.findById(upgradeId).lean()) as LeanUpgrade | null;
        if (existing) return replay(existing, fingerprint);

        const context = await loadUpgradeContext(deps, caller, body, upgradeId);
        const acceptedAt = deps.clock();
        const result = plan(context, body, caller, acceptedAt.toISOString());
        if (!result.ok) throw ineligible(result.reasons, context);

        const lockIds = subscriptionsHeldBy(body);
        const lock = await takeLocks(upgradeId, context.source.accountId, lockIds);
        if (!lock.locked) {
          throw new ApiError(409, 'UPGRADE_IN_PROGRESS', 'Another upgrade is running on this subscription', { heldBy: lock.heldBy });
        }

        try {
          await models.upgrades.create({
            _id: upgradeId,
            requestFingerprint: fingerprint,
            requestedByKeyId: caller.keyId,
            accountId: context.source.accountId,
            request: body,
            kind: result.plan.kind,
            destinationType: result.plan.destinationType,
            status: 'accepted',
            upgradeDate: result.plan.upgradeDate,
            steps: { accepted: { status: 'completed', at: acceptedAt } },
            createdAt: acceptedAt,
          });
        } catch (error) {
          if (!isDuplicateKey(error)) {
            await releaseSubscriptions(models, upgradeId, lockIds);
            throw error;
          }
          // The same key raced itself. Keep the locks the winner's request needs; give back any only we wanted.
          const winner = (await models.upgrades.findById(upgradeId).lean()) as LeanUpgrade;
          const winnerNeeds = new Set(subscriptionsHeldBy(winner.request as UpgradeRequest));
          const onlyOurs = lockIds.filter((id) => !winnerNeeds.has(id));
          if (onlyOurs.length > 0) await releaseSubscriptions(models, upgradeId, onlyOurs);
          return replay(winner, fingerprint);
        }

        const input: UpgradeWorkflowInput = {
          upgradeId,
          accountId: context.source.accountId,
          request: body,
          requestedByKeyId: caller.keyId,
          acceptedAt: acceptedAt.toISOString(),
          requestFingerprint: fingerprint,
          seatReassignment,
          recordedByApi: true,
        };
        try {
          await startUpgradeWorkflow(temporalClient, taskQueue, input, display(context, body));
        } catch (error) {
          req.log?.error({ err: error, upgradeId }, 'starting the upgrade workflow failed');
          await releaseSubscriptions(models, upgradeId, lockIds);
          await models.upgrades.updateOne(
            { _id: upgradeId, status: 'accepted' },
            { $set: { status: 'failed', error: { code: 'WORKFLOW_START_FAILED', message: 'The workflow could not be started; retry later' } } },
          );
          throw new ApiError(503, 'TEMPORAL_UNAVAILABLE', 'The upgrade could not be started; it was recorded as failed and can be retried by an operator', {
            upgradeId,
          });
        }
        metrics.upgradesStarted.inc({ kind: result.plan.kind, destination_type: result.plan.destinationType });
        return { status: 202, body: { upgradeId, status: 'accepted' as const }, headers: location(upgradeId) };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/upgrades/:id',
      operationId: 'getUpgrade',
      tag: 'Upgrades',
      summary: 'An upgrade: status, steps with times, subscriptions touched, invoices, seat reassignment, error',
      description: 'For a running upgrade the status, steps and seat reassignment state come live from the workflow.',
      access: 'authenticated',
      params: idParamsSchema,
      responses: { 200: { description: 'The upgrade', schema: upgradeSchema } },
      errors: [404],
      async handler({ params, caller }) {
        const doc = await loadVisibleUpgrade(caller, params.id);
        const [invoices, live] = await Promise.all([
          models.invoices.find({ upgradeId: params.id }).sort({ _id: 1 }).lean() as Promise<LeanInvoice[]>,
          isFinal(doc.status) ? Promise.resolve(undefined) : queryUpgradeState(temporalClient, params.id, deps.queryTimeoutMs),
        ]);
        const view = upgradeView(doc, invoices);
        if (!live) return { status: 200, body: { ...view, live: false } };
        return {
          status: 200,
          body: {
            ...view,
            status: live.status,
            steps: live.steps.length > 0 ? live.steps : view.steps,
            currentDetails: live.currentDetails,
            seatReassignment: live.seatReassignment ?? view.seatReassignment,
            error: live.error ?? view.error,
            live: true,
          },
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/upgrades',
      operationId: 'listUpgrades',
      tag: 'Upgrades',
      summary: 'List upgrades (filter by account and status)',
      access: 'authenticated',
      query: upgradeListQuerySchema,
      responses: { 200: { description: 'Upgrades, by id', schema: upgradeListSchema } },
      errors: [404],
      async handler({ query, caller }) {
        const { page, nextCursor } = await listPage(models, models.upgrades, caller, query, query.status ? { status: query.status } : {});
        return { status: 200, body: { upgrades: page.map((doc) => upgradeView(doc)), ...(nextCursor ? { nextCursor } : {}) } };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/upgrades/:id/seat-reassignment',
      operationId: 'confirmSeatReassignment',
      tag: 'Upgrades',
      summary: 'Confirm that the seats were reassigned by hand',
      description: '409 when the upgrade is not waiting for a confirmation.',
      access: 'authenticated',
      params: idParamsSchema,
      body: seatReassignmentConfirmSchema,
      bodyOptional: true,
      responses: {
        200: { description: 'Confirmed; the upgrade continues', schema: upgradeSchema.pick({ upgradeId: true, status: true, seatReassignment: true }) },
      },
      errors: [404, 409, 503],
      async handler({ params, body, caller }) {
        const doc = await loadVisibleUpgrade(caller, params.id);
        const nothingWaiting = () =>
          new ApiError(409, 'NOTHING_AWAITING_CONFIRMATION', `Upgrade ${params.id} is not waiting for a seat reassignment confirmation`);
        if (isFinal(doc.status)) throw nothingWaiting();
        // The record says so once the workflow waits (written before the webhook goes out): go straight to the update,
        // whose validator is the authority. Otherwise ask the workflow, which may be a moment ahead of its record.
        if (doc.status !== 'awaiting_manual_seat_reassignment') {
          const live = await queryUpgradeState(temporalClient, params.id, deps.queryTimeoutMs);
          const waiting = live && (live.status === 'awaiting_manual_seat_reassignment' || live.seatReassignment?.state === 'awaiting_confirmation');
          if (!waiting) throw nothingWaiting();
        }
        try {
          const state = await temporalClient.withDeadline(Date.now() + deps.updateTimeoutMs, () =>
            temporalClient.workflow.getHandle(params.id).executeUpdate(confirmSeatReassignmentUpdate, {
              args: [{ confirmedBy: caller.keyId, ...(body.note ? { note: body.note } : {}) }],
            }),
          );
          return { status: 200, body: { upgradeId: params.id, status: state.status, seatReassignment: state.seatReassignment ?? null } };
        } catch (error) {
          if (error instanceof WorkflowUpdateFailedError || error instanceof WorkflowNotFoundError) throw nothingWaiting();
          throw new ApiError(503, 'TEMPORAL_UNAVAILABLE', 'The workflow did not answer the confirmation in time; try again');
        }
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/upgrades/:id/retry',
      operationId: 'retryUpgrade',
      tag: 'Upgrades',
      summary: 'Re-run a failed upgrade (operator)',
      description:
        'Re-takes the locks and starts a new run under the same workflow id. The activities are keyed by the upgrade id, so the re-run never makes a second vendor transition or invoice.',
      access: 'operator',
      params: idParamsSchema,
      responses: { 202: { description: 'Re-run started', schema: upgradeAcceptedSchema } },
      errors: [404, 409, 503],
      async handler({ params, req }) {
        const doc = (await models.upgrades.findById(params.id).lean()) as LeanUpgrade | null;
        if (!doc) throw notFound(`Upgrade ${params.id}`);
        if (doc.status !== 'failed') {
          throw new ApiError(409, 'UPGRADE_NOT_FAILED', `Only failed upgrades can be retried; ${params.id} is ${doc.status}`);
        }
        const request = doc.request as UpgradeRequest;
        const lockIds = subscriptionsHeldBy(request);
        const lock = await takeLocks(params.id, doc.accountId, lockIds);
        if (!lock.locked) throw new ApiError(409, 'UPGRADE_IN_PROGRESS', 'Another upgrade is running on this subscription', { heldBy: lock.heldBy });
        const claimed = await models.upgrades.updateOne(
          { _id: params.id, status: 'failed' },
          { $set: { status: 'accepted', completedAt: null, error: null }, $inc: { retries: 1 } },
        );
        if (claimed.modifiedCount !== 1) {
          await releaseSubscriptions(models, params.id, lockIds);
          throw new ApiError(409, 'UPGRADE_NOT_FAILED', `Upgrade ${params.id} is already being retried`);
        }
        const catalog = await deps.catalog.get();
        const sourceDoc = await models.subscriptions.findById(request.sourceSubscriptionId, { quantity: 1, productId: 1 }).lean();
        const input: UpgradeWorkflowInput = {
          upgradeId: params.id,
          accountId: doc.accountId,
          request,
          requestedByKeyId: doc.requestedByKeyId,
          acceptedAt: (doc.createdAt ?? deps.clock()).toISOString(),
          requestFingerprint: doc.requestFingerprint,
          // Advances the vendor request id only where the activity allows it (after a vendor rejection).
          runAttempt: (doc.retries ?? 0) + 1,
          seatReassignment,
        };
        const retryDisplay: UpgradeDisplay = {
          kind: doc.kind === 'full' ? 'full' : 'partial',
          sourceQuantity: sourceDoc?.quantity ?? request.quantity,
          sourceProductName: catalog.nameOf(sourceDoc?.productId ?? ''),
          targetProductName: catalog.nameOf(request.targetProductId),
        };
        try {
          await restartFailedUpgradeWorkflow(temporalClient, taskQueue, input, retryDisplay);
        } catch (error) {
          await releaseSubscriptions(models, params.id, lockIds);
          await models.upgrades.updateOne(
            { _id: params.id, status: 'accepted' },
            { $set: { status: 'failed', error: doc.error ?? null }, $inc: { retries: -1 } },
          );
          if (error instanceof WorkflowExecutionAlreadyStartedError) {
            throw new ApiError(409, 'RETRY_NOT_POSSIBLE', 'Temporal refused the re-run: the last run of this upgrade did not fail, or one is still running');
          }
          req.log?.error({ err: error, upgradeId: params.id }, 'restarting the upgrade workflow failed');
          throw new ApiError(503, 'TEMPORAL_UNAVAILABLE', 'The re-run could not be started; try again');
        }
        metrics.upgradesStarted.inc({ kind: doc.kind, destination_type: doc.destinationType });
        return { status: 202, body: { upgradeId: params.id, status: 'accepted' as const }, headers: location(params.id) };
      },
    }),
  ];
}
