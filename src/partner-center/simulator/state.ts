/**
 * The simulator's world, held in memory: tenants, subscriptions, catalog, users, transitions and
 * counters. In-memory is deliberate: the simulator is a test and demo double, each test starts its
 * own instance, and restarting it gives a clean Partner Center.
 */
import { z } from 'zod';

export const tenantSeedSchema = z.object({
  customerTenantId: z.string().min(1),
  /** Partner of record (MPN); the throttling key is (partner, customer). */
  partnerId: z.string().min(1).default('default-partner'),
});
export type SimulatedTenant = z.infer<typeof tenantSeedSchema>;

export const subscriptionStatuses = ['active', 'suspended', 'cancelled', 'expired', 'pending'] as const;

export const subscriptionSeedSchema = z.object({
  id: z.string().min(1),
  customerTenantId: z.string().min(1),
  /** product:sku:availability */
  offerId: z.string().min(1),
  friendlyName: z.string().optional(),
  quantity: z.number().int().min(0),
  status: z.enum(subscriptionStatuses).default('active'),
  termDuration: z
    .string()
    .regex(/^P\d+[MY]$/)
    .default('P1Y'),
  billingCycle: z.string().default('monthly'),
  effectiveStartDate: z.string().optional(),
  commitmentEndDate: z.string(),
  /** Null when cancellation is not allowed any more (https://learn.microsoft.com/en-us/partner-center/developer/subscription-resources). */
  cancellationAllowedUntilDate: z.string().nullable().default(null),
  isTrial: z.boolean().default(false),
  autoRenewEnabled: z.boolean().default(true),
  partnerId: z.string().optional(),
  /** The change Microsoft applies at the next renewal (https://learn.microsoft.com/en-us/partner-center/developer/create-scheduled-changes). */
  scheduledNextTermInstructions: z
    .object({
      product: z.object({ productId: z.string(), skuId: z.string(), availabilityId: z.string(), billingCycle: z.string(), termDuration: z.string() }),
      quantity: z.number().int().min(1),
    })
    .nullable()
    .default(null),
  /** Bumped at every change of the resource: the ETag a PATCH must carry in If-Match. */
  version: z.number().int().min(0).default(0),
});
export type SimulatedSubscription = z.infer<typeof subscriptionSeedSchema>;
export type ScheduledNextTermInstructions = NonNullable<SimulatedSubscription['scheduledNextTermInstructions']>;

export const userSeedSchema = z.object({
  id: z.string().min(1),
  customerTenantId: z.string().min(1),
  userPrincipalName: z.string().min(1),
  displayName: z.string().optional(),
  /** One entry per assignment: a licence inherited from a group names the group (Graph's `assignedByGroup`). */
  assignedLicenses: z
    .array(z.object({ skuId: z.string().min(1), disabledPlans: z.array(z.string()).default([]), assignedByGroup: z.string().min(1).optional() }))
    .default([]),
});
export type SimulatedUser = z.infer<typeof userSeedSchema>;

export const productSeedSchema = z.object({
  catalogItemId: z.string().regex(/^[^:]+:[^:]+:[^:]+$/, 'product:sku:availability'),
  title: z.string().min(1),
  description: z.string().optional(),
  offerType: z.enum(['standard', 'specialized', 'trial']).default('standard'),
  segment: z.string().default('commercial'),
  minimumQuantity: z.number().int().min(1).default(1),
  maximumQuantity: z.number().int().min(1).default(300),
  /** Entra SKU GUID: Graph's `skuId`, distinct from the Partner Center catalog id (docs/partner-center.md, "Licences"). */
  entraSkuId: z.string().min(1),
  skuPartNumber: z.string().optional(),
  /** catalogItemIds this product may transition to (the ProductSkuConversion column). */
  upgradeTargets: z.array(z.string()).default([]),
  prices: z
    .array(
      z.object({
        termDuration: z.string(),
        billingCycle: z.string(),
        currency: z.string().default('USD'),
        unitPrice: z.string(),
        erpPrice: z.string().optional(),
      }),
    )
    .default([]),
});
export type SimulatedProduct = z.infer<typeof productSeedSchema>;

export const seedSchema = z
  .object({
    tenants: z.array(tenantSeedSchema).default([]),
    subscriptions: z.array(subscriptionSeedSchema).default([]),
    users: z.array(userSeedSchema).default([]),
    products: z.array(productSeedSchema).default([]),
  })
  .strict();
export type SimulatorSeed = z.input<typeof seedSchema>;

export type EventName = 'Conversion' | 'LicenseReassignment';
export type EventStatus = 'Started' | 'Completed' | 'Failed';
export interface SimulatedEventError {
  code: number | string;
  description: string;
}
export interface SimulatedEvent {
  name: EventName;
  status: EventStatus;
  /** What the wire shows instead of `status` (the fault `unrecognisedConversionStatus`). */
  reportedStatus?: string;
  timestamp: string;
  errors: SimulatedEventError[];
}

export type TransitionType = 'transition_only' | 'transition_with_license_transfer';

