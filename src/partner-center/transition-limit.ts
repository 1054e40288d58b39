import { Schema, type Connection, type Model } from 'mongoose';
import { isDuplicateKeyError } from '../db/duplicate-key';
import type { Config } from '../config';
import type { Models } from '../db/models';

/**
 * Partner Center's limit on transition POSTs, one per partner tenant, shared by every worker and API process
 * (docs/partner-center.md, "Request limit"): at most `limit` POSTs in any `intervalMs` — a sliding window, so that
 * however Partner Center aligns its own window (from its first request, to the clock, or sliding) we never send it
 * more than `limit` in one of them — and after a 429 from Partner Center none until its Retry-After has passed.
 *
 * The activity that POSTs reserves a slot right before it sends (activities/vendor-transition.ts), single upgrades
 * and campaigns' alike: they share Microsoft's limit. Reads (eligibilities, the transitions list it polls, the
 * read-back) take no slot: Microsoft limits those per customer, not per partner, and each honours its own 429.
 *
 * Shared through MongoDB with unique inserts only (the one write FerretDB applies atomically under concurrency, see
 * src/db/models.ts): the tenant's slots are numbered; slot n is the insert of `<tenant>:<n>` with the time `at` its
 * POST may go, at(n) = the latest of now, at(n − 1) and at(n − limit) + interval + margin (and the end of a 429's
 * backoff). The times grow with the numbers, so no interval holds more than `limit` of them. A duplicate means
 * another process took number n first: the next is tried. A reservation is a queue place: the taker waits until its
 * `at` (so waiting costs no database reads), then checks that no 429 came meanwhile.
 * Default 100 per 5 minutes: Microsoft documents no number for transitions; its Create Migration API (the calls its
 * bulk tool makes) allows "100 calls by a partner in 5 minutes"
 * (https://learn.microsoft.com/en-us/partner-center/developer/create-migration). Throttling is per partner tenant for
 * some APIs (https://learn.microsoft.com/en-us/partner-center/developer/api-throttling-guidance), hence the key.
 */
export interface TransitionLimit {
  /** The partner tenant the limit is shared by. */
  key: string;
  limit: number;
  intervalMs: number;
}

/** The tenant's limit from the configuration: one per partner tenant (`default` with the simulator's token). */
export function transitionLimitFromConfig(
  config: Pick<Config, 'VENDOR_TENANT_ID' | 'VENDOR_TRANSITIONS_PER_INTERVAL' | 'VENDOR_TRANSITIONS_INTERVAL_SECONDS'>,
): TransitionLimit {
  return {
    key: config.VENDOR_TENANT_ID ?? 'default',
    limit: config.VENDOR_TRANSITIONS_PER_INTERVAL,
    intervalMs: config.VENDOR_TRANSITIONS_INTERVAL_SECONDS * 1000,
  };
}

/**
 * Added to the interval between a slot and the one `limit` before it: Partner Center counts a request when it
 * arrives, so a POST that leaves a little after its slot (a database read and write, the event loop, the token) or a
 * worker whose clock is a little ahead must not land in the window of the request `limit` before it. 1 % of the
 * interval, at least 250 ms (what those steps can take on a loaded machine), at most 1 s.
 */
export const marginOf = (limit: TransitionLimit): number => Math.min(1_000, Math.max(250, Math.ceil(limit.intervalMs / 100)));

/** Slots are kept this long after their interval, so that a taker slow between its read and its insert still collides. */
const SLOT_RETENTION_MS = 60_000;

const slotSchema = new Schema(
  {
    /** `<tenant>:<n>`: the tenant's n-th slot (numbers restart only when every earlier slot has been cleared). */
    _id: { type: String, required: true },
    key: { type: String, required: true },
    n: { type: Number, required: true },
    /** When its POST may go. */
    at: { type: Date, required: true },
    /** When its POST left (late under load): the slot `limit` after it waits an interval from then too. */
    sentAt: { type: Date },
  },
  { strict: 'throw', versionKey: false },
);
slotSchema.index({ key: 1, n: -1 });
slotSchema.index({ key: 1, at: 1 });

