import type { UpgradePlan } from '../../domain';
import { startUpgrade } from '../../upgrades/start';
import { cancelScheduledUpgrade, quoteAtRenewal, quoteUpgradeWhen, scheduledUpgradeOn, scheduleUpgrade } from '../../upgrades/schedule';
import { renewalQuoteBreakdown } from '../../upgrades/renewal-upgrades';
import { microsoftScheduledChangeWarning } from '../../upgrades/microsoft-scheduled-change-warning';
import type { RenewalUpgradeQuote } from '../../domain/renewal-upgrade';
import type { Models } from '../../db/models';
import { resolveUncertainOutcome } from '../../upgrades/resolve';
import { retryUpgrade } from '../../upgrades/retry';
import { listUpgrades, readUpgrade } from '../../upgrades/read';
import { confirmSeatReassignment } from '../../upgrades/seat-reassignment';
import { upgradeUseCaseDepsOf, type ResolvedDeps } from '../deps';
import type { ApiMetrics } from '../metrics';
import { defineRoute, type AnyRoute } from '../routing';
import { idParamsSchema } from '../schemas/common';
import {
  idempotencyHeadersSchema,
  quoteSchema,
  type QuoteWarning,
  seatReassignmentConfirmSchema,
  uncertainOutcomeResolutionSchema,
  uncertainOutcomeResolvedSchema,
  upgradeAcceptedSchema,
  upgradeCancelledSchema,
  upgradeRetrySchema,
  upgradeListQuerySchema,
  upgradeListSchema,
  upgradeSchema,
  upgradeStartSchema,
} from '../schemas/upgrades';
import { answering } from '../upgrade-errors';
import { upgradeView } from '../views';

/**
 * The upgrade endpoints: parse (the schemas), authorize (`access`, the caller's scope), call the use case in
 * `src/upgrades/`, and answer — its refusals become HTTP errors in `answering`. No database or Temporal call here.
 */
const location = (upgradeId: string) => ({ Location: `/v1/upgrades/${upgradeId}` });

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

/** The upgrade holding the source's renewal (its scheduled change is at Microsoft) is `upgradeId`. */
async function atRenewalOnSource(models: Models, sourceSubscriptionId: string, upgradeId: string): Promise<boolean> {
  const source = await models.subscriptions.findById(sourceSubscriptionId, { renewalUpgrade: 1 }).lean();
  return source?.renewalUpgrade?.upgradeId === upgradeId;
}

/** An upgrade at renewal's quote: nothing prorated (empty credit and debit), the next term in `renewal`. */
function renewalQuoteBody(renewal: RenewalUpgradeQuote) {
  const noInvoice = { currency: renewal.currency, lines: [], subtotal: 0, taxBasisPoints: 0, tax: 0, total: 0 };
  const { sourceSubscriptionId, targetProductId, summary, sourceProductId: _source, ...nextTerm } = renewal;
  return {
    eligible: true as const,
    upgradeDate: renewal.renewalDate,
    kind: 'full' as const,
    destinationType: 'new' as const,
    quantity: renewal.quantity,
    sourceSubscriptionId,
    targetProductId,
    credit: noInvoice,
    debit: noInvoice,
    installmentChanges: [],
    seatReassignment: { mode: 'automatic' as const, reason: 'the subscription keeps its users: Microsoft renews it into the target' },
    quote: renewalQuoteBreakdown(renewal.currency),
    summary,
    renewal: nextTerm,
  };
}

