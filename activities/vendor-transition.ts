import { recordScheduledChangesBeforeTransition } from './scheduled-changes-kept';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { loadAccount, loadSubscription } from '../src/db/mappers';
import type { UpgradePlan } from '../src/domain/upgrade-plan';
import { vendorRequestIdFor } from '../src/temporal/upgrade-ids';
import {
  VendorAuthError,
  VendorBusinessRejectionError,
  VendorError,
  VendorNotFoundError,
  VendorResponseInvalidError,
  VendorThrottledError,
  VendorUnavailableError,
} from '../src/partner-center/errors';
import type { Transition, VendorSubscription } from '../src/partner-center/partner-center-schemas';
import {
  findMatchingTransition,
  type RequestedTransition,
  summarizeTransition,
  type TransitionProgress,
  transitionsMatchingRequest,
} from '../src/partner-center/transition-progress';
import type { UpgradeActivities, VendorOutcome, VendorRecord } from '../workflows/activity-contract';
import { FAILURE_TYPES } from '../workflows/failure-types';
import type { UpgradeActivityDeps } from './deps';
import { microsoftItemFor, microsoftReasons, transitionTypeAllowed } from '../src/domain/vendor-eligibility';
import { microsoftEligibilityOf } from '../src/partner-center/microsoft-eligibility';
import { expectedAfterConversion, readBackMismatches, type ReadBackMismatch } from './conversion-read-back';
import { findPlan, loadPlan } from './frozen-plans';
import { updateUpgradeRecord } from './upgrade-record';
import { vendorFailure } from './vendor-failures';
import { systemClock } from '../src/clock';
import { markTransitionSlotSent, waitForTransitionSlot } from '../src/partner-center/transition-limit';
import { decideVendorRequest } from '../src/db/vendor-request-decisions';

/** The vendor record as the activities know it: with the transition Partner Center answered. */
type RecordedTransition = VendorRecord<Transition>;

/**
 * A request written before it is sent, so that whatever happens to its answer, every later attempt (and an operator's
 * retry) knows a transition may exist and reuses its MS-RequestId instead of minting another.
 */
type SentRequest = Omit<RecordedTransition, 'transition' | 'outcome'> & {
  transition?: undefined;
  request: RequestedTransition;
  /** Set when an answer was lost: the next attempt settles against Microsoft before sending again. */
  answerLost?: boolean;
};

/** How far our clock and Microsoft's may disagree when a listed transition's start is compared with our send time. */
const CLOCK_SKEW_MS = 5 * 60_000;
/** How long after a lost answer Microsoft is given to show the transition it may have started. */
export const DEFAULT_SETTLING_DELAY_MS = 20_000;

const capitalised = (value: string) => value.charAt(0).toUpperCase() + value.slice(1);

/** Sleeps in slices of at most 10 s, heartbeating between them, so a lost worker is noticed within the heartbeat timeout. */
async function sleepHeartbeating(ms: number, details: unknown): Promise<void> {
  const context = Context.current();
  for (let left = ms; left > 0; left -= 10_000) {
    context.heartbeat(details);
    await context.sleep(Math.min(left, 10_000));
  }
}

/**
 * The outcome of a POST is unknown when no answer came (a time-out or a broken connection: no status) or when a 2xx
 * answer could not be read. Microsoft's POST is asynchronous and may have started the transition either way.
 */
function answerWasLost(error: unknown): boolean {
  if (error instanceof VendorResponseInvalidError) return true;
  return error instanceof VendorUnavailableError && error.status === undefined;
}

/**
 * An answer that says Microsoft started nothing (a business rejection, an unknown subscription, our credentials):
 * the request is finished, and the next one gets a new MS-RequestId ("a new one once any answer came back",
 * https://learn.microsoft.com/en-us/partner-center/developer/headers).
 */
function refusedWithoutStarting(error: unknown): boolean {
  return error instanceof VendorBusinessRejectionError || error instanceof VendorNotFoundError || error instanceof VendorAuthError;
}