const backoffSchema = new Schema(
  {
    /** `<tenant>:<until ms>`: each 429 inserts its own, the latest `until` wins. */
    _id: { type: String, required: true },
    key: { type: String, required: true },
    until: { type: Date, required: true },
  },
  { strict: 'throw', versionKey: false },
);
backoffSchema.index({ key: 1, until: -1 });

type SlotDocument = { _id: string; key: string; n: number; at: Date; sentAt?: Date };
type BackoffDocument = { _id: string; key: string; until: Date };

const indexesBuilt = new WeakMap<Connection, Promise<unknown>>();

async function limitModels(models: Models): Promise<{ slots: Model<SlotDocument>; backoffs: Model<BackoffDocument> }> {
  const connection = models.accounts.db;
  const slots =
    (connection.models.VendorTransitionSlot as Model<SlotDocument> | undefined) ??
    connection.model<SlotDocument>('VendorTransitionSlot', slotSchema, 'vendor_transition_slots');
  const backoffs =
    (connection.models.VendorBackoff as Model<BackoffDocument> | undefined) ??
    connection.model<BackoffDocument>('VendorBackoff', backoffSchema, 'vendor_backoffs');
  let built = indexesBuilt.get(connection);
  if (!built) {
    built = Promise.all([slots.createIndexes(), backoffs.createIndexes()]);
    indexesBuilt.set(connection, built);
    built.catch(() => indexesBuilt.delete(connection));
  }
  await built;
  return { slots, backoffs };
}

/** A reserved slot: number `n`, whose POST may go at `at` (ms since the epoch). */
export interface TransitionSlot {
  n: number;
  at: number;
  /** When the POST of the slot `limit` before left, as read at the reservation (absent: not sent yet, or none). */
  limitingSentAt?: number;
}

/** Numbers a taker tries before giving up for this attempt (others took every one it wanted). */
const MAX_CONTENDED_TRIES = 50;

/** The end of the tenant's latest 429 backoff (ms), or 0. */
export async function backoffUntil(models: Models, key: string): Promise<number> {
  const { backoffs } = await limitModels(models);
  const latest = await backoffs.findOne({ key }).sort({ until: -1 }).lean();
  return latest?.until.getTime() ?? 0;
}

/** Reserves the tenant's next slot: the earliest time at or after `now` a POST may go without exceeding the limit. */
export async function reserveTransitionSlot(models: Models, limit: TransitionLimit, now: Date): Promise<TransitionSlot> {
  const { slots } = await limitModels(models);
  const nowMs = now.getTime();
  const notBefore = Math.max(nowMs, await backoffUntil(models, limit.key));
  const spacingMs = limit.intervalMs + marginOf(limit);
  for (let tries = 0; tries < MAX_CONTENDED_TRIES; tries += 1) {
    const last = await slots.findOne({ key: limit.key }, { n: 1, at: 1 }).sort({ n: -1 }).lean();
    const n = last ? last.n + 1 : 0;
    // A slot `limit` before that was cleared is older than the interval: it limits nothing.
    const limiting = n >= limit.limit ? await slots.findById(`${limit.key}:${n - limit.limit}`, { at: 1, sentAt: 1 }).lean() : null;
    const at = Math.max(notBefore, last?.at.getTime() ?? 0, limiting ? limiting.at.getTime() + spacingMs : 0);
    try {
      await slots.create({ _id: `${limit.key}:${n}`, key: limit.key, n, at: new Date(at) });
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      continue;
    }
    // FerretDB has no TTL indexes: now and then a taker clears the slots no taker can need any more.
    if (n % Math.min(limit.limit, 100) === 0) {
      await slots.deleteMany({ key: limit.key, at: { $lt: new Date(nowMs - spacingMs - SLOT_RETENTION_MS) } });
      await clearOldBackoffs(models, limit.key, nowMs - SLOT_RETENTION_MS);
    }
    return { n, at, ...(limiting?.sentAt ? { limitingSentAt: limiting.sentAt.getTime() } : {}) };
  }
  throw new Error(`could not reserve a Partner Center slot for ${limit.key}: ${MAX_CONTENDED_TRIES} numbers taken by others meanwhile`);
}

