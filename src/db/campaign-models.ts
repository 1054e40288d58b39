import { Schema, type Connection, type InferSchemaType, type Model } from 'mongoose';
import type { Models } from './models';

/**
 * Upgrade campaigns (docs/campaigns.md): one document per campaign, one per subscription it judged. The items carry
 * their dry-run verdict and, once executed, their outcome, so every count is a query on indexed fields and a campaign
 * of 10 000 subscriptions never becomes one huge document. As elsewhere (models.ts), every write sets absolute values
 * so that applying it twice changes nothing.
 */
const strict = { strict: 'throw', versionKey: false, timestamps: true } as const;

export const CAMPAIGN_STATUSES = ['planned', 'scheduled', 'running', 'paused', 'completed', 'cancelled'] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

/** An item's outcome: `pending` until the run reaches it (or for good when ineligible: those are never started). */
export const CAMPAIGN_ITEM_OUTCOMES = ['pending', 'running', 'completed', 'failed', 'skipped'] as const;
export type CampaignItemOutcome = (typeof CAMPAIGN_ITEM_OUTCOMES)[number];

const campaignSchema = new Schema(
  {
    /** `cmp_<random>`; the campaign's Temporal workflow id is `campaign:<this id>`. */
    _id: { type: String, required: true },
    name: { type: String, required: true },
    sourceProductId: { type: String, required: true },
    targetProductId: { type: String, required: true },
    destination: { type: Schema.Types.Mixed, required: true },
    /** The accounts the request named; absent = every account in the creator's scope. */
    accountIds: { type: [String], default: undefined },
    /** When it runs, as for a single upgrade (`{ type: 'on_date', date }`); null: as soon as it is executed. */
    when: { type: Schema.Types.Mixed, default: null },
    /** The API key that created it: its upgrades are started as this key's (the same ids a single start would use). */
    requestedByKeyId: { type: String, required: true },
    /** The accounts that key may act on when it created the campaign; null = an operator (every account). */
    scopeAccountIds: { type: [String], default: null },
    status: { type: String, required: true, enum: CAMPAIGN_STATUSES },
    /** The dry run: `{ total, eligible, ineligible, byReason, totals }`. */
    summary: { type: Schema.Types.Mixed, required: true },
    /** Fixed at creation, so every upgrade of the campaign runs with the same tunables. */
    seatReassignment: { type: Schema.Types.Mixed, required: true },
    plannedAt: { type: Date, required: true },
    executedAt: { type: Date, default: null },
    endedAt: { type: Date, default: null },
  },
  { ...strict, minimize: false },
);
campaignSchema.index({ requestedByKeyId: 1 });

const campaignItemSchema = new Schema(
  {
    /** `<campaignId>:<subscriptionId>`: a second plan of the same subscription in one campaign is a duplicate key. */
    _id: { type: String, required: true },
    campaignId: { type: String, required: true },
    subscriptionId: { type: String, required: true },
    accountId: { type: String, required: true },
    quantity: { type: Number, required: true },
    eligible: { type: Boolean, required: true },
    /** Why not (every rule that failed, Microsoft's verdict included); empty when eligible. */
    reasons: { type: [Schema.Types.Mixed], default: [] },
    currency: { type: String, default: null },
    /** The quote's credit (≤ 0) and debit totals, tax included, in minor units; null when ineligible. */
    credit: { type: Number, default: null },
    debit: { type: Number, default: null },
    seatReassignmentMode: { type: String, default: null },
    outcome: { type: String, required: true, enum: CAMPAIGN_ITEM_OUTCOMES },
    /** Why the run skipped or failed it. */
    outcomeReason: { type: String, default: null },
    upgradeId: { type: String, default: null },
    /** Done at Microsoft and invoiced, but the licences still wait for a manual reassignment. */
    seatReassignmentPending: { type: Boolean, default: false },
    /** Started, and its transition not yet sent to Partner Center (waiting for its slot): the run's bound counts these. */
    queuedForPartnerCenter: { type: Boolean },
  },
  { ...strict, minimize: false },
);
// The items page (`?eligible=`), the run's next pending items and the counts by outcome are all prefix queries here.
campaignItemSchema.index({ campaignId: 1, eligible: 1, _id: 1 });
campaignItemSchema.index({ campaignId: 1, outcome: 1, _id: 1 });
// The run's follow-up of manual seat reassignments, and each account's own counts for `campaign_completed`.
campaignItemSchema.index({ campaignId: 1, seatReassignmentPending: 1 });
campaignItemSchema.index({ campaignId: 1, accountId: 1 });
// The run's bound on started items not yet sent to Partner Center.
campaignItemSchema.index({ campaignId: 1, queuedForPartnerCenter: 1 });

export type CampaignDocument = InferSchemaType<typeof campaignSchema>;
export type CampaignItemDocument = InferSchemaType<typeof campaignItemSchema>;

export interface CampaignModels {
  campaigns: Model<CampaignDocument>;
  campaignItems: Model<CampaignItemDocument>;
}

function modelOn<T>(connection: Connection, name: string, schema: Schema, collection: string): Model<T> {
  // A connection compiles a model once; the API, the worker and the CLI may each ask again.
  return (connection.models[name] as Model<T> | undefined) ?? (connection.model(name, schema, collection) as unknown as Model<T>);
}

/** Index builds per connection: the connection builds the shared models' indexes at connect (connection.ts), these on first use. */
const indexesBuilt = new WeakMap<Connection, Promise<unknown>>();

/**
 * The campaign collections on the connection `models` are bound to, their indexes built (kept apart from models.ts,
 * which every feature shares).
 */
export async function campaignModelsOf(models: Models): Promise<CampaignModels> {
  const connection = models.accounts.db;
  const campaignModels: CampaignModels = {
    campaigns: modelOn<CampaignDocument>(connection, 'Campaign', campaignSchema, 'campaigns'),
    campaignItems: modelOn<CampaignItemDocument>(connection, 'CampaignItem', campaignItemSchema, 'campaign_items'),
  };
  let built = indexesBuilt.get(connection);
  if (!built) {
    built = Promise.all([campaignModels.campaigns.createIndexes(), campaignModels.campaignItems.createIndexes()]);
    indexesBuilt.set(connection, built);
    built.catch(() => indexesBuilt.delete(connection));
  }
  await built;
  return campaignModels;
}
