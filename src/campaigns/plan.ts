import { randomBytes } from 'node:crypto';
import { campaignModelsOf, type CampaignDocument, type CampaignItemDocument } from '../db/campaign-models';
import { findByIds, mapPooled } from '../db/find-by-ids';
import { firstByIdInAccounts } from '../db/listing';
import type { UpgradeRequest } from '../domain';
import type { UpgradeActor, UpgradeUseCaseDeps } from '../upgrades/deps';
import { UpgradeError } from '../upgrades/errors';
import { quoteUpgradeWhen, requireFutureDate, type UpgradeWhen } from '../upgrades/schedule';
import { planAtRenewal } from '../upgrades/renewal-upgrades';
import { planFor } from '../upgrades/start';
import { CampaignError } from './errors';

/**
 * A campaign's dry run (docs/campaigns.md): every subscription of the source product in the campaign's accounts is
 * planned exactly as a single start would plan it (`planFor`: our eligibility rules, the quote, and Microsoft's verdict
 * where Partner Center is configured), and the verdicts are stored as the campaign's items. Nothing is locked or
 * started: that is `execute`'s job, which plans each item again at its start.
 */
export interface CampaignRequest {
  name: string;
  sourceProductId: string;
  targetProductId: string;
  destination: { type: 'new' };
  accountIds?: string[];
  quantity: 'all';
  /**
   * As for a single upgrade (docs/scheduled-upgrades.md): absent or `now` runs when executed, `on_date` on its day,
   * `at_renewal` schedules each source's upgrade for its own renewal.
   */
  when?: UpgradeWhen;
}

/** A campaign's `when` once checked: on a day (after today, UTC), or each source at its own renewal. */
type CampaignWhen = Extract<UpgradeWhen, { type: 'on_date' }> | Extract<UpgradeWhen, { type: 'at_renewal' }>;

/** The campaign's `when`, its day checked as a single upgrade's is; undefined when it runs once executed. */
function campaignWhenOf(when: UpgradeWhen | undefined, now: Date): CampaignWhen | undefined {
  if (when === undefined || when.type === 'now') return undefined;
  if (when.type === 'on_date') requireFutureDate(when.date, now, 'when.date');
  return when;
}

/** Who creates a campaign: the key whose upgrades it starts, and the accounts it may act on (undefined: an operator). */
export interface CampaignActor extends UpgradeActor {
  accountIds: ReadonlySet<string> | undefined;
}

export interface CampaignSummary {
  total: number;
  eligible: number;
  ineligible: number;
  /** Ineligible items per reason code (an item refused for two reasons counts under both). */
  byReason: Record<string, number>;
  /**
   * Per currency: the sum of the quotes' credits (≤ 0) and debits, tax included, in minor units; at renewal (both 0:
   * nothing is prorated) also `renewalFirstCycleCharge`, the renewed terms' first charge cycle before tax.
   */
  totals: Array<{ currency: string; credit: number; debit: number; renewalFirstCycleCharge?: number }>;
}

/** Items planned at once: each plan is a few database reads (and Microsoft's verdict), so a small pool keeps them busy. */
const PLANNING_CONCURRENCY = 8;
const INSERT_CHUNK = 500;

export const campaignIdOf = (): string => `cmp_${randomBytes(10).toString('hex')}`;
export const campaignItemId = (campaignId: string, subscriptionId: string): string => `${campaignId}:${subscriptionId}`;

type PlannedItem = Omit<CampaignItemDocument, 'createdAt' | 'updatedAt'> & { _id: string };

/** One item's verdict: the plan's figures, or every reason it is refused. */
async function planItem(
  deps: UpgradeUseCaseDeps,
  actor: CampaignActor,
  campaignId: string,
  request: CampaignRequest,
  subscription: { _id: string; accountId: string; quantity: number },
  now: Date,
  when: CampaignWhen | undefined,
): Promise<PlannedItem> {
  const base = {
    _id: campaignItemId(campaignId, subscription._id),
    campaignId,
    subscriptionId: subscription._id,
    accountId: subscription.accountId,
    quantity: subscription.quantity,
    upgradeId: null,
    seatReassignmentPending: false,
    dueDate: when?.type === 'on_date' ? when.date : null,
    renewal: null,
  };
  const upgradeRequest: UpgradeRequest = {
    sourceSubscriptionId: subscription._id,
    targetProductId: request.targetProductId,
    quantity: subscription.quantity,
    destination: request.destination,
  };
  try {
    if (when?.type === 'at_renewal') {
      // Judged and priced as a single upgrade at renewal is (its quote, Microsoft's scheduled eligibilities): the next
      // term at the target's price on the renewal day, nothing prorated.
      const { quote } = await planAtRenewal(deps, actor, upgradeRequest, now);
      const { termStart, termEnd, unitPrice, firstCycleCharge, turnsAutoRenewOn } = quote;
      return {
        ...base,
        eligible: true,
        reasons: [],
        currency: quote.currency,
        credit: 0,
        debit: 0,
        seatReassignmentMode: 'automatic',
        dueDate: quote.renewalDate,
        renewal: { termStart, termEnd, unitPrice, firstCycleCharge, turnsAutoRenewOn },
        outcome: 'pending',
        outcomeReason: null,
      };
    }
    // On its day a scheduled campaign is priced as a single upgrade scheduled for that day (and the day must fall in
    // each source's term, else the item is ineligible: INVALID_SCHEDULE).
    const plan = when ? await quoteUpgradeWhen(deps, actor, upgradeRequest, when) : (await planFor(deps, actor, upgradeRequest, now)).plan;
    return {
      ...base,
      eligible: true,
      reasons: [],
      currency: plan.quote.currency,
      credit: plan.quote.refund,
      debit: plan.quote.totalFees,
      seatReassignmentMode: plan.seatReassignment.mode,
      outcome: 'pending',
      outcomeReason: null,
    };
  } catch (error) {
    if (!(error instanceof UpgradeError)) throw error;
    const reasons = (error.details?.reasons as Array<{ code: string; message: string }> | undefined)?.map(({ code, message }) => ({ code, message })) ?? [
      { code: error.code, message: error.message },
    ];
    return {
      ...base,
      eligible: false,
      reasons,
      currency: null,
      credit: null,
      debit: null,
      seatReassignmentMode: null,
      // Never started: skipped from the outset, with its reasons.
      outcome: 'skipped',
      outcomeReason: `not eligible: ${reasons.map((reason) => reason.code).join(', ')}`,
    };
  }
}