export function upgradeRoutes(deps: ResolvedDeps, metrics: ApiMetrics): AnyRoute[] {
  const upgrades = upgradeUseCaseDepsOf(deps);
  return [
    defineRoute({
      method: 'post',
      path: '/v1/upgrades/quote',
      operationId: 'quoteUpgrade',
      tag: 'Upgrades',
      summary: 'The credit/debit lines and the breakdown an upgrade would produce now, or on its `when.date` (no side effects)',
      access: 'authenticated',
      body: upgradeStartSchema,
      responses: { 200: { description: 'Quote', schema: quoteSchema } },
      errors: [404, 409, 422],
      async handler({ body, caller }) {
        const { when, ...request } = body;
        if (when?.type === 'at_renewal') return { status: 200, body: renewalQuoteBody(await answering(quoteAtRenewal(upgrades, caller, request))) };
        const [plan, scheduled] = await Promise.all([
          answering(quoteUpgradeWhen(upgrades, caller, request, when)),
          scheduledUpgradeOn(upgrades.models, request.sourceSubscriptionId),
        ]);
        const scheduledAtRenewal = scheduled !== undefined && (await atRenewalOnSource(upgrades.models, request.sourceSubscriptionId, scheduled.upgradeId));
        const atMicrosoft = await microsoftScheduledChangeWarning(deps.vendor, plan, scheduledAtRenewal);
        const warnings: QuoteWarning[] = [
          ...(scheduled
            ? [
                {
                  code: 'SCHEDULED_UPGRADE_PENDING' as const,
                  message: scheduledAtRenewal
                    ? `upgrade ${scheduled.upgradeId} renews this subscription into another product at its renewal on ${scheduled.dueDate} through Microsoft's scheduled change: this upgrade makes Microsoft delete it, and that upgrade ends rejected at the renewal`
                    : `upgrade ${scheduled.upgradeId} is scheduled on this subscription for ${scheduled.dueDate}: it is checked again on its day and may be rejected after this upgrade`,
                  ...scheduled,
                },
              ]
            : []),
          ...(atMicrosoft ? [atMicrosoft] : []),
        ];
        return { status: 200, body: { ...quoteBody(plan), ...(warnings.length > 0 ? { warnings } : {}) } };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/upgrades',
      operationId: 'startUpgrade',
      tag: 'Upgrades',
      summary: 'Start an upgrade now, or schedule it for a day (idempotent per Idempotency-Key)',
      description:
        'Same key and body → the same upgrade (202, same `upgradeId`); same key with another body → 422 `IDEMPOTENCY_KEY_REUSED`; another upgrade running on the source or destination → 409 `UPGRADE_IN_PROGRESS`; ineligible → 422 with every reason. With `when: { type: "on_date", date }` the upgrade is priced for that day, recorded as `scheduled` with its `dueDate` and started on the day after eligibility is checked again (the source stays unlocked until then); a day not after today or after the source\'s term → 422 `INVALID_SCHEDULE`; a source with an upgrade scheduled already → 409 `UPGRADE_ALREADY_SCHEDULED`.',
      access: 'authenticated',
      headers: idempotencyHeadersSchema,
      body: upgradeStartSchema,
      responses: { 202: { description: 'Accepted or scheduled; `Location` names the upgrade', schema: upgradeAcceptedSchema } },
      errors: [404, 409, 422, 503],
      async handler({ body, headers, caller, req }) {
        const { when, ...request } = body;
        const key = headers['idempotency-key'];
        if (when && when.type !== 'now') {
          const scheduled = await answering(scheduleUpgrade(upgrades, caller, request, when, key, req.log));
          const answer = { upgradeId: scheduled.upgradeId, status: scheduled.status, ...(scheduled.dueDate ? { dueDate: scheduled.dueDate } : {}) };
          return { status: 202, body: answer, headers: location(scheduled.upgradeId) };
        }
        const result = await answering(startUpgrade(upgrades, caller, request, key, req.log));
        if (result.started) metrics.upgradesStarted.inc({ kind: result.started.kind, destination_type: result.started.destinationType });
        return { status: 202, body: { upgradeId: result.upgradeId, status: result.status }, headers: location(result.upgradeId) };
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
        const { record, invoices, live } = await answering(readUpgrade(upgrades, caller, params.id));
        const view = upgradeView(record, invoices);
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
            attention: live.attention ?? view.attention,
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
        const { page, nextCursor } = await answering(listUpgrades(upgrades, caller, query));
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
        const state = await answering(confirmSeatReassignment(upgrades, caller, params.id, body.note));
        return { status: 200, body: { upgradeId: params.id, status: state.status, seatReassignment: state.seatReassignment ?? null } };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/upgrades/:id/cancel',
      operationId: 'cancelScheduledUpgrade',
      tag: 'Upgrades',
      summary: 'Cancel a scheduled upgrade before its day',
      description:
        'Leaves nothing behind: the upgrade is recorded as `cancelled`, the source may be scheduled again. 409 `NOT_SCHEDULED` when the upgrade is not scheduled, or its day has come and it is being started.',
      access: 'authenticated',
      params: idParamsSchema,
      responses: { 200: { description: 'Cancelled', schema: upgradeCancelledSchema } },
      errors: [404, 409, 503],
      async handler({ params, caller }) {
        return { status: 200, body: await answering(cancelScheduledUpgrade(upgrades, caller, params.id)) };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/upgrades/:id/retry',
      operationId: 'retryUpgrade',
      tag: 'Upgrades',
      summary: 'Re-run a failed upgrade (operator)',
      description:
        'Re-takes the locks and starts a new run under the same workflow id. The activities are keyed by the upgrade id, so the re-run never makes a second vendor transition or invoice. When Microsoft never converted (no transition recorded, or Partner Center failed it), eligibility is checked again and the plan re-frozen on the retry date (new upgrade date and quote; 422 with every reason when no longer eligible, the upgrade left failed); the upgrade record keeps both plans in `replans`. After a transition that did not fail, the frozen plan stays.',
      access: 'operator',
      params: idParamsSchema,
      responses: { 202: { description: 'Re-run started; `plan` says whether it was re-planned, with the old and the new plan', schema: upgradeRetrySchema } },
      errors: [404, 409, 422, 503],
      async handler({ params, req }) {
        const result = await answering(retryUpgrade(upgrades, params.id, req.log));
        metrics.upgradesStarted.inc({ kind: result.kind, destination_type: result.destinationType });
        return { status: 202, body: { upgradeId: result.upgradeId, status: result.status, plan: result.plan }, headers: location(result.upgradeId) };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/upgrades/:id/resolve',
      operationId: 'resolveUncertainOutcome',
      tag: 'Upgrades',
      summary: 'Settle an upgrade in needs_attention: did Microsoft convert? (operator)',
      description:
        'For an upgrade whose outcome at Microsoft is unknown (status `needs_attention`, reason in `attention`), after checking the transition in Partner Center (docs/runbook.md). `converted`: the workflow continues as if Partner Center had reported the transition completed (subscription changes, invoices, seats), with `toSubscriptionId` when Microsoft created a subscription. `not_converted`: it ends `failed`, releases the locks, and tells the account nothing was changed. 409 `NOT_AWAITING_RESOLUTION` when the upgrade is not in `needs_attention` or was settled already.',
      access: 'operator',
      params: idParamsSchema,
      body: uncertainOutcomeResolutionSchema,
      responses: { 200: { description: 'Accepted by the workflow, which continues (or ends) from here', schema: uncertainOutcomeResolvedSchema } },
      errors: [404, 409, 503],
      async handler({ params, body, caller }) {
        return { status: 200, body: await answering(resolveUncertainOutcome(upgrades, caller, params.id, body)) };
      },
    }),
  ];
}
