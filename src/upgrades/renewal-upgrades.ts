/**
 * Upgrades at renewal through Microsoft's scheduled changes (docs/scheduled-upgrades.md, "At renewal";
 * https://learn.microsoft.com/en-us/partner-center/developer/create-scheduled-changes). Scheduling checks the target
 * against Microsoft's scheduled eligibilities and prices the next term (domain/renewal-upgrade.ts); the
 * ScheduledUpgradeWorkflow then writes the change at Microsoft (`writeScheduledChange`), waits for the renewal day, and
 * renews the local subscription into the target when Microsoft's change still stands (`renewIntoTarget`), or ends the
 * upgrade `rejected` when someone removed it. Cancelling removes it at Microsoft (`removeScheduledChange`).
 */
import { isDuplicateKeyError } from '../db/duplicate-key';
import { loadAccount, loadCatalog, loadSubscription } from '../db/mappers';
import type { Models } from '../db/models';
import { billingAnchorOf, currentUnitPrice, microsoftItemFor, subscriptionOn, type EligibilityReason, type UpgradeRequest } from '../domain';
import { planRenewalUpgrade, renewalRequestProblem, renewedIntoTarget, type RenewalUpgradeQuote } from '../domain/renewal-upgrade';
import {
  VendorBusinessRejectionError,
  VendorPreconditionFailedError,
  type PartnerCenterClient,
  type ScheduledNextTermInstructions,
  type VendorSubscription,
} from '../partner-center';
import type { UpgradeActor } from './deps';
import { UpgradeError, upgradeNotFound } from './errors';
import { loadPlanningInputs, type PlanningInputs } from './planning-inputs';
import { ineligible, type PlanningDeps } from './start';

/**
 * Plans an upgrade at renewal for `actor` on `now`: the request's shape (422 INVALID_SCHEDULE naming the field and the
 * rule), our rules, Microsoft's scheduled eligibilities when Partner Center is configured (503 when it is silent), the
 * next term's price. Throws the refusal with every reason.
 */
export async function planAtRenewal(deps: PlanningDeps, actor: UpgradeActor | undefined, request: UpgradeRequest, now: Date, ownUpgradeId?: string) {
  const problem = renewalRequestProblem(request);
  if (problem) throw new UpgradeError('INVALID_SCHEDULE', problem.message, { field: problem.field, rule: problem.rule });
  const inputs = await loadPlanningInputs(deps, request, {
    ...(actor ? { mayActOnAccount: (accountId: string) => actor.mayActOnAccount(accountId) } : {}),
    now,
    ...(ownUpgradeId ? { ownUpgradeId } : {}),
  });
  if (!inputs.found) throw upgradeNotFound(`Subscription ${request.sourceSubscriptionId}`);
  let microsoftSchedulesTarget: boolean | undefined;
  if (deps.microsoftEligibility) {
    let answer;
    try {
      answer = await deps.microsoftEligibility.get(inputs.sourceAccount.tenantId, inputs.source.externalId, 'scheduled');
    } catch (error) {
      throw new UpgradeError('VENDOR_UNAVAILABLE', `Partner Center did not give its scheduled eligibility verdict (${(error as Error).name}); try again later`);
    }
    const item = microsoftItemFor(answer, request.targetProductId);
    microsoftSchedulesTarget = item !== undefined && (item.transitionTypes.length === 0 || item.transitionTypes.some((entry) => entry.eligible));
  }
  const result = planRenewalUpgrade({
    request,
    source: inputs.source,
    sourceAccount: inputs.sourceAccount,
    catalog: inputs.catalog,
    now: now.toISOString(),
    policy: deps.policy,
    ...(actor ? { caller: actor } : {}),
    busySubscriptionIds: inputs.heldByOthers.keys(),
    ...(microsoftSchedulesTarget === undefined ? {} : { microsoftSchedulesTarget }),
  });
  // Refused as a start is: another upgrade running on the source alone is a conflict naming it (409).
  if (!result.ok) throw ineligible(result.reasons, inputs);
  return { inputs, quote: result.quote };
}