export function summaryOf(items: readonly Pick<PlannedItem, 'eligible' | 'reasons' | 'currency' | 'credit' | 'debit' | 'renewal'>[]): CampaignSummary {
  const byReason: Record<string, number> = {};
  const totals = new Map<string, CampaignSummary['totals'][number]>();
  let eligible = 0;
  for (const item of items) {
    if (!item.eligible) {
      for (const code of new Set((item.reasons as Array<{ code: string }>).map((reason) => reason.code))) byReason[code] = (byReason[code] ?? 0) + 1;
      continue;
    }
    eligible += 1;
    const currency = item.currency!;
    const total = totals.get(currency) ?? { currency, credit: 0, debit: 0 };
    total.credit += item.credit ?? 0;
    total.debit += item.debit ?? 0;
    const renewal = item.renewal as { firstCycleCharge: number } | null | undefined;
    if (renewal) total.renewalFirstCycleCharge = (total.renewalFirstCycleCharge ?? 0) + renewal.firstCycleCharge;
    totals.set(currency, total);
  }
  return {
    total: items.length,
    eligible,
    ineligible: items.length - eligible,
    byReason,
    totals: [...totals.values()].sort((a, b) => (a.currency < b.currency ? -1 : a.currency > b.currency ? 1 : 0)),
  };
}

/** The accounts a campaign covers: the named ones (each must be in the actor's scope and exist), else the actor's scope (undefined = all). */
async function campaignAccounts(
  deps: UpgradeUseCaseDeps,
  actor: CampaignActor,
  accountIds: readonly string[] | undefined,
): Promise<Iterable<string> | undefined> {
  if (!accountIds) return actor.accountIds;
  const named = [...new Set(accountIds)];
  const missing = new Set((await findByIds(deps.models.accounts, named, { _id: 1 })).missing);
  const unknown = named.filter((id) => missing.has(id) || !actor.mayActOnAccount(id));
  if (unknown.length > 0) throw new CampaignError('NOT_FOUND', `Account ${unknown.join(', ')} not found`, { field: 'accountIds', accountIds: unknown });
  return named;
}

/** Plans the campaign and stores it, status `planned`, with one item per subscription of the source product. */
export async function createCampaign(
  deps: UpgradeUseCaseDeps,
  actor: CampaignActor,
  request: CampaignRequest,
): Promise<{ campaignId: string; status: 'planned'; summary: CampaignSummary }> {
  const { campaigns, campaignItems } = await campaignModelsOf(deps.models);
  const when = campaignWhenOf(request.when, deps.clock());
  const subscriptions = (await firstByIdInAccounts(
    deps.models.subscriptions,
    { productId: request.sourceProductId },
    await campaignAccounts(deps, actor, request.accountIds),
    undefined,
    { _id: 1, accountId: 1, quantity: 1 },
  )) as Array<{
    _id: string;
    accountId: string;
    quantity: number;
  }>;
  const campaignId = campaignIdOf();
  const now = deps.clock();
  const items = await mapPooled(subscriptions, PLANNING_CONCURRENCY, (subscription) => planItem(deps, actor, campaignId, request, subscription, now, when));
  for (let start = 0; start < items.length; start += INSERT_CHUNK) {
    await campaignItems.insertMany(items.slice(start, start + INSERT_CHUNK), { ordered: false });
  }
  const summary = summaryOf(items);
  // Written last: a campaign that exists is fully planned.
  const campaign: Omit<CampaignDocument, 'createdAt' | 'updatedAt'> & { _id: string } = {
    _id: campaignId,
    name: request.name,
    sourceProductId: request.sourceProductId,
    targetProductId: request.targetProductId,
    destination: request.destination,
    accountIds: request.accountIds ?? (undefined as unknown as string[]),
    when: when ?? null,
    requestedByKeyId: actor.keyId,
    scopeAccountIds: actor.accountIds ? [...actor.accountIds].sort() : (null as unknown as string[]),
    status: 'planned',
    summary,
    seatReassignment: deps.seatReassignment,
    plannedAt: now,
    executedAt: null,
    endedAt: null,
  };
  await campaigns.create(campaign);
  return { campaignId, status: 'planned', summary };
}
