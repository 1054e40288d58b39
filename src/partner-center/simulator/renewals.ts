/**
 * Scheduled changes and renewals, as Microsoft documents them
 * (https://learn.microsoft.com/en-us/partner-center/developer/create-scheduled-changes): a PATCH of the subscription
 * carrying its ETag in `If-Match` sets `autoRenewEnabled` and `scheduledNextTermInstructions`; a stale ETag is 412;
 * scheduling needs auto-renew on and a target the scheduled eligibilities list; the renewal starts at 00:00 UTC the day
 * after the term's last day and applies the instructions (product, quantity, term, billing cycle), then clears them;
 * any immediate (mid-term) change deletes every scheduled change. Renewals happen when the simulator's clock passes
 * them (a read, or `POST /admin/clock`). Self-contained: the simulator shares no code with the service it tests.
 */
import { z } from 'zod';
import { upgradeTargetsOf } from './eligibility';
import { ORDER_ERROR, partnerCenterError } from './http-errors';
import { idKey, type ScheduledNextTermInstructions, type SimulatedSubscription, type SimulatorState } from './state';

const DAY_MS = 86_400_000;

/** The subscription's ETag: changes whenever the resource does. */
export const etagOf = (subscription: SimulatedSubscription): string => `"${idKey(subscription.id)}:${subscription.version}"`;

const instructionsSchema = z
  .object({
    product: z.object({
      productId: z.string().min(1),
      skuId: z.string().min(1),
      availabilityId: z.string().min(1),
      billingCycle: z.string().min(1),
      termDuration: z.string().regex(/^P\d+[MY]$/),
    }),
    quantity: z.number().int().min(1),
  })
  .nullable();

/** The fields of the whole resource a PATCH may change; the rest of the body is the resource as read, ignored. */
const patchBodySchema = z.object({
  autoRenewEnabled: z.boolean().optional(),
  scheduledNextTermInstructions: instructionsSchema.optional(),
});

const catalogItemIdOf = (instructions: ScheduledNextTermInstructions) =>
  `${instructions.product.productId}:${instructions.product.skuId}:${instructions.product.availabilityId}`;

/** PATCH of a subscription: If-Match must name the current ETag (412 otherwise); returns the updated resource. */
export function patchSubscription(state: SimulatorState, subscription: SimulatedSubscription, ifMatch: string | undefined, rawBody: unknown): void {
  if (ifMatch === undefined || ifMatch !== etagOf(subscription)) {
    throw partnerCenterError(412, 'PreconditionFailed', 'The subscription was changed since it was read (If-Match does not match its ETag).');
  }
  const parsed = patchBodySchema.safeParse(rawBody);
  if (!parsed.success)
    throw partnerCenterError(400, ORDER_ERROR.invalidInput, `Invalid subscription: ${parsed.error.issues.map((issue) => issue.path.join('.')).join(', ')}.`);
  const autoRenewEnabled = parsed.data.autoRenewEnabled ?? subscription.autoRenewEnabled;
  const instructions =
    parsed.data.scheduledNextTermInstructions === undefined ? subscription.scheduledNextTermInstructions : parsed.data.scheduledNextTermInstructions;
  if (instructions !== null) {
    if (subscription.status !== 'active')
      throw partnerCenterError(400, ORDER_ERROR.subscriptionIsNotActive, 'Only an active subscription can have scheduled changes.');
    if (!autoRenewEnabled) throw partnerCenterError(400, ORDER_ERROR.invalidInput, 'Scheduled changes need auto-renew to be enabled.');
    const target = catalogItemIdOf(instructions);
    const sameProduct = idKey(target) === idKey(subscription.offerId);
    if (!sameProduct && !upgradeTargetsOf(state, subscription).some((product) => idKey(product.catalogItemId) === idKey(target))) {
      throw partnerCenterError(400, ORDER_ERROR.invalidOfferId, `${target} is not eligible as a scheduled change of ${subscription.offerId}.`);
    }
  }
  subscription.autoRenewEnabled = autoRenewEnabled;
  subscription.scheduledNextTermInstructions = instructions;
  subscription.version += 1;
  if (parsed.data.scheduledNextTermInstructions) {
    const written = state.counters.scheduledChangesWrittenBySubscription;
    written[idKey(subscription.id)] = (written[idKey(subscription.id)] ?? 0) + 1;
  }
}

/** An immediate change of the subscription: every scheduled change is deleted (Microsoft's page above). */
export function deleteScheduledChanges(subscription: SimulatedSubscription): void {
  if (subscription.scheduledNextTermInstructions === null) return;
  subscription.scheduledNextTermInstructions = null;
  subscription.version += 1;
}

function addMonths(isoDate: string, months: number): Date {
  const date = new Date(`${isoDate.slice(0, 10)}T00:00:00.000Z`);
  const day = date.getUTCDate();
  date.setUTCDate(1);
  date.setUTCMonth(date.getUTCMonth() + months);
  const lastDay = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 0)).getUTCDate();
  date.setUTCDate(Math.min(day, lastDay));
  return date;
}

function termMonthsOf(termDuration: string): number {
  const match = /^P(\d+)([MY])$/i.exec(termDuration);
  return match === null ? 12 : Number(match[1]) * (match[2]?.toUpperCase() === 'Y' ? 12 : 1);
}

/** Renews (or expires) every active subscription whose renewal instant (00:00 UTC after its last day) has passed. */
export function renewDueSubscriptions(state: SimulatorState, now: number): void {
  for (const subscription of state.subscriptions.values()) {
    for (;;) {
      if (subscription.status !== 'active') break;
      const renewalAt = Date.parse(`${subscription.commitmentEndDate.slice(0, 10)}T00:00:00.000Z`) + DAY_MS;
      if (Number.isNaN(renewalAt) || now < renewalAt) break;
      if (!subscription.autoRenewEnabled) {
        subscription.status = 'expired';
        subscription.version += 1;
        break;
      }
      const instructions = subscription.scheduledNextTermInstructions;
      if (instructions !== null) {
        subscription.offerId = catalogItemIdOf(instructions);
        subscription.friendlyName = state.product(subscription.offerId)?.title ?? subscription.friendlyName;
        subscription.quantity = instructions.quantity;
        subscription.termDuration = instructions.product.termDuration;
        subscription.billingCycle = instructions.product.billingCycle;
        subscription.scheduledNextTermInstructions = null;
      }
      const termStart = new Date(renewalAt).toISOString().slice(0, 10);
      subscription.effectiveStartDate = termStart;
      subscription.commitmentEndDate = new Date(addMonths(termStart, termMonthsOf(subscription.termDuration)).getTime() - DAY_MS).toISOString().slice(0, 10);
      subscription.cancellationAllowedUntilDate = null;
      subscription.version += 1;
      state.counters.renewals += 1;
    }
  }
}
