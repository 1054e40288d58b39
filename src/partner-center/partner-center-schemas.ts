/**
 * Zod schemas for Partner Center responses, and the types the rest of the
 * service sees. Parsing is tolerant where Microsoft's own samples disagree (https://learn.microsoft.com/en-us/partner-center/developer/transition-a-new-commerce-subscription ,
 * https://learn.microsoft.com/en-us/partner-center/developer/transition-resources):
 * keys in any letter case (`Events`/`events`), status values with stray spaces (`"Started "`),
 * SDK spellings (`SeatReassignment`, `InProgress`) and list keys (`transition` or `items`).
 * Output is always the canonical REST spelling.
 */
import { z } from 'zod';

/** An object schema whose keys match in any letter case; unknown keys are dropped. */
function caseInsensitiveObject<Shape extends z.ZodRawShape>(shape: Shape) {
  const canonicalKeyByLowercase = new Map(Object.keys(shape).map((key) => [key.toLowerCase(), key]));
  return z.preprocess((input) => {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) return input;
    const renamed: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(input)) {
      const canonicalKey = canonicalKeyByLowercase.get(key.toLowerCase());
      // First spelling wins, so a body carrying both `events` and `Events` stays deterministic.
      if (canonicalKey !== undefined && !(canonicalKey in renamed)) renamed[canonicalKey] = value;
    }
    return renamed;
  }, z.object(shape));
}

/** A string enum matched case-insensitively after trimming, with aliases for other spellings. */
function tolerantEnum<const Values extends readonly [string, ...string[]]>(values: Values, aliases: Readonly<Record<string, Values[number]>> = {}) {
  const canonicalByLowercase = new Map<string, Values[number]>([
    ...values.map((value): [string, Values[number]] => [value.toLowerCase(), value]),
    ...Object.entries(aliases).map(([alias, value]): [string, Values[number]] => [alias.toLowerCase(), value]),
  ]);
  return z.string().transform((raw, context): Values[number] => {
    const canonical = canonicalByLowercase.get(raw.trim().toLowerCase());
    if (canonical === undefined) {
      context.addIssue({ code: 'custom', message: `unexpected value "${raw}", expected one of ${values.join(', ')}` });
      return z.NEVER;
    }
    return canonical;
  });
}

/** A collection envelope whose list may be called `items`, `value` (Graph) or `transition` (2021 sample). */
function collectionOf<Item extends z.ZodType>(item: Item, listKeys: readonly string[] = ['items']) {
  const lowercaseListKeys = listKeys.map((key) => key.toLowerCase());
  return z
    .preprocess(
      (input) => {
        if (typeof input !== 'object' || input === null || Array.isArray(input)) return input;
        const entry = Object.entries(input).find(([key]) => lowercaseListKeys.includes(key.toLowerCase()));
        return { items: entry === undefined ? undefined : entry[1] };
      },
      z.object({ items: z.array(item) }),
    )
    .transform((collection) => collection.items);
}

const nullableString = z
  .string()
  .nullish()
  .transform((value) => value ?? undefined);

export const transitionTypes = ['transition_only', 'transition_with_license_transfer'] as const;
export type TransitionType = (typeof transitionTypes)[number];
export const eligibilityTransitionTypes = ['none', ...transitionTypes] as const;

export const transitionErrorSchema = caseInsensitiveObject({
  code: z.union([z.number(), z.string()]),
  description: z.string().default(''),
});
export type TransitionError = z.infer<typeof transitionErrorSchema>;
const errorList = z
  .array(transitionErrorSchema)
  .nullish()
  .transform((errors) => errors ?? []);

/** A status Microsoft does not document (only Started, Completed and Failed are): read as neither success nor failure. */
export const UNRECOGNISED_EVENT_STATUS = 'Unrecognised';
const knownEventStatus = tolerantEnum(['Started', 'Completed', 'Failed'], { InProgress: 'Started' });

export const transitionEventSchema = caseInsensitiveObject({
  name: tolerantEnum(['Conversion', 'LicenseReassignment'], { SeatReassignment: 'LicenseReassignment' }),
  status: z.string(),
  timestamp: z.string(),
  errors: errorList,
}).transform((event) => {
  // Kept rather than rejected: one odd event must not make the whole transition list unreadable. Microsoft documents
  // only Started, Completed and Failed; anything else is read as neither success nor failure, its spelling kept.
  const known = knownEventStatus.safeParse(event.status);
  return known.success
    ? { ...event, status: known.data, rawStatus: undefined }
    : { ...event, status: UNRECOGNISED_EVENT_STATUS as typeof UNRECOGNISED_EVENT_STATUS, rawStatus: event.status.trim() };
});
export type TransitionEvent = z.infer<typeof transitionEventSchema>;

export const transitionSchema = caseInsensitiveObject({
  /** Not in Microsoft's documented resource; the simulator sends it. Matching never requires it. */
  id: nullableString,
  /** Microsoft's id of the asynchronous operation, in the POST's answer (follow with `GET …/transitions?operationId=`). */
  operationId: nullableString,
  fromCatalogItemId: nullableString,
  fromSubscriptionId: nullableString,
  toCatalogItemId: z.string(),
  toSubscriptionId: nullableString,
  quantity: z.number().int(),
  termDuration: nullableString,
  billingCycle: nullableString,
  transitionType: tolerantEnum(transitionTypes),
  promotionId: nullableString,
  events: z
    .array(transitionEventSchema)
    .nullish()
    .transform((events) => events ?? []),
});
export type Transition = z.infer<typeof transitionSchema>;
export const transitionListSchema = collectionOf(transitionSchema, ['items', 'transition', 'transitions']);

