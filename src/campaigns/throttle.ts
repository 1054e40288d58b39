import { Schema, type Connection, type Model } from 'mongoose';
import { isDuplicateKeyError } from '../db/duplicate-key';
import type { Config } from '../config';
import type { Models } from '../db/models';

/**
 * The campaigns' shared limit per partner tenant (docs/campaigns.md, "Throttle"): at most `limit` upgrade starts per
 * `intervalMs` window, for every worker and API process together, and after a 429 from Partner Center nothing until
 * its Retry-After has passed.
 *
 * Shared through MongoDB with unique inserts only (the one write FerretDB applies atomically under concurrency, see
 * src/db/models.ts): a start takes slot n of the current window by inserting `<tenant>:<window>:<n>`; a duplicate
 * means another process took it first, so the next slot is tried. A 429 writes the tenant's backoff document.
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

const slotSchema = new Schema(
  {
    _id: { type: String, required: true },
    key: { type: String, required: true },
    window: { type: Number, required: true },
  },
  { strict: 'throw', versionKey: false },
);
slotSchema.index({ key: 1, window: 1 });

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

type SlotDocument = { _id: string; key: string; window: number };
type BackoffDocument = { _id: string; key: string; until: Date };

const indexesBuilt = new WeakMap<Connection, Promise<unknown>>();

async function throttleModels(models: Models): Promise<{ slots: Model<SlotDocument>; backoffs: Model<BackoffDocument> }> {
  const connection = models.accounts.db;
  const slots =
    (connection.models.VendorRequestSlot as Model<SlotDocument> | undefined) ??
    connection.model<SlotDocument>('VendorRequestSlot', slotSchema, 'vendor_request_slots');
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

/** How many of `wanted` starts may go now, or how long to wait before asking again. */
export type SlotGrant = { granted: number; retryAfterMs: number };

export async function takeStartSlots(models: Models, settings: ThrottleSettings, wanted: number, now: Date): Promise<SlotGrant> {
  const { slots, backoffs } = await throttleModels(models);
  const nowMs = now.getTime();
  const latestBackoff = await backoffs.findOne({ key: settings.key }).sort({ until: -1 }).lean();
  if (latestBackoff && latestBackoff.until.getTime() > nowMs) return { granted: 0, retryAfterMs: latestBackoff.until.getTime() - nowMs };

  const window = Math.floor(nowMs / settings.intervalMs);
  const windowEndMs = (window + 1) * settings.intervalMs;
  let slot = await slots.countDocuments({ key: settings.key, window });
  let granted = 0;
  while (granted < wanted && slot < settings.limit) {
    try {
      await slots.create({ _id: `${settings.key}:${window}:${slot}`, key: settings.key, window });
      granted += 1;
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
    slot += 1;
  }
  // FerretDB has no TTL indexes: whoever opens a window clears the tenant's older ones (and backoffs long past).
  if (granted > 0 && slot === granted) {
    await Promise.all([
      slots.deleteMany({ key: settings.key, window: { $lt: window } }),
      backoffs.deleteMany({ key: settings.key, until: { $lt: new Date(nowMs - settings.intervalMs) } }),
    ]);
  }
  return { granted, retryAfterMs: granted > 0 ? 0 : Math.max(1, windowEndMs - nowMs) };
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
