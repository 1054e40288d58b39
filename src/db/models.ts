import { Schema, type Connection, type InferSchemaType, type Model } from 'mongoose';

/**
 * MongoDB collections. Documents use business ids as `_id` (string) so that every write can be keyed by them:
 * an invoice's id is `<upgradeId>:credit`, a notification's `<upgradeId>:<event>`, which makes "exactly once"
 * a property of the primary key rather than of careful code. No multi-document transactions anywhere (FerretDB
 * lacks them). FerretDB 1.x also does not apply a conditional update atomically (50 concurrent
 * `{lock: null} → $set` updates matched 9 times), so exclusivity comes from unique `_id` inserts, and every
 * other write sets absolute values so that applying it twice changes nothing.
 */
const strict = { strict: 'throw', versionKey: false, timestamps: true } as const;
const nested = { _id: false, strict: 'throw' } as const;

const specialPriceSchema = new Schema(
  {
    productId: { type: String, required: true },
    term: { type: String, required: true },
    billingFrequency: { type: String, required: true },
    unitPrice: { type: Number, required: true },
  },
  nested,
);

/** One webhook signing secret of an account, encrypted (src/webhooks/account-secrets.ts); no `encrypted` = the shared one. */
const accountWebhookSecretSchema = new Schema(
  {
    encrypted: String,
    createdAt: { type: Date, required: true },
    expiresAt: { type: Date, default: null },
  },
  nested,
);

const accountSchema = new Schema(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true },
    tenantId: { type: String, required: true },
    role: { type: String, required: true },
    partnerId: String,
    currency: { type: String, required: true },
    taxRateBasisPoints: { type: Number, required: true, default: 0 },
    webhookUrl: String,
    markupBasisPoints: Number,
    specialPrices: { type: [specialPriceSchema], default: undefined },
    parentResellerId: String,
    /** The partner's Graph app in the customer's tenant, as the last seat reassignment found it (`granted`/`missing`). */
    graphConsent: { type: Schema.Types.Mixed, default: undefined },
    /** Webhook signing secrets, current first; absent on accounts from before them (signed with the shared secret). */
    webhookSecrets: { type: [accountWebhookSecretSchema], default: undefined },
  },
  strict,
);
accountSchema.index({ parentResellerId: 1 });

const installmentSchema = new Schema(
  {
    periodStart: { type: String, required: true },
    periodEnd: { type: String, required: true },
    amount: { type: Number, required: true },
    quantity: { type: Number, required: true },
    status: { type: String, required: true },
  },
  nested,
);

const subscriptionSchema = new Schema(
  {
    _id: { type: String, required: true },
    externalId: { type: String, required: true },
    accountId: { type: String, required: true },
    productId: { type: String, required: true },
    quantity: { type: Number, required: true },
    status: { type: String, required: true },
    isTrial: { type: Boolean, required: true },
    term: { type: String, required: true },
    billingFrequency: { type: String, required: true },
    termStart: { type: String, required: true },
    termEnd: { type: String, required: true },
    /**
     * The cycle is derived on every read (domain/billing-cycle.ts) from the anchor. Subscriptions stored before the
     * anchor existed have their stored cycle here, read only to find their anchor; newer ones store the cycle of the
     * day they were written, for people reading the collection.
     */
    chargeStart: String,
    chargeEnd: String,
    /** Day the charge cycles are counted from; absent on subscriptions stored before it existed. */
    billingAnchorDate: String,
    /** Absent = on (the NCE default). */
    autoRenew: Boolean,
    purchasedAt: { type: String, required: true },
    cancellationWindowEndsAt: { type: String, required: true },
    unitPrice: { type: Number, required: true },
    currency: { type: String, required: true },
    partnerId: String,
    promotionId: String,
    protectedPrice: { type: new Schema({ unitPrice: Number, until: String }, nested), default: undefined },
    installmentPlan: { type: new Schema({ installments: [installmentSchema] }, nested), default: undefined },
    /** An upgrade at renewal scheduled at Microsoft: the renewal waits for its workflow (domain/renewal-upgrade.ts). */
    renewalUpgrade: { type: new Schema({ upgradeId: String, targetProductId: String, quantity: Number }, nested), default: undefined },
    /** Upgrades whose changes are already applied here: the guard that makes re-applying a no-op. */
    appliedUpgradeIds: { type: [String], default: [] },
  },
  strict,
);
subscriptionSchema.index({ accountId: 1, productId: 1 });
subscriptionSchema.index({ externalId: 1 });