/** Raised when only a human can tell whether Microsoft converted: the workflow must not report "nothing changed". */
export function vendorOutcomeUnknown(message: string, details: Record<string, unknown>): ApplicationFailure {
  return ApplicationFailure.create({ type: FAILURE_TYPES.vendorOutcomeUnknown, message, nonRetryable: true, details: [details] });
}

/**
 * What to POST, by Microsoft's transition eligibilities for the source, asked again now: its catalog item id for the
 * target (matched on product and SKU, since the availability id can change), and the planned transition type if
 * Microsoft allows it, else `transition_only` (e.g. conflicting services refuse the licence transfer; the seat step
 * then moves the licences through Microsoft Graph). A target Microsoft refuses outright is a final rejection.
 */
async function microsoftTerms(deps: UpgradeActivityDeps, customerTenantId: string, plan: UpgradePlan, upgradeId: string, earlier: unknown) {
  // A retry moments later (a 429 or 5xx on the POST) reuses the answer: asking again would spend the request budget
  // the POST needs, and under a one-request window the two calls would starve each other for ever.
  const recent = earlier as MicrosoftTerms | null | undefined;
  if (recent && deps.clock().getTime() - Date.parse(recent.askedAt) < MICROSOFT_TERMS_REUSE_MS) return recent;
  const answer = microsoftEligibilityOf(
    await deps.vendor.getTransitionEligibilities(customerTenantId, plan.vendor.fromSubscriptionId, 'immediate', { upgradeId }),
  );
  const productAndSku = (catalogItemId: string) => catalogItemId.split(':').slice(0, 2).join(':').toLowerCase();
  const item =
    microsoftItemFor(answer, plan.vendor.toCatalogItemId) ??
    answer.find((candidate) => productAndSku(candidate.catalogItemId) === productAndSku(plan.vendor.toCatalogItemId));
  const transitionType = transitionTypeAllowed(item, plan.vendor.transitionType);
  if (item === undefined || transitionType === undefined) {
    const reason = microsoftReasons(answer, plan.vendor.toCatalogItemId)[0];
    throw ApplicationFailure.create({
      type: 'VendorBusinessRejectionError',
      message: reason?.message ?? 'Microsoft refuses this transition',
      nonRetryable: true,
      details: [reason ?? null],
    });
  }
  if (transitionType !== plan.vendor.transitionType) {
    deps.logger.info(
      { upgradeId, planned: plan.vendor.transitionType, transitionType },
      'Microsoft refuses the licence transfer; transition only, licences moved through Graph',
    );
  }
  const terms: MicrosoftTerms = { toCatalogItemId: item.catalogItemId, transitionType, askedAt: deps.clock().toISOString() };
  await updateUpgradeRecord(deps, upgradeId, { set: { vendorTerms: terms } });
  return terms;
}

interface MicrosoftTerms {
  toCatalogItemId: string;
  transitionType: UpgradePlan['vendor']['transitionType'];
  askedAt: string;
}
const MICROSOFT_TERMS_REUSE_MS = 10 * 60_000;