/** What the workflow's activities need: the database, Partner Center, the clock. */
export interface RenewalUpgradeDeps {
  models: Models;
  vendor: Pick<PartnerCenterClient, 'getSubscription' | 'updateRenewalSettings'>;
  clock: () => Date;
}

interface RenewalContext {
  upgradeId: string;
  status: string;
  renewal: RenewalUpgradeQuote;
  sourceSubscriptionId: string;
  tenantId: string;
  vendorSubscriptionId: string;
  /** The scheduled change was written at Microsoft (the record's step). */
  written: boolean;
}

async function renewalContextOf(deps: RenewalUpgradeDeps, upgradeId: string): Promise<RenewalContext | undefined> {
  const record = await deps.models.upgrades.findById(upgradeId).lean();
  if (!record?.renewal) throw new UpgradeError('NOT_SCHEDULED', `upgrade ${upgradeId} is not an upgrade at renewal`);
  const { sourceSubscriptionId } = record.request as UpgradeRequest;
  const [source, account] = await Promise.all([loadSubscription(deps.models, sourceSubscriptionId), loadAccount(deps.models, record.accountId)]);
  if (!source || !account) return undefined;
  return {
    upgradeId,
    status: record.status,
    renewal: record.renewal as RenewalUpgradeQuote,
    sourceSubscriptionId,
    tenantId: account.tenantId,
    vendorSubscriptionId: source.externalId,
    written: Boolean((record.steps as Record<string, unknown> | undefined)?.written_to_microsoft),
  };
}

/** Microsoft's scheduled change for this renewal: the target's catalog item, its term and billing as Microsoft has them. */
function instructionsFor(renewal: RenewalUpgradeQuote, current: VendorSubscription): ScheduledNextTermInstructions {
  const [productId = '', skuId = '', availabilityId = ''] = renewal.targetProductId.split(':');
  return { product: { productId, skuId, availabilityId, billingCycle: current.billingCycle, termDuration: current.termDuration }, quantity: renewal.quantity };
}

const sameCatalogItem = (left: string, right: string) => left.toLowerCase() === right.toLowerCase();

/** The subscription at Microsoft carries this upgrade's change (the target's catalog item, the seats). */
function carriesChange(current: VendorSubscription, renewal: RenewalUpgradeQuote): boolean {
  const instructions = current.scheduledNextTermInstructions;
  if (!instructions) return false;
  const { productId, skuId, availabilityId } = instructions.product;
  return sameCatalogItem(`${productId}:${skuId}:${availabilityId}`, renewal.targetProductId) && instructions.quantity === renewal.quantity;
}

/** Reads the subscription at Microsoft and PATCHes it; a 412 (changed since read) reads it again, a few times. */
async function patchAtMicrosoft(
  deps: RenewalUpgradeDeps,
  context: RenewalContext,
  change: (current: VendorSubscription) => Parameters<PartnerCenterClient['updateRenewalSettings']>[2] | undefined,
): Promise<VendorSubscription> {
  for (let attempt = 1; ; attempt++) {
    const current = await deps.vendor.getSubscription(context.tenantId, context.vendorSubscriptionId, { upgradeId: context.upgradeId });
    const settings = change(current);
    if (!settings) return current;
    try {
      return await deps.vendor.updateRenewalSettings(context.tenantId, current, settings, { upgradeId: context.upgradeId });
    } catch (error) {
      if (error instanceof VendorPreconditionFailedError && attempt < 3) continue;
      throw error;
    }
  }
}

/**
 * Writes the upgrade as the source's scheduled change at Microsoft (auto-renew on, which Microsoft requires), marks
 * the local source so that its renewal waits for the upgrade, and records the step. Idempotent: a change already
 * there is not written again. Microsoft refusing it (400) is the upgrade's rejection, with Microsoft's reason.
 */