const priceSchema = new Schema(
  {
    term: { type: String, required: true },
    billingFrequency: { type: String, required: true },
    currency: { type: String, required: true },
    unitPrice: { type: Number, required: true },
    unitCost: { type: Number, required: true },
  },
  nested,
);

const productSchema = new Schema(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true },
    offerType: { type: String, required: true },
    segment: { type: String, required: true },
    minQuantity: { type: Number, required: true },
    maxQuantity: { type: Number, required: true },
    prices: { type: [priceSchema], default: [] },
    promotion: {
      type: new Schema({ promotionId: String, description: String, discountBasisPoints: Number, validFrom: String, validTo: String }, nested),
      default: undefined,
    },
    upgradePaths: { type: [String], default: [] },
    entraSkuId: { type: String, required: true },
  },
  strict,
);

const upgradeSchema = new Schema(
  {
    _id: { type: String, required: true },
    /** sha256 of the canonical request body: same Idempotency-Key with another body is refused. */
    requestFingerprint: { type: String, required: true },
    requestedByKeyId: { type: String, required: true },
    accountId: { type: String, required: true },
    request: { type: Schema.Types.Mixed, required: true },
    kind: { type: String, required: true },
    destinationType: { type: String, required: true },
    status: { type: String, required: true },
    upgradeDate: String,
    /** What portals show of the frozen plan (summary, quote, kind, date); the full plan is in `upgrade_plans`. */
    plan: { type: Schema.Types.Mixed, default: null },
    /**
     * Steps by name: `{ validated: { status, at, detail } }`. A map, not an array, so that recording a step is a blind
     * `$set` of `steps.<name>` — idempotent without reading the record first (each read costs FerretDB a scan).
     */
    steps: { type: Schema.Types.Mixed, default: {} },
    vendor: { type: Schema.Types.Mixed, default: null },
    /** Microsoft's eligibility answer the transition was asked under (catalog item id, transition type, when). */
    vendorTerms: { type: Schema.Types.Mixed, default: undefined },
    seatReassignment: { type: Schema.Types.Mixed, default: null },
    subscriptionsTouched: { type: [String], default: [] },
    /** Users whose licences this upgrade moved through Microsoft Graph (recorded before each call). */
    licenceMovedUserIds: { type: [String], default: undefined },
    /** Holders of the source licence through a group, left to the group. */
    licenceGroupInheritedUserIds: { type: [String], default: undefined },
    invoiceIds: { type: [String], default: [] },
    error: { type: Schema.Types.Mixed, default: null },
    /** Why the upgrade waits (or waited) in needs_attention, and the operator's decision (workflows/messages.ts NeedsAttention). */
    attention: { type: Schema.Types.Mixed, default: null },
    completedAt: { type: Date, default: null },
    retries: { type: Number, default: 0 },
    /** Plans replaced by operator retries before Microsoft converted: `{ at, previous, current }`, oldest first. */
    replans: { type: [Schema.Types.Mixed], default: [] },
    /** When the caller asked it to run (`{ type: "on_date", date }`); absent for an upgrade that runs at once. */
    when: { type: Schema.Types.Mixed, default: undefined },
    /** A scheduled upgrade's day (YYYY-MM-DD, UTC): its ScheduledUpgradeWorkflow starts it then. */
    dueDate: String,
    /** The source's scheduled change Microsoft deleted with the transition (activities/scheduled-changes-kept.ts). */
    scheduledChangesDeleted: { type: Schema.Types.Mixed, default: undefined },
    /** An upgrade at renewal: the next term it renews the source into (domain/renewal-upgrade.ts RenewalUpgradeQuote). */
    renewal: { type: Schema.Types.Mixed, default: undefined },
    /** The campaign that started or scheduled it (absent: a single upgrade, or one started before campaigns recorded it). */
    campaignId: { type: String, default: undefined },
  },
  { ...strict, minimize: false },
);
upgradeSchema.index({ accountId: 1, status: 1 });
upgradeSchema.index({ 'request.sourceSubscriptionId': 1 });
/** A campaign's report reads its upgrades' statuses in one query (src/campaigns/read.ts). */
upgradeSchema.index({ campaignId: 1 });