export const transitionEligibilitySchema = caseInsensitiveObject({
  catalogItemId: z.string(),
  title: z.string().default(''),
  description: nullableString,
  quantity: z
    .number()
    .int()
    .nullish()
    .transform((quantity) => quantity ?? undefined),
  eligibilities: z
    .array(
      caseInsensitiveObject({
        isEligible: z.boolean(),
        transitionType: tolerantEnum(eligibilityTransitionTypes),
        errors: errorList,
      }),
    )
    .default([]),
  subscriptionEligibilities: z
    .array(
      caseInsensitiveObject({
        isEligible: z.boolean(),
        subscriptionId: z.string(),
        subscriptionFriendlyName: nullableString,
        subscriptionTermDuration: nullableString,
        subscriptionBillingCycle: nullableString,
        errors: errorList,
      }),
    )
    .nullish()
    .transform((list) => list ?? []),
});
export type TransitionEligibility = z.infer<typeof transitionEligibilitySchema>;
export const transitionEligibilityListSchema = collectionOf(transitionEligibilitySchema);

/**
 * The change Microsoft applies at the subscription's next renewal
 * (https://learn.microsoft.com/en-us/partner-center/developer/create-scheduled-changes): the product with its term and
 * billing cycle, and the seats.
 */
export const scheduledNextTermInstructionsSchema = caseInsensitiveObject({
  product: caseInsensitiveObject({
    productId: z.string(),
    skuId: z.string(),
    availabilityId: z.string(),
    billingCycle: z.string(),
    termDuration: z.string(),
  }),
  quantity: z.number().int(),
});
export type ScheduledNextTermInstructions = z.infer<typeof scheduledNextTermInstructionsSchema>;

export const vendorSubscriptionSchema = caseInsensitiveObject({
  id: z.string(),
  offerId: z.string(),
  offerName: nullableString,
  friendlyName: nullableString,
  quantity: z.number().int(),
  status: z.string().transform((status) => status.trim().toLowerCase()),
  termDuration: z.string(),
  billingCycle: z.string().transform((cycle) => cycle.trim().toLowerCase()),
  effectiveStartDate: nullableString,
  commitmentEndDate: nullableString,
  cancellationAllowedUntilDate: nullableString,
  isTrial: z.boolean().default(false),
  autoRenewEnabled: z
    .boolean()
    .nullish()
    .transform((enabled) => enabled ?? undefined),
  partnerId: nullableString,
  scheduledNextTermInstructions: scheduledNextTermInstructionsSchema.nullish().transform((instructions) => instructions ?? undefined),
  /** The resource's ETag, for the `If-Match` of a PATCH. */
  attributes: caseInsensitiveObject({ etag: nullableString })
    .nullish()
    .transform((attributes) => attributes ?? undefined),
});
export type VendorSubscription = z.infer<typeof vendorSubscriptionSchema>;
export const vendorSubscriptionListSchema = collectionOf(vendorSubscriptionSchema);

/**
 * Microsoft's catalog resources (https://learn.microsoft.com/en-us/partner-center/developer/product-resources):
 * only the fields the catalog sync reads; the rest is dropped.
 */
export const catalogProductSchema = caseInsensitiveObject({
  id: z.string(),
  title: z.string(),
  productType: caseInsensitiveObject({ id: z.string() }).nullish(),
});
export type CatalogProduct = z.infer<typeof catalogProductSchema>;
export const catalogProductListSchema = collectionOf(catalogProductSchema);

export const catalogSkuSchema = caseInsensitiveObject({
  id: z.string(),
  productId: z.string(),
  title: z.string(),
  minimumQuantity: z.number().int(),
  maximumQuantity: z.number().int(),
  isTrial: z.boolean().default(false),
});
export type CatalogSku = z.infer<typeof catalogSkuSchema>;
export const catalogSkuListSchema = collectionOf(catalogSkuSchema);

export const catalogAvailabilitySchema = caseInsensitiveObject({
  id: z.string(),
  productId: z.string(),
  skuId: z.string(),
  catalogItemId: z.string(),
  segment: nullableString,
  terms: z
    .array(caseInsensitiveObject({ duration: z.string(), billingCycle: nullableString }))
    .nullish()
    .transform((terms) => terms ?? []),
});
export type CatalogAvailability = z.infer<typeof catalogAvailabilitySchema>;
export const catalogAvailabilityListSchema = collectionOf(catalogAvailabilitySchema);

/** Partner Center error body `{ code, description, data?, source }`. */
export const partnerCenterErrorBodySchema = caseInsensitiveObject({
  code: z.union([z.number(), z.string()]).optional(),
  description: z.string().optional(),
  data: z.array(z.unknown()).nullish(),
});

/** Graph error body `{ error: { code, message } }`. */
export const graphErrorBodySchema = caseInsensitiveObject({
  error: caseInsensitiveObject({ code: z.string().optional(), message: z.string().optional() }),
});