export async function writeScheduledChange(
  deps: RenewalUpgradeDeps,
  upgradeId: string,
): Promise<{ ok: true; autoRenewTurnedOn: boolean } | { ok: false; reasons: EligibilityReason[] }> {
  const context = await renewalContextOf(deps, upgradeId);
  if (!context) return { ok: false, reasons: [{ code: 'SOURCE_NOT_ACTIVE', message: 'the source subscription or its account no longer exists' }] };
  const { renewal } = context;
  // Written once: a later run of the upgrade (a reset, a re-started workflow) must not put back a change someone removed.
  if (context.written) return { ok: true, autoRenewTurnedOn: false };
  let autoRenewWasOff = renewal.turnsAutoRenewOn;
  try {
    await patchAtMicrosoft(deps, context, (current) => {
      if (carriesChange(current, renewal) && current.autoRenewEnabled !== false) return undefined;
      if (current.autoRenewEnabled === false) autoRenewWasOff = true;
      return { autoRenewEnabled: true, scheduledNextTermInstructions: instructionsFor(renewal, current) };
    });
  } catch (error) {
    if (!(error instanceof VendorBusinessRejectionError)) throw error;
    return {
      ok: false,
      reasons: [
        {
          code: 'VENDOR_NOT_ELIGIBLE',
          message: `Microsoft refused the scheduled change: ${error.description}`,
          details: { ...(error.code === undefined ? {} : { microsoftCode: error.code }), description: error.description },
        },
      ],
    };
  }
  const at = deps.clock();
  await deps.models.subscriptions.updateOne(
    { _id: context.sourceSubscriptionId },
    { $set: { autoRenew: true, renewalUpgrade: { upgradeId, targetProductId: renewal.targetProductId, quantity: renewal.quantity } } },
  );
  await deps.models.upgrades.updateOne(
    { _id: upgradeId, status: 'scheduled' },
    {
      $set: {
        'steps.written_to_microsoft': {
          status: 'completed',
          at,
          detail: `scheduled change for the renewal on ${renewal.renewalDate}${autoRenewWasOff ? '; auto-renew turned on' : ''}`,
        },
      },
    },
  );
  return { ok: true, autoRenewTurnedOn: autoRenewWasOff };
}

/** Removes the local mark: the renewal no longer waits for this upgrade. */
export const unmarkRenewal = (models: Models, sourceSubscriptionId: string, upgradeId: string) =>
  models.subscriptions.updateOne({ _id: sourceSubscriptionId, 'renewalUpgrade.upgradeId': upgradeId }, { $unset: { renewalUpgrade: 1 } });

/**
 * Cancelling: removes this upgrade's scheduled change at Microsoft (a PATCH clearing it; auto-renew back off when the
 * upgrade turned it on) and the local mark. A change that is not ours (or gone) is left alone. Idempotent.
 */
export async function removeScheduledChange(deps: RenewalUpgradeDeps, upgradeId: string): Promise<void> {
  const context = await renewalContextOf(deps, upgradeId);
  if (!context) return;
  const { renewal } = context;
  await patchAtMicrosoft(deps, context, (current) =>
    carriesChange(current, renewal) ? { autoRenewEnabled: !renewal.turnsAutoRenewOn, scheduledNextTermInstructions: null } : undefined,
  );
  await unmarkRenewal(deps.models, context.sourceSubscriptionId, upgradeId);
  if (renewal.turnsAutoRenewOn) await deps.models.subscriptions.updateOne({ _id: context.sourceSubscriptionId }, { $set: { autoRenew: false } });
}

/**
 * On the renewal day: when Microsoft's scheduled change still stands (or Microsoft renewed into the target already),
 * the local subscription renews into the target — the next term, the target, the seats, the target's price on the
 * renewal day, no proration — written to its history once as its renewal, and the upgrade is `completed`. When the
 * change was removed (a mid-term change deletes every scheduled change), the mark goes, the subscription renews as it
 * is, and the reason is returned for the rejection. Idempotent.
 */