const upgradePlanSchema = new Schema(
  {
    /** The upgrade id. Inserted once, never updated: inserting is how a plan is frozen (a second insert is refused). */
    _id: { type: String, required: true },
    /** The domain's full UpgradePlan (several KB). Kept out of the upgrade record, which is rewritten at every step. */
    plan: { type: Schema.Types.Mixed, required: true },
  },
  strict,
);

const invoiceLineSchema = new Schema(
  {
    subscriptionId: { type: String, required: true },
    productId: { type: String, required: true },
    description: { type: String, required: true },
    periodStart: { type: String, required: true },
    periodEnd: { type: String, required: true },
    days: { type: Number, required: true },
    cycleDays: { type: Number, required: true },
    quantity: { type: Number, required: true },
    unitPrice: { type: Number, required: true },
    amount: { type: Number, required: true },
  },
  nested,
);

const invoiceSchema = new Schema(
  {
    /** `<upgradeId>:credit` or `<upgradeId>:debit`. */
    _id: { type: String, required: true },
    idempotencyKey: { type: String, required: true },
    upgradeId: { type: String, required: true },
    accountId: { type: String, required: true },
    subscriptionId: { type: String, required: true },
    type: { type: String, required: true, enum: ['credit', 'debit'] },
    status: { type: String, required: true, enum: ['pending', 'issued'] },
    currency: { type: String, required: true },
    lines: { type: [invoiceLineSchema], default: [] },
    subtotal: { type: Number, required: true },
    taxBasisPoints: { type: Number, required: true },
    tax: { type: Number, required: true },
    total: { type: Number, required: true },
  },
  strict,
);
invoiceSchema.index({ idempotencyKey: 1 }, { unique: true });
invoiceSchema.index({ upgradeId: 1 });
invoiceSchema.index({ subscriptionId: 1 });

const historyEntrySchema = new Schema(
  {
    /** `<upgradeId>:<subscriptionId>:<event>` */
    _id: { type: String, required: true },
    subscriptionId: { type: String, required: true },
    /** The upgrade that made the change; null for a renewal or an expiry (the term's own events). */
    upgradeId: { type: String, default: null },
    event: { type: String, required: true },
    at: { type: String, required: true },
    description: { type: String, required: true },
    before: { type: Schema.Types.Mixed, default: null },
    after: { type: Schema.Types.Mixed, default: null },
  },
  { ...strict, minimize: false },
);
historyEntrySchema.index({ subscriptionId: 1, at: 1 });

const notificationSchema = new Schema(
  {
    /** `<upgradeId>:<event>[:<n>]`: one outbox entry per event, whatever retries happen. */
    _id: { type: String, required: true },
    upgradeId: { type: String, required: true },
    accountId: { type: String, required: true },
    event: { type: String, required: true },
    payload: { type: Schema.Types.Mixed, required: true },
    webhookUrl: { type: String, default: null },
    status: { type: String, required: true, enum: ['pending', 'delivered', 'no_webhook', 'undeliverable'] },
    attempts: { type: Number, default: 0 },
    lastError: { type: String, default: null },
    deliveredAt: { type: Date, default: null },
    /** When the run's own retries gave up (status `undeliverable`): the redelivery window starts here. */
    failedAt: { type: Date, default: null },
    /** Scheduled redeliveries tried so far (activities/webhook-redelivery.ts); manual ones are not counted. */
    redeliveryAttempts: { type: Number, default: 0 },
    /** When the redelivery schedule tries it next; null = at its next run. */
    nextRedeliveryAt: { type: Date, default: null },
    /** When the schedule stopped trying (the window had passed); only a manual redelivery tries it after this. */
    redeliveryEndedAt: { type: Date, default: null },
  },
  { ...strict, minimize: false },
);
notificationSchema.index({ upgradeId: 1 });
notificationSchema.index({ status: 1, nextRedeliveryAt: 1 });
notificationSchema.index({ accountId: 1 });

const subscriptionLockSchema = new Schema(
  {
    /** The subscription id: a second lock on it is a duplicate-key error, which even FerretDB applies atomically. */
    _id: { type: String, required: true },
    upgradeId: { type: String, required: true },
    /** The claim (one start or retry of the upgrade) that took it; absent on locks of runs from before claims. */
    claim: { type: String },
    /** The subscription's account: an account's busy subscriptions are one indexed query (upgrade-options, starts). */
    accountId: { type: String, required: true },
  },
  strict,
);
subscriptionLockSchema.index({ upgradeId: 1 });
subscriptionLockSchema.index({ accountId: 1 });