export interface SimulatedTransition {
  id: string;
  /** Microsoft's operation id, returned by the POST and accepted as a filter by GET …/transitions. */
  operationId: string;
  customerTenantId: string;
  requestId: string;
  fromSubscriptionId: string;
  fromCatalogItemId: string;
  toCatalogItemId: string;
  /** Known at POST time for every kind (see transitions.ts). */
  toSubscriptionId: string;
  kind: 'full_to_new' | 'partial_to_new' | 'to_existing';
  quantity: number;
  termDuration: string;
  billingCycle: string;
  transitionType: TransitionType;
  promotionId: string | undefined;
  events: SimulatedEvent[];
  /** Outcomes drawn at POST time so a run is reproducible whatever order reads arrive in. */
  conversionOutcome: { at: number; fails: boolean; reportAs?: string; seatsShort: number };
  licenseReassignmentOutcome: { at: number; fails: boolean } | undefined;
  finished: boolean;
}

export interface SimulatorCounters {
  vendorRequests: number;
  graphRequests: number;
  postTransitionCalls: number;
  transitionsCreated: number;
  transitionsCreatedBySubscription: Record<string, number>;
  transitionsCreatedByRequestId: Record<string, number>;
  assignLicenseCalls: number;
  throttledResponses: number;
  injected5xxResponses: number;
  /** Subscriptions renewed by the simulator's clock (with or without scheduled instructions). */
  renewals: number;
  /** Per subscription: PATCHes that wrote a scheduled change (non-null `scheduledNextTermInstructions`). */
  scheduledChangesWrittenBySubscription: Record<string, number>;
  /** Per customer tenant: reads of transitions answered with the injected `transitionReadErrors` status. */
  transitionReadErrorsServed: Record<string, number>;
}

function emptyCounters(): SimulatorCounters {
  return {
    vendorRequests: 0,
    graphRequests: 0,
    postTransitionCalls: 0,
    transitionsCreated: 0,
    transitionsCreatedBySubscription: {},
    transitionsCreatedByRequestId: {},
    assignLicenseCalls: 0,
    throttledResponses: 0,
    injected5xxResponses: 0,
    renewals: 0,
    scheduledChangesWrittenBySubscription: {},
    transitionReadErrorsServed: {},
  };
}

/** Ids are compared case-insensitively, as GUIDs are. */
export const idKey = (id: string) => id.toLowerCase();

export class SimulatorState {
  readonly tenants = new Map<string, SimulatedTenant>();
  readonly subscriptions = new Map<string, SimulatedSubscription>();
  readonly users = new Map<string, SimulatedUser>();
  readonly products = new Map<string, SimulatedProduct>();
  readonly transitions: SimulatedTransition[] = [];
  counters: SimulatorCounters = emptyCounters();
  /** Requests no route served: a client calling a path Microsoft does not document (the contract test asserts none). */
  readonly unmatchedRequests: { method: string; path: string }[] = [];

  seed(input: SimulatorSeed): void {
    const seed = seedSchema.parse(input);
    for (const tenant of seed.tenants) this.tenants.set(idKey(tenant.customerTenantId), tenant);
    for (const subscription of seed.subscriptions) {
      if (!this.tenants.has(idKey(subscription.customerTenantId))) {
        this.tenants.set(idKey(subscription.customerTenantId), tenantSeedSchema.parse({ customerTenantId: subscription.customerTenantId }));
      }
      this.subscriptions.set(idKey(subscription.id), subscription);
    }
    for (const user of seed.users) this.users.set(idKey(user.id), user);
    for (const product of seed.products) this.products.set(idKey(product.catalogItemId), product);
  }

  clear(): void {
    this.tenants.clear();
    this.subscriptions.clear();
    this.users.clear();
    this.products.clear();
    this.transitions.length = 0;
    this.unmatchedRequests.length = 0;
    this.counters = emptyCounters();
  }

  tenant(customerTenantId: string): SimulatedTenant | undefined {
    return this.tenants.get(idKey(customerTenantId));
  }

  /** A subscription only if it belongs to that customer: other tenants' ids are "not found". */
  subscriptionOf(customerTenantId: string, subscriptionId: string): SimulatedSubscription | undefined {
    const subscription = this.subscriptions.get(idKey(subscriptionId));
    return subscription !== undefined && idKey(subscription.customerTenantId) === idKey(customerTenantId) ? subscription : undefined;
  }

  subscriptionsOf(customerTenantId: string): SimulatedSubscription[] {
    return [...this.subscriptions.values()].filter((subscription) => idKey(subscription.customerTenantId) === idKey(customerTenantId));
  }

  usersOf(customerTenantId: string): SimulatedUser[] {
    return [...this.users.values()].filter((user) => idKey(user.customerTenantId) === idKey(customerTenantId));
  }

  product(catalogItemId: string): SimulatedProduct | undefined {
    return this.products.get(idKey(catalogItemId));
  }

  countTransitionCreated(transition: SimulatedTransition): void {
    const bySubscription = this.counters.transitionsCreatedBySubscription;
    const byRequestId = this.counters.transitionsCreatedByRequestId;
    this.counters.transitionsCreated += 1;
    bySubscription[transition.fromSubscriptionId] = (bySubscription[transition.fromSubscriptionId] ?? 0) + 1;
    byRequestId[transition.requestId] = (byRequestId[transition.requestId] ?? 0) + 1;
  }
}
