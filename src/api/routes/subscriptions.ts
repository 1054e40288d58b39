import { randomBytes, randomUUID } from 'node:crypto';
import { toSubscription } from '../../db/mappers';
import { findByIds } from '../../db/find-by-ids';
import type { SubscriptionDocument } from '../../db/models';
import {
  CANCELLATION_WINDOW_HOURS,
  addHours,
  cycleAt,
  cycleHintProblems,
  evaluateUpgradeOptions,
  planUpgrade,
  withMicrosoftOptions,
  utcDateOf,
  type Subscription,
  type UpgradeRequest,
} from '../../domain';
import { upgradeUseCaseDepsOf, type ResolvedDeps } from '../deps';
import { ApiError, notFound, validationError, type FieldError } from '../errors';
import { defineRoute, type AnyRoute } from '../routing';
import { idParamsSchema } from '../schemas/common';
import {
  historyListSchema,
  subscriptionImportResultSchema,
  subscriptionImportSchema,
  subscriptionListQuerySchema,
  subscriptionListSchema,
  subscriptionSchema,
} from '../schemas/subscriptions';
import { upgradeOptionsQuerySchema, upgradeOptionsSchema } from '../schemas/upgrades';
import { loadUpgradeOptionsInputs } from '../../upgrades/planning-inputs';
import { renewalUpgradeOptions } from '../../upgrades/renewal-upgrades';
import { UpgradeError } from '../../upgrades/errors';
import { dueInstantOf, requireSchedulableDate, scheduledUpgradeOn } from '../../upgrades/schedule';
import { scheduledChangeAtMicrosoft } from '../../upgrades/microsoft-scheduled-change-warning';
import { httpErrorOf } from '../upgrade-errors';
import { lockHoldersOf } from '../../db/subscription-locks';
import { accountsOf, subscriptionsOnDate } from '../../db/subscriptions-on-date';
import { listPage } from '../listing';
import { ensureVisible, subscriptionView } from '../views';

type LeanSubscription = SubscriptionDocument & { _id: unknown };