export async function renewIntoTarget(
  deps: RenewalUpgradeDeps,
  upgradeId: string,
  runAt: Date,
): Promise<{ ok: true } | { ok: false; reasons: EligibilityReason[] }> {
  const context = await renewalContextOf(deps, upgradeId);
  if (!context) return { ok: false, reasons: [{ code: 'SOURCE_NOT_ACTIVE', message: 'the source subscription or its account no longer exists' }] };
  if (context.status === 'completed') return { ok: true };
  if (context.status !== 'scheduled') {
    // Ended already (an immediate upgrade replaced it): the same ending, its reasons as recorded.
    const record = await deps.models.upgrades.findById(upgradeId, { error: 1 }).lean();
    const reasons = ((record?.error as { details?: { reasons?: EligibilityReason[] } } | null)?.details?.reasons ?? []) as EligibilityReason[];
    return { ok: false, reasons };
  }
  const { renewal, sourceSubscriptionId } = context;
  const { models } = deps;
  const source = await loadSubscription(models, sourceSubscriptionId);
  if (source?.renewalUpgrade?.upgradeId === upgradeId) {
    const current = await deps.vendor.getSubscription(context.tenantId, context.vendorSubscriptionId, { upgradeId });
    const renewedAtMicrosoft = sameCatalogItem(current.offerId, renewal.targetProductId) && (current.commitmentEndDate ?? '').slice(0, 10) > source.termEnd;
    if (!carriesChange(current, renewal) && !renewedAtMicrosoft) {
      await unmarkRenewal(models, sourceSubscriptionId, upgradeId);
      return {
        ok: false,
        reasons: [
          {
            code: 'SCHEDULED_CHANGE_REMOVED',
            message: `Microsoft's scheduled change of subscription ${context.vendorSubscriptionId} into ${renewal.targetProductId} was removed before the renewal on ${renewal.renewalDate} (the subscription was changed mid-term); it renews as it is`,
          },
        ],
      };
    }
    const [catalog, account] = await Promise.all([loadCatalog(models), loadAccount(models, source.accountId)]);
    const price = account
      ? currentUnitPrice({
          catalog,
          account,
          productId: renewal.targetProductId,
          term: source.term,
          billingFrequency: source.billingFrequency,
          currency: source.currency,
          date: renewal.renewalDate,
        })
      : undefined;
    const renewed = subscriptionOn(
      {
        ...renewedIntoTarget(source, {
          ...renewal,
          unitPrice: price?.unitPrice ?? renewal.unitPrice,
          ...(price?.promotion ? { promotionId: price.promotion.promotionId } : {}),
        }),
        billingAnchorDate: billingAnchorOf(source),
      },
      renewal.termStart,
    );
    try {
      await models.historyEntries.create({
        _id: `renewal:${source.id}:${renewed.termStart}`,
        subscriptionId: source.id,
        upgradeId,
        event: 'renewed',
        at: runAt.toISOString(),
        description: `term renewed into ${renewal.targetProductId} by the upgrade at renewal ${upgradeId}: ${renewed.termStart} – ${renewed.termEnd}, ${renewed.quantity} seats at ${renewed.unitPrice} per seat per cycle`,
        before: { productId: source.productId, quantity: source.quantity, termStart: source.termStart, termEnd: source.termEnd, unitPrice: source.unitPrice },
        after: {
          productId: renewed.productId,
          quantity: renewed.quantity,
          termStart: renewed.termStart,
          termEnd: renewed.termEnd,
          unitPrice: renewed.unitPrice,
        },
      });
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
    // The first cycle of a renewed term is a whole one: no `cycleDays` (stored subscriptions never carry it).
    const { id: _id, renewalUpgrade: _mark, cycleDays: _days, ...fields } = renewed;
    const dropped = ['promotionId', 'protectedPrice'].filter((field) => !(field in fields));
    await models.subscriptions.updateOne(
      { _id: source.id, 'renewalUpgrade.upgradeId': upgradeId },
      { $set: fields, $unset: Object.fromEntries([['renewalUpgrade', 1], ...dropped.map((field) => [field, 1])]) },
    );
  }
  await models.upgrades.updateOne(
    { _id: upgradeId, status: 'scheduled' },
    {
      $set: {
        status: 'completed',
        completedAt: runAt,
        upgradeDate: renewal.renewalDate,
        subscriptionsTouched: [sourceSubscriptionId],
        'steps.renewed': { status: 'completed', at: runAt, detail: `renewed into ${renewal.targetProductId} on ${renewal.renewalDate}, no proration` },
      },
    },
  );
  await models.scheduledUpgradeSlots.deleteOne({ _id: sourceSubscriptionId, upgradeId });
  return { ok: true };
}

/** One target of upgrade-options at renewal: its verdict and the next term's price (nothing prorated). */
export interface RenewalTargetOption {
  productId: string;
  name: string;
  newSubscriptionUnitPrice?: number;
  toNewSubscription: {
    eligible: boolean;
    reasons: EligibilityReason[];
    pricePreview?: { credit: 0; debit: 0; quote: ReturnType<typeof renewalQuoteBreakdown>; renewal: RenewalUpgradeQuote };
  };
  existingDestinations: [];
}

/** An upgrade at renewal bills nothing of its own: the renewal bills the next term as any renewal does. */
export const renewalQuoteBreakdown = (currency: string) => ({ currency, totalFees: 0, taxTotal: 0, refund: 0, total: 0 });

/**
 * Upgrade-options at renewal: every target our catalog or Microsoft's scheduled eligibilities offer the source, each
 * judged as `planRenewalUpgrade` judges a request for the whole subscription (`quantity` seats next term), with the
 * next term's price. Microsoft not answering: the verdicts are ours alone (`microsoftVerdict: 'unavailable'`).
 */
export async function renewalUpgradeOptions(
  deps: PlanningDeps,
  inputs: Pick<PlanningInputs, 'source' | 'sourceAccount' | 'catalog' | 'heldByOthers'>,
  caller: UpgradeActor,
  now: Date,
  quantity?: number,
): Promise<{ targets: RenewalTargetOption[]; microsoftVerdict: 'applied' | 'unavailable' | 'not_configured' }> {
  const { source, sourceAccount, catalog } = inputs;
  let scheduled: Awaited<ReturnType<NonNullable<PlanningDeps['microsoftEligibility']>['get']>> | undefined;
  let microsoftVerdict: 'applied' | 'unavailable' | 'not_configured' = 'not_configured';
  if (deps.microsoftEligibility) {
    try {
      scheduled = await deps.microsoftEligibility.get(sourceAccount.tenantId, source.externalId, 'scheduled');
      microsoftVerdict = 'applied';
    } catch {
      microsoftVerdict = 'unavailable';
    }
  }
  const candidates = new Set(catalog.upgradeTargets(source.productId).map((product) => product.productId));
  for (const item of scheduled ?? []) if (catalog.get(item.catalogItemId)) candidates.add(catalog.get(item.catalogItemId)!.productId);
  const targets = [...candidates].map((productId): RenewalTargetOption => {
    const item = scheduled ? microsoftItemFor(scheduled, productId) : undefined;
    const result = planRenewalUpgrade({
      request: { sourceSubscriptionId: source.id, targetProductId: productId, quantity: quantity ?? source.quantity, destination: { type: 'new' } },
      source,
      sourceAccount,
      catalog,
      now: now.toISOString(),
      ...(deps.policy ? { policy: deps.policy } : {}),
      caller,
      busySubscriptionIds: inputs.heldByOthers.keys(),
      ...(scheduled
        ? { microsoftSchedulesTarget: item !== undefined && (item.transitionTypes.length === 0 || item.transitionTypes.some((entry) => entry.eligible)) }
        : {}),
    });
    return {
      productId,
      name: catalog.nameOf(productId),
      ...(result.ok ? { newSubscriptionUnitPrice: result.quote.unitPrice } : {}),
      toNewSubscription: result.ok
        ? { eligible: true, reasons: [], pricePreview: { credit: 0, debit: 0, quote: renewalQuoteBreakdown(result.quote.currency), renewal: result.quote } }
        : { eligible: false, reasons: result.reasons },
      existingDestinations: [],
    };
  });
  return { targets, microsoftVerdict };
}