async function clearOldBackoffs(models: Models, key: string, beforeMs: number): Promise<void> {
  const { backoffs } = await limitModels(models);
  await backoffs.deleteMany({ key, until: { $lt: new Date(beforeMs) } });
}

/**
 * Waits until a slot of the tenant's limit is ours, right before a POST: reserves one, sleeps until its time, and
 * when a 429 came meanwhile (a backoff ending after the slot's time) reserves again after it. When the POST of the
 * slot `limit` before left late (a loaded machine), waits an interval from when it left. `sleep` is the activity's
 * (heartbeating, and rejecting when the activity is cancelled). `beforeLastCheck` runs right before the last check
 * of the backoff, each time it is checked (the caller's write of what it is about to send). The caller marks the slot
 * sent as its POST leaves.
 */
export async function waitForTransitionSlot(
  models: Models,
  limit: TransitionLimit,
  clock: () => Date,
  sleep: (ms: number) => Promise<void>,
  beforeLastCheck: () => Promise<void> = async () => undefined,
): Promise<TransitionSlot> {
  const { slots } = await limitModels(models);
  for (;;) {
    const slot = await reserveTransitionSlot(models, limit, clock());
    const waitMs = slot.at - clock().getTime();
    if (waitMs > 0) await sleep(waitMs);
    // When the limiting POST left: known from the reservation once sent, read again only if it had not left then.
    const limitingSentAt =
      slot.limitingSentAt ??
      (slot.n >= limit.limit ? (await slots.findById(`${limit.key}:${slot.n - limit.limit}`, { sentAt: 1 }).lean())?.sentAt?.getTime() : undefined);
    const lateMs = limitingSentAt !== undefined ? limitingSentAt + limit.intervalMs + marginOf(limit) - clock().getTime() : 0;
    if (lateMs > 0) await sleep(lateMs);
    // What the caller writes before its POST is written now, so that nothing but this check stands between it and the
    // POST: a 429 seen elsewhere during a slow write still holds this POST back.
    await beforeLastCheck();
    // The backoff is checked last, after every wait: a 429 that came during any of them holds this POST back too.
    if ((await backoffUntil(models, limit.key)) > slot.at) continue;
    return slot;
  }
}

/** Records when the slot's POST left (see waitForTransitionSlot). */
export async function markTransitionSlotSent(models: Models, limit: TransitionLimit, slot: TransitionSlot, sentAt: Date): Promise<void> {
  const { slots } = await limitModels(models);
  await slots.updateOne({ _id: `${limit.key}:${slot.n}` }, { $set: { sentAt } });
}

/** A 429 seen anywhere: every POST of the tenant waits until `until`. */
export async function recordVendorBackoff(models: Models, key: string, until: Date): Promise<void> {
  const { backoffs } = await limitModels(models);
  try {
    await backoffs.create({ _id: `${key}:${until.getTime()}`, key, until });
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
  }
}

/** Retry-After is seconds or an HTTP date (RFC 9110 §10.2.3); absent or unreadable: `fallbackMs`. */
export function retryAfterMsOf(header: string | null, now: Date, fallbackMs: number): number {
  if (header === null) return fallbackMs;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? fallbackMs : Math.max(0, at - now.getTime());
}

/**
 * A fetch for the Partner Center client that reports every 429 (a read's too) to the tenant's shared backoff, so one
 * throttled call holds back every POST of the tenant, in every process. The answer itself goes back unchanged (the
 * caller retries it).
 */
export function fetchReportingThrottling(models: Models, key: string, clock: () => Date, inner: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const response = await inner(input, init);
    if (response.status === 429) {
      const now = clock();
      await recordVendorBackoff(models, key, new Date(now.getTime() + retryAfterMsOf(response.headers.get('retry-after'), now, 60_000))).catch(() => undefined);
    }
    return response;
  };
}
