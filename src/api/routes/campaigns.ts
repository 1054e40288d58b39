import {
  campaignReportCsv,
  itemDueDate,
  itemUpgradeStatus,
  listCampaignItems,
  listCampaigns,
  readCampaign,
  type CurrentUpgrade,
  type StoredCampaign,
  type StoredCampaignItem,
} from '../../campaigns/read';
import { controlCampaign, executeCampaign, type CampaignControl, type CampaignExecutionDeps } from '../../campaigns/execution';
import { createCampaign } from '../../campaigns/plan';
import type { CampaignCounts } from '../../../workflows/campaign-messages';
import type { UpgradeWhen } from '../../upgrades/schedule';
import type { Caller } from '../auth';
import { upgradeUseCaseDepsOf, type ResolvedDeps } from '../deps';
import { ApiError } from '../errors';
import { defineRoute, type AnyRoute } from '../routing';
import { idParamsSchema } from '../schemas/common';
import {
  campaignCreatedSchema,
  campaignExecutedSchema,
  campaignItemsQuerySchema,
  campaignItemsSchema,
  campaignListQuerySchema,
  campaignListSchema,
  campaignProgressSchema,
  campaignRequestSchema,
  campaignSchema,
} from '../schemas/campaigns';
import { answering } from '../upgrade-errors';

/**
 * Upgrade campaigns (docs/campaigns.md): create (the dry run), read, page the items, the CSV report, and run control.
 * Operators, or a reseller key for its own accounts; a customer key is refused. The use cases are in src/campaigns/.
 */
function requireCampaignRole(caller: Caller): Caller {
  if (caller.role !== 'operator' && caller.role !== 'reseller') throw new ApiError(403, 'FORBIDDEN', 'Campaigns are for operators and reseller keys');
  return caller;
}

const iso = (value: unknown): string | null => (value instanceof Date ? value.toISOString() : null);

function campaignView(campaign: StoredCampaign, counts?: CampaignCounts) {
  return {
    campaignId: campaign._id,
    name: campaign.name,
    sourceProductId: campaign.sourceProductId,
    targetProductId: campaign.targetProductId,
    destination: campaign.destination as { type: 'new' },
    ...(campaign.accountIds ? { accountIds: campaign.accountIds } : {}),
    status: campaign.status as StoredCampaign['status'] & 'planned',
    when: (campaign.when ?? null) as UpgradeWhen | null,
    summary: campaign.summary as never,
    ...(counts ? { counts } : {}),
    plannedAt: iso(campaign.plannedAt)!,
    executedAt: iso(campaign.executedAt),
    endedAt: iso(campaign.endedAt),
  };
}

function itemView(item: StoredCampaignItem, upgrades: ReadonlyMap<string, CurrentUpgrade>) {
  return {
    subscriptionId: item.subscriptionId,
    accountId: item.accountId,
    quantity: item.quantity,
    eligible: item.eligible,
    reasons: item.reasons as Array<{ code: string; message: string }>,
    currency: item.currency ?? null,
    credit: item.credit ?? null,
    debit: item.debit ?? null,
    seatReassignmentMode: (item.seatReassignmentMode ?? null) as 'automatic' | 'manual' | null,
    outcome: item.outcome,
    outcomeReason: item.outcomeReason ?? null,
    upgradeId: item.upgradeId ?? null,
    upgradeStatus: itemUpgradeStatus(item, upgrades),
    dueDate: itemDueDate(item, upgrades),
    renewal: (item.renewal ?? null) as { termStart: string; termEnd: string; unitPrice: number; firstCycleCharge: number; turnsAutoRenewOn: boolean } | null,
    seatReassignmentPending: item.seatReassignmentPending ?? false,
  };
}

