import { Schema, type Connection, type Model } from 'mongoose';
import { isDuplicateKeyError } from '../db/duplicate-key';
import type { Config } from '../config';
import type { Models } from '../db/models';

/**
 * The campaigns' shared limit per partner tenant (docs/campaigns.md, "Throttle"): at most `limit` upgrade starts in
 * any `intervalMs` — a sliding window, so that however Partner Center aligns its own window (from its first request,
 * to the clock, or sliding), we never send it more than `limit` in one of them — for every worker and API process
 * together, and after a 429 from Partner Center nothing until its Retry-After has passed.
 *
 * Shared through MongoDB with unique inserts only (the one write FerretDB applies atomically under concurrency, see
 * src/db/models.ts): the tenant's starts are numbered; start n inserts `<tenant>:<n>` with its time, and may go only
 * when start n − limit (an immutable document) is at least `intervalMs` old. A duplicate means another process took
 * number n first, so the next is tried. A 429 writes the tenant's backoff document.
 * Default 100 per 5 minutes: Microsoft documents no number for transitions; its Create Migration API (the calls its
 * bulk tool makes) allows "100 calls by a partner in 5 minutes"
 * (https://learn.microsoft.com/en-us/partner-center/developer/create-migration). Throttling is per partner tenant for
 * some APIs (https://learn.microsoft.com/en-us/partner-center/developer/api-throttling-guidance), hence the key.
 */
export interface ThrottleSettings {
  /** The partner tenant the limit is shared by. */
  key: string;
  limit: number;
  intervalMs: number;
}

/** The campaigns' shared limit from the configuration: one per partner tenant (`default` with the simulator's token). */
export function campaignThrottleFromConfig(
  config: Pick<Config, 'VENDOR_TENANT_ID' | 'CAMPAIGN_STARTS_PER_INTERVAL' | 'CAMPAIGN_INTERVAL_SECONDS'>,
): ThrottleSettings {
  return { key: config.VENDOR_TENANT_ID ?? 'default', limit: config.CAMPAIGN_STARTS_PER_INTERVAL, intervalMs: config.CAMPAIGN_INTERVAL_SECONDS * 1000 };
}

const startSchema = new Schema(
  {
    /** `<tenant>:<n>`: the tenant's n-th start (numbers restart once every earlier start is older than the interval). */
    _id: { type: String, required: true },
    key: { type: String, required: true },
    n: { type: Number, required: true },
    at: { type: Date, required: true },
  },
  { strict: 'throw', versionKey: false },
);
startSchema.index({ key: 1 });

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

type StartDocument = { _id: string; key: string; n: number; at: Date };
type BackoffDocument = { _id: string; key: string; until: Date };

const indexesBuilt = new WeakMap<Connection, Promise<unknown>>();

async function throttleModels(models: Models): Promise<{ starts: Model<StartDocument>; backoffs: Model<BackoffDocument> }> {
  const connection = models.accounts.db;
  const starts =
    (connection.models.CampaignStart as Model<StartDocument> | undefined) ?? connection.model<StartDocument>('CampaignStart', startSchema, 'campaign_starts');
  const backoffs =
    (connection.models.VendorBackoff as Model<BackoffDocument> | undefined) ??
    connection.model<BackoffDocument>('VendorBackoff', backoffSchema, 'vendor_backoffs');
  let built = indexesBuilt.get(connection);
  if (!built) {
    built = Promise.all([starts.createIndexes(), backoffs.createIndexes()]);
    indexesBuilt.set(connection, built);
    built.catch(() => indexesBuilt.delete(connection));
  }
  await built;
  return { starts, backoffs };
}

/** How many of `wanted` starts may go now, or how long to wait before asking again. */
export type SlotGrant = { granted: number; retryAfterMs: number };

/** Numbered starts a taker tries before answering with what it has (others took the numbers it wanted). */
const MAX_CONTENDED_TRIES = 20;

export async function takeStartSlots(models: Models, settings: ThrottleSettings, wanted: number, now: Date): Promise<SlotGrant> {
  const { starts, backoffs } = await throttleModels(models);
  const nowMs = now.getTime();
  const latestBackoff = await backoffs.findOne({ key: settings.key }).sort({ until: -1 }).lean();
  if (latestBackoff && latestBackoff.until.getTime() > nowMs) return { granted: 0, retryAfterMs: latestBackoff.until.getTime() - nowMs };

  // The tenant's starts still kept: those of the last interval, and older ones not yet cleared.
  const recent = await starts.find({ key: settings.key }, { n: 1, at: 1 }).lean();
  const atOf = new Map(recent.map((start) => [start.n, start.at.getTime()]));
  let n = recent.reduce((latest, start) => Math.max(latest, start.n), -1) + 1;
  let granted = 0;
  let retryAfterMs = 0;
  for (let tries = 0; granted < wanted && tries < MAX_CONTENDED_TRIES; tries += 1) {
    const limitingAt = atOf.get(n - settings.limit);
    if (limitingAt !== undefined && limitingAt > nowMs - settings.intervalMs) {
      retryAfterMs = Math.max(1, limitingAt + settings.intervalMs - nowMs);
      break;
    }
    try {
      await starts.create({ _id: `${settings.key}:${n}`, key: settings.key, n, at: now });
      atOf.set(n, nowMs);
      granted += 1;
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      // Another process took number n: learn when, so that the limit counts it.
      const taken = await starts.findById(`${settings.key}:${n}`, { at: 1 }).lean();
      if (taken) atOf.set(n, taken.at.getTime());
    }
    n += 1;
  }
  // FerretDB has no TTL indexes: now and then a taker clears the starts older than the interval (they limit nothing).
  if (granted > 0 && n % Math.min(settings.limit, 100) < granted) {
    await Promise.all([
      starts.deleteMany({ key: settings.key, at: { $lt: new Date(nowMs - settings.intervalMs) } }),
      backoffs.deleteMany({ key: settings.key, until: { $lt: new Date(nowMs - settings.intervalMs) } }),
    ]);
  }
  // Refused by the limit: until its oldest start ages out; beaten to every number tried: soon.
  return { granted, retryAfterMs: granted > 0 ? 0 : retryAfterMs || 50 };
}
/** A 429 seen anywhere: every campaign of the tenant waits until `until`. */
export async function recordVendorBackoff(models: Models, key: string, until: Date): Promise<void> {
  const { backoffs } = await throttleModels(models);
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
 * A fetch for the Partner Center client that reports every 429 to the shared backoff, so one throttled call slows
 * every campaign of the tenant, in every process. The answer itself goes back unchanged (the caller retries it).
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