export function createVendorTransitionActivities(deps: UpgradeActivityDeps) {
  const settlingDelayMs = deps.vendorPolling.settlingDelayMs ?? DEFAULT_SETTLING_DELAY_MS;

  async function vendorRecordOf(upgradeId: string): Promise<RecordedTransition | SentRequest | undefined> {
    const upgrade = await deps.models.upgrades.findById(upgradeId, { vendor: 1 }).lean();
    return (upgrade?.vendor ?? undefined) as RecordedTransition | SentRequest | undefined;
  }

  /**
   * Waits for a slot of the tenant's limit on transition POSTs (src/partner-center/transition-limit.ts), on the real
   * clock whatever the activities' clock (Partner Center counts real time), heartbeating; a cancellation ends the wait.
   */
  async function waitForSlot(upgradeId: string, beforeLastCheck: () => Promise<void>): Promise<{ sent(): Promise<void> }> {
    const limit = deps.transitionLimit;
    if (!limit) {
      await beforeLastCheck();
      return { sent: async () => undefined };
    }
    const slot = await waitForTransitionSlot(deps.models, limit, systemClock, (ms) => sleepHeartbeating(ms, { waitingForSlot: true }), beforeLastCheck);
    return {
      sent: async () => {
        const sentAt = systemClock();
        if (slot.at < sentAt.getTime() - 1_000) deps.logger.warn({ upgradeId, slot }, 'the transition POST leaves more than a second after its slot');
        await markTransitionSlotSent(deps.models, limit, slot, sentAt).catch((error: unknown) =>
          deps.logger.warn({ err: error }, 'could not mark the slot sent'),
        );
      },
    };
  }

  /** For plans frozen before they carried the tenant: the source's account's. */
  async function tenantOfSource(sourceSubscriptionId: string): Promise<string> {
    const source = await loadSubscription(deps.models, sourceSubscriptionId);
    const account = source && (await loadAccount(deps.models, source.accountId));
    if (!account) throw ApplicationFailure.nonRetryable(`source ${sourceSubscriptionId} or its account vanished`, FAILURE_TYPES.upgradeDataInconsistent);
    return account.tenantId;
  }

  /**
   * A vendor call whose 401/403/404 gets one more try (the client dropped the cached token on 401, so the second try
   * carries a fresh one) before the error stands.
   */
  async function withOneMoreTry<Result>(call: () => Promise<Result>): Promise<Result> {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof VendorAuthError || error instanceof VendorNotFoundError)) throw error;
      deps.logger.warn({ err: error }, 'Partner Center answered %s; trying once more with a fresh token', error.status);
      return call();
    }
  }

  /** A vendor subscription, or undefined when Partner Center does not know it (404 after one more try). */
  async function readVendorSubscription(customerTenantId: string, vendorSubscriptionId: string, upgradeId: string) {
    try {
      return await withOneMoreTry(() => deps.vendor.getSubscription(customerTenantId, vendorSubscriptionId, { upgradeId }));
    } catch (error) {
      if (error instanceof VendorNotFoundError) return undefined;
      throw error;
    }
  }

  /**
   * The read-back after a completed conversion (conversion-read-back.ts, docs/partner-center.md "Read-back"): the
   * source and destination as Partner Center shows them, compared with what the upgrade is about to apply locally.
   * Microsoft may show a change a moment late, so a difference is read again until the settling delay has passed; one
   * that stays is recorded and raised as an unknown outcome (the upgrade waits in needs_attention with it), never
   * overwritten. Subscriptions that cannot be read (our credentials) are logged and recorded: the conversion itself
   * is reported completed, so the upgrade goes on.
   */
  async function readBackConversion(upgradeId: string, record: RecordedTransition, toSubscriptionId: string | undefined, identity: Record<string, unknown>) {
    const plan = await findPlan(deps, upgradeId, 'maybeBeforeConversion');
    if (!plan) return;
    const expected = expectedAfterConversion(plan, record.transition.toCatalogItemId, toSubscriptionId);
    const startedAt = deps.clock().getTime();
    for (let interval = deps.vendorPolling.initialIntervalMs; ; interval = Math.min(interval * 2, deps.vendorPolling.maxIntervalMs)) {
      let mismatches: ReadBackMismatch[];
      try {
        const found: Array<VendorSubscription | undefined> = [];
        // One after the other: the reads share the request budget with everything else the partner does.
        for (const wanted of expected) found.push(await readVendorSubscription(record.customerTenantId, wanted.vendorSubscriptionId, upgradeId));
        mismatches = readBackMismatches(expected, found);
      } catch (error) {
        if (!(error instanceof VendorError)) throw error;
        if (error.retryable) {
          // Throttled or unavailable: wait (at least Retry-After) and read again, as polling does.
          if (error instanceof VendorThrottledError && error.retryAfterMs) interval = Math.max(interval, error.retryAfterMs);
          await sleepHeartbeating(interval, interval);
          continue;
        }
        deps.logger.warn({ upgradeId, err: error }, 'the converted subscriptions could not be read back from Partner Center');
        await updateUpgradeRecord(deps, upgradeId, {
          set: { 'vendor.readBack': { state: 'unreadable', at: deps.clock().toISOString(), error: error.message } },
        });
        return;
      }
      const at = deps.clock().toISOString();
      if (mismatches.length === 0) {
        const checked = expected.map((wanted) => wanted.vendorSubscriptionId);
        await updateUpgradeRecord(deps, upgradeId, { set: { 'vendor.readBack': { state: 'matched', at, checked } } });
        return;
      }
      if (deps.clock().getTime() - startedAt >= settlingDelayMs) {
        deps.logger.error({ upgradeId, mismatches }, 'Partner Center shows the converted subscriptions otherwise than the upgrade would apply');
        await updateUpgradeRecord(deps, upgradeId, { set: { 'vendor.readBack': { state: 'mismatch', at, mismatches } } });
        const described = mismatches.map((m) => `${m.role} ${m.vendorSubscriptionId} ${m.field}: ${m.found ?? 'none'} (expected ${m.expected ?? 'none'})`);
        throw vendorOutcomeUnknown(`after the conversion Partner Center shows ${described.join('; ')}`, {
          reason: 'read_back_mismatch',
          mismatches,
          ...identity,
        });
      }
      await sleepHeartbeating(interval, interval);
    }
  }

  /** Records the transition as ours; `operationId` from the first answer that carries one. */
  async function recordTransition(upgradeId: string, sent: SentRequest, transition: Transition, settledBy: 'answer' | 'listing'): Promise<RecordedTransition> {
    const { request: _request, answerLost: _answerLost, ...identity } = sent;
    const record: RecordedTransition = {
      ...identity,
      transition,
      ...(transition.operationId ? { operationId: transition.operationId } : {}),
      settledBy,
    };
    await updateUpgradeRecord(deps, upgradeId, { set: { vendor: record } });
    if (settledBy === 'listing')
      deps.logger.warn(
        { upgradeId, requestId: sent.requestId, operationId: transition.operationId },
        'adopted the transition Partner Center shows for a request whose answer was lost',
      );
    return record;
  }

  /**
   * Settles a request whose answer was lost against Microsoft: lists the source's transitions and adopts the one
   * that matches (same target, quantity and type, started after the request was sent). Waits until the settling
   * delay since the send has passed before concluding there is none. Two candidates cannot be told apart: a human
   * decides. Returns undefined when Microsoft shows no such transition (the caller may then ask again, same id).
   */
  async function settleAgainstMicrosoft(upgradeId: string, sent: SentRequest): Promise<RecordedTransition | undefined> {
    const sentAt = new Date(sent.requestedAt);
    const candidatesNow = async () => {
      let listed: Transition[];
      try {
        listed = await withOneMoreTry(() => deps.vendor.listTransitions(sent.customerTenantId, sent.vendorSubscriptionId, { upgradeId }));
      } catch (error) {
        if (error instanceof VendorError && !error.retryable) {
          throw vendorOutcomeUnknown(`could not list the transitions to settle MS-RequestId ${sent.requestId}: ${error.message}`, {
            reason: 'unreadable',
            requestId: sent.requestId,
          });
        }
        throw vendorFailure(error);
      }
      return transitionsMatchingRequest(listed, sent.request, sentAt, CLOCK_SKEW_MS);
    };
    let candidates = await candidatesNow();
    const waitLeft = sentAt.getTime() + settlingDelayMs - deps.clock().getTime();
    if (candidates.length === 0 && waitLeft > 0) {
      await Context.current().sleep(waitLeft);
      candidates = await candidatesNow();
    }
    if (candidates.length > 1) {
      throw vendorOutcomeUnknown(
        `${candidates.length} transitions at Partner Center match MS-RequestId ${sent.requestId}; an operator must say which is ours`,
        {
          reason: 'ambiguous',
          requestId: sent.requestId,
          candidates: candidates.map((candidate) => candidate.operationId ?? candidate.id ?? null),
        },
      );
    }
    return candidates[0] && recordTransition(upgradeId, sent, candidates[0], 'listing');
  }

  return {
    /**
     * Called by a run cancelled while its transition request may not have left: decides that this run attempt's
     * request is not sent, unless the request activity already decided to send it (src/db/vendor-request-decisions.ts).
     * True when nothing was or will be sent for the upgrade: the decision is ours and the record holds no request
     * whose fate Microsoft did not tell (none, or a transition Microsoft failed before an operator's retry).
     */
    async withdrawVendorRequest(upgradeId: string, runAttempt: number): Promise<boolean> {
      if ((await decideVendorRequest(deps.models, upgradeId, runAttempt, 'do_not_send')) === 'send') return false;
      const recorded = await vendorRecordOf(upgradeId);
      return !recorded || (recorded.transition !== undefined && recorded.outcome?.conversion === 'failed');
    },

    /**
     * Asks Partner Center for the transition, once per upgrade. A transition already recorded is returned as-is
     * (re-runs and resets never create a second one). The request is written before it is sent, under a request id
     * derived from the upgrade id, and every retry of it (an activity retry, an operator's retry) sends that id. When
     * its answer is lost (a time-out, a 2xx that does not parse), Microsoft is asked what it started before anything
     * is sent again (docs/partner-center.md, "Unknown outcomes").
     * `runAttempt` > the recorded attempt only after an operator retry of a vendor-rejected upgrade.
     * Returns what was recorded, for the workflow to hand to `awaitVendorTransition` (which then reads nothing).
     */
    async requestVendorTransition(upgradeId: string, runAttempt: number): Promise<RecordedTransition> {
      const before = await deps.models.upgrades.findById(upgradeId, { vendor: 1, vendorTerms: 1 }).lean();
      const recorded = (before?.vendor ?? undefined) as RecordedTransition | SentRequest | undefined;
      const retryingRejected = recorded?.transition !== undefined && recorded.outcome?.conversion === 'failed' && recorded.attempt < runAttempt;
      if (recorded?.transition !== undefined && !retryingRejected) return recorded;

      const plan: UpgradePlan = await loadPlan(deps, upgradeId, 'maybeBeforeConversion');
      let sent: SentRequest;
      /** A first request, written to the record once its slot is ours. */
      let unrecorded: SentRequest | undefined;
      if (recorded !== undefined && recorded.transition === undefined) {
        // Sent before: the same MS-RequestId again, whatever run or retry this is. After a lost answer Microsoft is
        // asked first (it may have started it); after a 429 or 5xx its idempotency suffices, and one call per
        // attempt keeps a tight throttling window from starving the POST.
        sent = recorded;
        const adopted = sent.answerLost ? await settleAgainstMicrosoft(upgradeId, sent) : undefined;
        if (adopted) return adopted;
      } else {
        const customerTenantId = plan.vendor.customerTenantId ?? (await tenantOfSource(plan.sourceSubscriptionId));
        // Microsoft's verdict right before the POST (catalog item ids change; a licence transfer may be refused). A
        // request already sent keeps the terms it was sent with: a repeat under its MS-RequestId must be the same call.
        let terms: MicrosoftTerms;
        try {
          terms = await microsoftTerms(deps, customerTenantId, plan, upgradeId, before?.vendorTerms);
        } catch (error) {
          if (error instanceof ApplicationFailure) throw error;
          throw vendorFailure(error);
        }
        await recordScheduledChangesBeforeTransition(deps, upgradeId, customerTenantId, plan.vendor.fromSubscriptionId);
        sent = {
          attempt: runAttempt,
          requestId: vendorRequestIdFor(upgradeId, runAttempt),
          customerTenantId,
          vendorSubscriptionId: plan.vendor.fromSubscriptionId,
          requestedAt: deps.clock().toISOString(),
          request: { toCatalogItemId: terms.toCatalogItemId, quantity: plan.vendor.quantity, transitionType: terms.transitionType },
        };
        unrecorded = sent;
      }
      /** Set once this attempt decided to send (a second try, or a wait after a 429 elsewhere, need not ask again). */
      let decidedToSend = false;
      let transition: Transition;
      try {
        transition = await withOneMoreTry(async () => {
          // Every POST (a retry's and the second try's too) waits for its slot of the tenant's limit, right before it
          // leaves, so the limit counts what Partner Center counts. Taking a slot sends nothing: exactly once is the
          // MS-RequestId's business, and a retried activity simply takes a new slot.
          const slot = await waitForSlot(upgradeId, async () => {
            // A workflow cancelled while this waited may have decided that nothing leaves: then nothing does.
            if (!decidedToSend && (await decideVendorRequest(deps.models, upgradeId, runAttempt, 'send')) === 'do_not_send') {
              throw ApplicationFailure.nonRetryable(
                'the upgrade was cancelled before its transition request left; it is not sent',
                FAILURE_TYPES.vendorRequestWithdrawn,
              );
            }
            decidedToSend = true;
            if (!unrecorded) return;
            // Written before the POST, timed when it leaves (the settling delay after a lost answer counts from here),
            // and again should a 429 elsewhere hold it back after the write.
            sent = { ...unrecorded, requestedAt: deps.clock().toISOString() };
            await updateUpgradeRecord(deps, upgradeId, { set: { vendor: sent } });
          });
          unrecorded = undefined;
          Context.current().heartbeat();
          // Marked while the POST leaves, so that the mark does not delay it.
          const marked = slot.sent();
          const [answer] = await Promise.all([
            deps.vendor.createTransition(
              sent.customerTenantId,
              sent.vendorSubscriptionId,
              {
                ...sent.request,
                ...(plan.vendor.toSubscriptionId ? { toSubscriptionId: plan.vendor.toSubscriptionId } : {}),
                termDuration: plan.vendor.termDuration,
                billingCycle: capitalised(plan.vendor.billingCycle),
                ...(plan.vendor.promotionId ? { promotionId: plan.vendor.promotionId } : {}),
              },
              { requestId: sent.requestId, upgradeId },
            ),
            marked,
          ]);
          return answer;
        });
      } catch (error) {
        if (answerWasLost(error)) {
          deps.logger.warn({ upgradeId, requestId: sent.requestId, err: error }, 'the answer to POST transitions was lost; settling against Partner Center');
          if (!sent.answerLost) await updateUpgradeRecord(deps, upgradeId, { set: { 'vendor.answerLost': true } });
          const adopted = await settleAgainstMicrosoft(upgradeId, sent);
          if (adopted) return adopted;
          // Microsoft shows nothing after the settling delay: retried, under the same MS-RequestId.
          throw ApplicationFailure.retryable(
            `Partner Center shows no transition for MS-RequestId ${sent.requestId} after its answer was lost; asking again`,
            FAILURE_TYPES.vendorUnavailable,
          );
        }
        if (refusedWithoutStarting(error)) await updateUpgradeRecord(deps, upgradeId, { set: { vendor: recorded?.transition ? recorded : null } });
        throw vendorFailure(error);
      }
      return recordTransition(upgradeId, sent, transition, 'answer');
    },

    /**
     * Follows the asynchronous transition until Partner Center reports it finished. One long activity that polls
     * with a growing interval and heartbeats, instead of a workflow loop of short activities: the history stays
     * small however long the vendor takes, and a worker crash resumes polling from the last heartbeat.
     * `requested`: what `requestVendorTransition` returned; runs recorded before it returned the whole record pass
     * `{ requestId, attempt }` only, and the record is read instead.
     */
    async awaitVendorTransition(upgradeId: string, requested?: Partial<VendorRecord>): Promise<VendorOutcome> {
      const found = requested?.transition ? (requested as RecordedTransition) : await vendorRecordOf(upgradeId);
      if (!found?.transition) throw ApplicationFailure.nonRetryable(`upgrade ${upgradeId} has no vendor transition`, FAILURE_TYPES.vendorTransitionMissing);
      const record: RecordedTransition = found;
      if (record.outcome) return record.outcome;
      const operationId = record.operationId ?? record.transition.operationId;
      const identity = { requestId: record.requestId, operationId: operationId ?? null };
      const context = Context.current();
      let interval = (context.info.heartbeatDetails as number | undefined) ?? deps.vendorPolling.initialIntervalMs;
      let missingSince: number | undefined;
      for (;;) {
        let progress: TransitionProgress | undefined;
        let current: Transition | undefined;
        let listed = false;
        try {
          const transitions = await withOneMoreTry(() =>
            deps.vendor.listTransitions(record.customerTenantId, record.vendorSubscriptionId, {
              upgradeId,
              ...(operationId ? { operationId } : {}),
            }),
          );
          listed = true;
          current = findMatchingTransition(transitions, record.transition);
          progress = current && summarizeTransition(current);
        } catch (error) {
          if (error instanceof VendorError && !error.retryable) {
            // 401/403/404 twice, or an unreadable list: Microsoft may well have converted; only a human can tell.
            throw vendorOutcomeUnknown(`could not follow the transition: ${error.message}`, { reason: 'unreadable', ...identity });
          }
          if (!(error instanceof VendorError)) throw error;
          // Transient or throttled while polling: wait (at least Retry-After) and poll again.
          if (error instanceof VendorThrottledError && error.retryAfterMs) interval = Math.max(interval, error.retryAfterMs);
        }
        if (listed && current === undefined) {
          missingSince ??= deps.clock().getTime();
          if (deps.clock().getTime() - missingSince >= settlingDelayMs) {
            throw vendorOutcomeUnknown('Partner Center no longer lists the transition it started', { reason: 'missing', ...identity });
          }
        } else if (current !== undefined) {
          missingSince = undefined;
        }
        if (progress?.conversion === 'unrecognised') {
          throw vendorOutcomeUnknown(`Partner Center reports the conversion as "${progress.unrecognisedStatus ?? ''}", a status it does not document`, {
            reason: 'unrecognised_status',
            status: progress.unrecognisedStatus ?? null,
            ...identity,
          });
        }
        if (progress?.finished && current) {
          if (progress.conversion === 'completed' && current.quantity !== record.transition.quantity) {
            throw vendorOutcomeUnknown(`Partner Center converted ${current.quantity} seats, not the ${record.transition.quantity} requested`, {
              reason: 'quantity_mismatch',
              requestedQuantity: record.transition.quantity,
              convertedQuantity: current.quantity,
              ...identity,
            });
          }
          const toSubscriptionId = current.toSubscriptionId ?? record.transition.toSubscriptionId ?? undefined;
          if (progress.conversion === 'completed') await readBackConversion(upgradeId, record, toSubscriptionId, identity);
          const outcome: VendorOutcome = {
            conversion: progress.conversion === 'completed' ? 'completed' : 'failed',
            // An undocumented status for the licence move: the conversion is done, so we move the licences ourselves.
            licenseReassignment: progress.licenseReassignment === 'unrecognised' ? 'failed' : progress.licenseReassignment,
            errors: progress.errors.map((e) => ({ code: String(e.code ?? ''), description: e.description ?? '' })),
            ...(toSubscriptionId ? { toSubscriptionId } : {}),
            completedAt: deps.clock().toISOString(),
          };
          await updateUpgradeRecord(deps, upgradeId, { set: { 'vendor.outcome': outcome } });
          return outcome;
        }
        await sleepHeartbeating(interval, interval);
        interval = Math.min(interval * 2, deps.vendorPolling.maxIntervalMs);
      }
    },
  } satisfies Partial<UpgradeActivities>;
}