export function campaignRoutes(deps: ResolvedDeps, workflowOptions?: CampaignExecutionDeps['workflowOptions']): AnyRoute[] {
  const upgrades = upgradeUseCaseDepsOf(deps);
  const execution: CampaignExecutionDeps = {
    models: deps.models,
    temporalClient: deps.temporalClient,
    taskQueue: deps.config.TEMPORAL_TASK_QUEUE,
    clock: deps.clock,
    updateTimeoutMs: deps.updateTimeoutMs,
    ...(workflowOptions ? { workflowOptions } : {}),
  };
  const location = (campaignId: string) => ({ Location: `/v1/campaigns/${campaignId}` });
  const control = (action: CampaignControl, summary: string, description: string) =>
    defineRoute({
      method: 'post',
      path: `/v1/campaigns/:id/${action}`,
      operationId: `${action}Campaign`,
      tag: 'Campaigns',
      summary,
      description,
      access: 'authenticated',
      params: idParamsSchema,
      responses: { 200: { description: 'Taken by the run: its status and counts', schema: campaignProgressSchema } },
      errors: [403, 404, 409, 503],
      async handler({ params, caller }) {
        const progress = await answering(controlCampaign(execution, requireCampaignRole(caller), params.id, action));
        return { status: 200, body: progress };
      },
    });

  return [
    defineRoute({
      method: 'post',
      path: '/v1/campaigns',
      operationId: 'createCampaign',
      tag: 'Campaigns',
      summary: 'Plan an upgrade campaign (the dry run): every subscription of the source product, judged and quoted',
      description:
        "Each subscription of `sourceProductId` in `accountIds` (default: every account of the caller) is planned as a single start would plan it — our eligibility rules, the quote and, where Partner Center is configured, Microsoft's verdict — and stored as the campaign's items. Nothing is locked or started: `POST /v1/campaigns/{id}/execute` does that. With `when: { type: \"on_date\", date }` (a single upgrade's `when`) each item is priced for that day (a day outside a source's term makes that item ineligible, `INVALID_SCHEDULE`), and once executed the campaign is `scheduled` until 00:00 UTC of the day; a day not after today → 422 `INVALID_SCHEDULE`. With `when: { type: \"at_renewal\" }` each item is judged and priced as a single upgrade at renewal (`POST /v1/upgrades/quote` with the same `when`: Microsoft's scheduled eligibilities, the target's price on the renewal day, nothing prorated; `renewal` on each item, `renewalFirstCycleCharge` in the totals).",
      access: 'authenticated',
      body: campaignRequestSchema,
      responses: { 201: { description: 'Planned; `Location` names the campaign', schema: campaignCreatedSchema } },
      errors: [403, 404, 422, 503],
      async handler({ body, caller }) {
        const actor = requireCampaignRole(caller);
        const created = await answering(
          createCampaign(upgrades, actor, {
            name: body.name,
            sourceProductId: body.sourceProductId,
            targetProductId: body.targetProductId,
            destination: body.destination,
            ...(body.accountIds ? { accountIds: body.accountIds } : {}),
            quantity: body.quantity,
            ...(body.when ? { when: body.when } : {}),
          }),
        );
        return { status: 201, body: created, headers: location(created.campaignId) };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/campaigns',
      operationId: 'listCampaigns',
      tag: 'Campaigns',
      summary: "Campaigns (an operator's: all; a reseller key's: those it created)",
      access: 'authenticated',
      query: campaignListQuerySchema,
      responses: { 200: { description: 'Campaigns, by id', schema: campaignListSchema } },
      errors: [403],
      async handler({ query, caller }) {
        const { page, nextCursor } = await listCampaigns(deps.models, requireCampaignRole(caller), query);
        return { status: 200, body: { campaigns: page.map((campaign) => campaignView(campaign)), ...(nextCursor ? { nextCursor } : {}) } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/campaigns/:id',
      operationId: 'getCampaign',
      tag: 'Campaigns',
      summary: 'A campaign: status, dry-run summary, and counts by outcome',
      access: 'authenticated',
      params: idParamsSchema,
      responses: { 200: { description: 'The campaign', schema: campaignSchema } },
      errors: [403, 404],
      async handler({ params, caller }) {
        const { campaign, counts } = await answering(readCampaign(deps.models, requireCampaignRole(caller), params.id));
        return { status: 200, body: campaignView(campaign, counts) };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/campaigns/:id/items',
      operationId: 'listCampaignItems',
      tag: 'Campaigns',
      summary: "A campaign's items with their verdict, reasons and outcome (paged)",
      access: 'authenticated',
      params: idParamsSchema,
      query: campaignItemsQuerySchema,
      responses: { 200: { description: 'Items, by id', schema: campaignItemsSchema } },
      errors: [403, 404],
      async handler({ params, query, caller }) {
        const {
          page,
          upgrades: current,
          nextCursor,
        } = await answering(
          listCampaignItems(deps.models, requireCampaignRole(caller), params.id, {
            ...(query.eligible !== undefined ? { eligible: query.eligible === 'true' } : {}),
            ...(query.outcome ? { outcome: query.outcome } : {}),
            ...(query.cursor ? { cursor: query.cursor } : {}),
            ...(query.limit ? { limit: query.limit } : {}),
          }),
        );
        return { status: 200, body: { items: page.map((item) => itemView(item, current)), ...(nextCursor ? { nextCursor } : {}) } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/campaigns/:id/report.csv',
      operationId: 'campaignReport',
      tag: 'Campaigns',
      summary: 'Every item with its verdict and outcome, as CSV',
      description:
        "Columns: subscriptionId, accountId, quantity, eligible, reasons (codes, space separated), currency, credit, debit (minor units), outcome, outcomeReason, upgradeId, seatReassignment (`automatic`, `manual`, or `manual_pending` for a reassignment still to be done by hand), dueDate (the day the upgrade takes effect), upgradeStatus (the upgrade's status read at export: an upgrade at renewal is `completed` or `rejected` after the renewal day), renewalUnitPrice and renewalFirstCycleCharge (at renewal: the next term's price, minor units before tax).",
      access: 'authenticated',
      params: idParamsSchema,
      responses: { 200: { description: 'The report (text/csv)' } },
      errors: [403, 404],
      async handler({ params, caller }) {
        const csv = await answering(campaignReportCsv(deps.models, requireCampaignRole(caller), params.id));
        return {
          status: 200,
          text: csv,
          contentType: 'text/csv; charset=utf-8',
          headers: { 'Content-Disposition': `attachment; filename="${params.id}.csv"` },
        };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/campaigns/:id/execute',
      operationId: 'executeCampaign',
      tag: 'Campaigns',
      summary: "Run the campaign: start each eligible item's upgrade at the partner's shared rate",
      description:
        'Idempotent: executing a running or paused campaign starts nothing more. Each item is started as `POST /v1/upgrades` would start it, with the Idempotency-Key `campaign:<campaignId>:<subscriptionId>`, so no subscription is ever upgraded twice; one locked by another upgrade is skipped with the reason. At renewal each item is scheduled as `POST /v1/upgrades` with `when: { type: "at_renewal" }` schedules it (one with an upgrade scheduled already is skipped, naming it) and counts as `scheduled` once Microsoft holds its change; the campaign completes then, without waiting for the renewals. 409 for a completed or cancelled campaign.',
      access: 'authenticated',
      params: idParamsSchema,
      responses: { 202: { description: 'Running', schema: campaignExecutedSchema } },
      errors: [403, 404, 409, 503],
      async handler({ params, caller }) {
        const result = await answering(executeCampaign(execution, requireCampaignRole(caller), params.id));
        return { status: 202, body: result, headers: location(params.id) };
      },
    }),
    control('pause', 'Pause the campaign: no new item is started; started upgrades go on', '409 unless running or paused.'),
    control('resume', 'Resume a paused campaign', '409 unless running or paused.'),
    control(
      'cancel',
      'Cancel the campaign: no further item is started, ever',
      'Started upgrades go on and are followed to their end; pending items stay pending. Upgrades at renewal already scheduled stay scheduled: cancel each with `POST /v1/upgrades/{id}/cancel` (the items with `outcome=scheduled` name them). 409 unless running or paused.',
    ),
  ];
}