/**
 * One scheduled upgrade per source: a document whose `_id` is the source subscription, taken by insert (atomic even on
 * FerretDB, like the locks) when an upgrade is scheduled and deleted when it starts, is rejected or is cancelled. The
 * source itself stays unlocked while the upgrade waits for its day.
 */
const scheduledUpgradeSlotSchema = new Schema(
  {
    _id: { type: String, required: true },
    upgradeId: { type: String, required: true },
    accountId: { type: String, required: true },
    dueDate: { type: String, required: true },
  },
  strict,
);
scheduledUpgradeSlotSchema.index({ upgradeId: 1 });

/** `<upgradeId>:<runAttempt>`: whether that run's transition request may leave (src/db/vendor-request-decisions.ts). */
const vendorRequestDecisionSchema = new Schema(
  {
    _id: { type: String, required: true },
    upgradeId: { type: String, required: true },
    decision: { type: String, required: true, enum: ['send', 'do_not_send'] },
  },
  strict,
);

const apiKeySchema = new Schema(
  {
    _id: { type: String, required: true },
    /** sha256 of the secret; the secret itself is shown once and never stored. */
    keyHash: { type: String, required: true },
    role: { type: String, required: true, enum: ['operator', 'reseller', 'customer'] },
    accountIds: { type: [String], default: [] },
    label: String,
    revokedAt: { type: Date, default: null },
  },
  strict,
);
apiKeySchema.index({ keyHash: 1 }, { unique: true });

export type AccountDocument = InferSchemaType<typeof accountSchema>;
export type SubscriptionDocument = InferSchemaType<typeof subscriptionSchema>;
export type ProductDocument = InferSchemaType<typeof productSchema>;
export type UpgradeDocument = InferSchemaType<typeof upgradeSchema>;
export type InvoiceDocument = InferSchemaType<typeof invoiceSchema>;
export type UpgradePlanDocument = InferSchemaType<typeof upgradePlanSchema>;
export type HistoryEntryDocument = InferSchemaType<typeof historyEntrySchema>;
export type NotificationDocument = InferSchemaType<typeof notificationSchema>;
export type ApiKeyDocument = InferSchemaType<typeof apiKeySchema>;
export type SubscriptionLockDocument = InferSchemaType<typeof subscriptionLockSchema>;
export type ScheduledUpgradeSlotDocument = InferSchemaType<typeof scheduledUpgradeSlotSchema>;
export type VendorRequestDecisionDocument = InferSchemaType<typeof vendorRequestDecisionSchema>;

export function createModels(connection: Connection) {
  return {
    accounts: connection.model('Account', accountSchema, 'accounts') as Model<AccountDocument>,
    subscriptions: connection.model('Subscription', subscriptionSchema, 'subscriptions') as Model<SubscriptionDocument>,
    products: connection.model('Product', productSchema, 'products') as Model<ProductDocument>,
    upgrades: connection.model('Upgrade', upgradeSchema, 'upgrades') as Model<UpgradeDocument>,
    upgradePlans: connection.model('UpgradePlan', upgradePlanSchema, 'upgrade_plans') as Model<UpgradePlanDocument>,
    invoices: connection.model('Invoice', invoiceSchema, 'invoices') as Model<InvoiceDocument>,
    historyEntries: connection.model('HistoryEntry', historyEntrySchema, 'history_entries') as Model<HistoryEntryDocument>,
    notifications: connection.model('Notification', notificationSchema, 'notifications') as Model<NotificationDocument>,
    apiKeys: connection.model('ApiKey', apiKeySchema, 'api_keys') as Model<ApiKeyDocument>,
    subscriptionLocks: connection.model('SubscriptionLock', subscriptionLockSchema, 'subscription_locks') as Model<SubscriptionLockDocument>,
    scheduledUpgradeSlots: connection.model(
      'ScheduledUpgradeSlot',
      scheduledUpgradeSlotSchema,
      'scheduled_upgrade_slots',
    ) as Model<ScheduledUpgradeSlotDocument>,
    vendorRequestDecisions: connection.model(
      'VendorRequestDecision',
      vendorRequestDecisionSchema,
      'vendor_request_decisions',
    ) as Model<VendorRequestDecisionDocument>,
  };
}

export type Models = ReturnType<typeof createModels>;