export function subscriptionRoutes(deps: ResolvedDeps): AnyRoute[] {
  const { models } = deps;
  const upgrades = upgradeUseCaseDepsOf(deps);
  /** The documents as they stand on the API's clock (renewals and expiries written once), as response bodies. */
  async function viewsOnToday(docs: LeanSubscription[], lockedBy: ReadonlyMap<string, string>) {
    const [catalog, accountsById] = await Promise.all([deps.catalog.get(), accountsOf(models, docs)]);
    const subscriptions = await subscriptionsOnDate(models, docs.map(toSubscription), { now: deps.clock(), catalog, accountsById, lockedBy });
    return subscriptions.map((subscription) => subscriptionView(subscription, lockedBy));
  }
  return [
    defineRoute({
      method: 'post',
      path: '/v1/subscriptions/import',
      operationId: 'importSubscriptions',
      tag: 'Subscriptions',
      summary: 'Import existing subscriptions with their dates and prices',
      description:
        'Upserts by `id` (generated when absent). `cancellationWindowEndsAt` is `purchasedAt` + 168 h. Charge cycles are derived from the term and `billingAnchorDate` (default `termStart`); `chargeStart`/`chargeEnd` are optional hints, refused (400 naming the field) unless they are one of the derived cycles. `autoRenew` defaults to true. A subscription held by a running upgrade is refused (409).',
      access: 'operator',
      body: subscriptionImportSchema,
      responses: { 200: { description: 'Imported', schema: subscriptionImportResultSchema } },
      errors: [409],
      async handler({ body }) {
        const items = body.subscriptions;
        const problems: FieldError[] = [];
        const ids = items.map((item) => item.id ?? `sub_${randomBytes(9).toString('base64url')}`);
        const seen = new Set<string>();
        ids.forEach((id, index) => {
          if (seen.has(id)) problems.push({ path: `subscriptions.${index}.id`, message: `duplicate id ${id} in this import` });
          seen.add(id);
        });
        const [accounts, products] = await Promise.all([
          findByIds(
            models.accounts,
            items.map((item) => item.accountId),
            { _id: 1 },
          ),
          findByIds(
            models.products,
            items.map((item) => item.productId),
            { _id: 1 },
          ),
        ]);
        const unknownAccounts = new Set(accounts.missing);
        const unknownProducts = new Set(products.missing);
        items.forEach((item, index) => {
          if (unknownAccounts.has(item.accountId)) problems.push({ path: `subscriptions.${index}.accountId`, message: `unknown account ${item.accountId}` });
          if (unknownProducts.has(item.productId))
            problems.push({ path: `subscriptions.${index}.productId`, message: `product ${item.productId} is not in the catalog` });
        });
        if (problems.length > 0) throw validationError(problems);

        // Cycles are derived from the term and the anchor; an imported cycle is only a hint, refused when it is not one
        // of the derived cycles (docs/billing-cycles.md).
        const withAnchors = items.map((item) => ({ ...item, billingAnchorDate: item.billingAnchorDate ?? item.termStart }));
        withAnchors.forEach((item, index) => {
          for (const problem of cycleHintProblems(item, item)) problems.push({ path: `subscriptions.${index}.${problem.field}`, message: problem.message });
        });
        if (problems.length > 0) throw validationError(problems);

        const today = utcDateOf(deps.clock());
        const subscriptions: Subscription[] = withAnchors.map(({ chargeStart: _hintStart, chargeEnd: _hintEnd, ...item }, index) => {
          // Stored with the cycle of the import day, for people reading the collection; every read derives its own.
          const cycle = cycleAt(item, today);
          return {
            ...item,
            id: ids[index]!,
            externalId: item.externalId ?? randomUUID(),
            chargeStart: cycle.chargeStart,
            chargeEnd: cycle.chargeEnd,
            cancellationWindowEndsAt: addHours(item.purchasedAt, CANCELLATION_WINDOW_HOURS),
          };
        });
        // Never overwrite a subscription an upgrade holds: its changes are in flight.
        const held = await lockHoldersOf(models, ids);
        const refused = ids.filter((id) => held.has(id));
        await Promise.all(
          subscriptions
            .filter((subscription) => !held.has(subscription.id))
            .map(async (subscription) => {
              const { id, partnerId, promotionId, autoRenew, ...fields } = subscription;
              const optional = { partnerId, promotionId, autoRenew };
              const set = { ...fields, ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)) };
              const unset = Object.fromEntries(
                Object.entries(optional)
                  .filter(([, v]) => v === undefined)
                  .map(([k]) => [k, 1]),
              );
              await models.subscriptions.updateOne({ _id: id }, { $set: set, ...(Object.keys(unset).length > 0 ? { $unset: unset } : {}) }, { upsert: true });
            }),
        );
        if (refused.length > 0) {
          throw new ApiError(409, 'SUBSCRIPTION_LOCKED', `Subscriptions held by a running upgrade were not re-imported: ${refused.join(', ')}`, {
            subscriptionIds: refused,
          });
        }
        await deps.onSubscriptionsImported?.(subscriptions);
        const docs = (await findByIds(models.subscriptions, ids)).found as LeanSubscription[];
        const lockedBy = await lockHoldersOf(models, ids);
        const byId = new Map((await viewsOnToday(docs, lockedBy)).map((view) => [view.id, view]));
        return { status: 200, body: { subscriptions: ids.flatMap((id) => (byId.has(id) ? [byId.get(id)!] : [])) } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/subscriptions',
      operationId: 'listSubscriptions',
      tag: 'Subscriptions',
      summary: 'List subscriptions (of one account, or of every account the key may see)',
      access: 'authenticated',
      query: subscriptionListQuerySchema,
      responses: { 200: { description: 'Subscriptions, by id', schema: subscriptionListSchema } },
      errors: [404],
      async handler({ query, caller }) {
        const { page, nextCursor } = await listPage(models, models.subscriptions, caller, query);
        const lockedBy = await lockHoldersOf(
          models,
          page.map((doc) => String(doc._id)),
        );
        return {
          status: 200,
          body: { subscriptions: await viewsOnToday(page as LeanSubscription[], lockedBy), ...(nextCursor ? { nextCursor } : {}) },
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/subscriptions/:id',
      operationId: 'getSubscription',
      tag: 'Subscriptions',
      summary: 'One subscription',
      access: 'authenticated',
      params: idParamsSchema,
      responses: { 200: { description: 'The subscription', schema: subscriptionSchema } },
      errors: [404],
      async handler({ params, caller }) {
        const doc = ensureVisible(caller, (await models.subscriptions.findById(params.id).lean()) as LeanSubscription | null, `Subscription ${params.id}`);
        const [view] = await viewsOnToday([doc], await lockHoldersOf(models, [params.id]));
        return { status: 200, body: view! };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/subscriptions/:id/history',
      operationId: 'getSubscriptionHistory',
      tag: 'Subscriptions',
      summary: 'Every change an upgrade made to this subscription, oldest first',
      access: 'authenticated',
      params: idParamsSchema,
      responses: { 200: { description: 'History entries', schema: historyListSchema } },
      errors: [404],
      async handler({ params, caller }) {
        const doc = await models.subscriptions.findById(params.id, { accountId: 1 }).lean();
        ensureVisible(caller, doc, `Subscription ${params.id}`);
        const entries = await models.historyEntries.find({ subscriptionId: params.id }).sort({ at: 1, _id: 1 }).lean();
        return {
          status: 200,
          body: {
            entries: entries.map((entry) => ({
              id: String(entry._id),
              subscriptionId: entry.subscriptionId,
              upgradeId: entry.upgradeId ?? null,
              event: entry.event,
              at: entry.at,
              description: entry.description,
              before: entry.before ?? null,
              after: entry.after ?? null,
            })),
          },
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/subscriptions/:id/upgrade-options',
      operationId: 'getUpgradeOptions',
      tag: 'Subscriptions',
      summary: 'Every upgrade target with its verdict, quantity range, existing destinations and a price preview',
      description:
        "Verdicts are for `quantity` seats (default: all, a full upgrade). Each eligible choice carries the quote an upgrade would produce right now, or on `date` for an upgrade scheduled that day (422 `INVALID_SCHEDULE` for a day not after today or after the source's term).",
      access: 'authenticated',
      params: idParamsSchema,
      query: upgradeOptionsQuerySchema,
      responses: { 200: { description: 'Options', schema: upgradeOptionsSchema } },
      errors: [404, 422],
      async handler({ params, query, caller }) {
        const now = deps.clock();
        // The source's scheduled-upgrade slot is keyed by the id asked for: read in the first round with the source
        // (one round trip fewer), and shown only once the source is found and visible to the caller.
        const scheduledUpgradeRead = scheduledUpgradeOn(upgrades.models, params.id);
        scheduledUpgradeRead.catch(() => undefined);
        const context = await loadUpgradeOptionsInputs(upgrades, params.id, { mayActOnAccount: (accountId) => caller.mayActOnAccount(accountId), now });
        if (!context) throw notFound(`Subscription ${params.id}`);
        if (query.when === 'at_renewal') {
          if (query.date)
            throw httpErrorOf(
              new UpgradeError('INVALID_SCHEDULE', 'date and when=at_renewal exclude each other', { field: 'date', rule: 'not_with_at_renewal' }),
            );
          const renewal = await renewalUpgradeOptions(upgrades, context, caller, now, query.quantity);
          return {
            status: 200,
            body: {
              sourceSubscriptionId: context.source.id,
              sourceProductId: context.source.productId,
              scheduledUpgrade: (await scheduledUpgradeRead) ?? null,
              quantityRange: null,
              evaluatedQuantity: query.quantity ?? context.source.quantity,
              microsoftVerdict: renewal.microsoftVerdict,
              targets: renewal.targets,
            },
          };
        }
        // A day chosen for a scheduled upgrade: the verdicts and prices are those of that day.
        if (query.date) {
          try {
            requireSchedulableDate(query.date, now, context.source.termEnd, 'date');
          } catch (error) {
            throw httpErrorOf(error);
          }
        }
        const allSubscriptions = context.accountSubscriptions;
        // An immediate upgrade makes Microsoft delete the source's scheduled change: shown, read beside the verdict.
        const scheduledChangeRead = scheduledChangeAtMicrosoft(deps.vendorSubscriptionsForOptions, context.sourceAccount.tenantId, context.source.externalId);
        const shared = {
          source: context.source,
          sourceAccount: context.sourceAccount,
          catalog: context.catalog,
          now: (query.date ? dueInstantOf(query.date) : now).toISOString(),
          policy: upgrades.policy,
          caller,
          busySubscriptionIds: [...context.heldByOthers.keys()],
        };
        const local = evaluateUpgradeOptions({ ...shared, accountSubscriptions: allSubscriptions, ...(query.quantity ? { quantity: query.quantity } : {}) });
        // Microsoft's verdict joins ours; when Partner Center does not answer, the local verdict stands, flagged.
        let options = local;
        let microsoftVerdict: 'applied' | 'unavailable' | 'not_configured' = 'not_configured';
        if (upgrades.microsoftEligibility) {
          try {
            const answer = await upgrades.microsoftEligibility.get(context.sourceAccount.tenantId, context.source.externalId);
            options = withMicrosoftOptions(local, answer, (id) => allSubscriptions.find((subscription) => subscription.id === id)?.externalId);
            microsoftVerdict = 'applied';
          } catch (error) {
            deps.logger.warn({ err: error, subscriptionId: context.source.id }, 'upgrade-options: no eligibility verdict from Partner Center');
            microsoftVerdict = 'unavailable';
          }
        }
        const preview = (request: UpgradeRequest, destination?: Subscription) => {
          const result = planUpgrade({ ...shared, request, accountSubscriptions: allSubscriptions, ...(destination ? { destination } : {}) });
          return result.ok ? { credit: result.plan.credit.total, debit: result.plan.debit.total, quote: result.plan.quote } : undefined;
        };
        const quantity = options.evaluatedQuantity;
        const scheduledUpgrade = (await scheduledUpgradeRead) ?? null;
        const scheduledChange = await scheduledChangeRead;
        return {
          status: 200,
          body: {
            sourceSubscriptionId: options.sourceSubscriptionId,
            sourceProductId: context.source.productId,
            scheduledUpgrade,
            scheduledChangeAtMicrosoft: scheduledChange,
            quantityRange: options.quantityRange ?? null,
            evaluatedQuantity: quantity,
            microsoftVerdict,
            targets: options.targets.map((target) => {
              const base = { sourceSubscriptionId: context.source.id, targetProductId: target.productId, quantity };
              const newPreview = target.toNewSubscription.eligible ? preview({ ...base, destination: { type: 'new' } }) : undefined;
              return {
                ...target,
                toNewSubscription: { ...target.toNewSubscription, ...(newPreview ? { pricePreview: newPreview } : {}) },
                existingDestinations: target.existingDestinations.map((candidate) => {
                  const destination = allSubscriptions.find((s) => s.id === candidate.subscriptionId);
                  const pricePreview =
                    candidate.verdict.eligible && destination
                      ? preview({ ...base, destination: { type: 'existing', subscriptionId: candidate.subscriptionId } }, destination)
                      : undefined;
                  return { ...candidate, ...(pricePreview ? { pricePreview } : {}) };
                }),
              };
            }),
          },
        };
      },
    }),
  ];
}
