/**
 * Microsoft Graph response shapes the licence reassignment reads, validated with zod. Graph's own spellings
 * (camelCase, lists under `value`, the next page under `@odata.nextLink`):
 * - subscribedSku: https://learn.microsoft.com/en-us/graph/api/resources/subscribedsku
 * - user (assignedLicenses, licenseAssignmentStates): https://learn.microsoft.com/en-us/graph/api/resources/user
 * - licenseAssignmentState: https://learn.microsoft.com/en-us/graph/api/resources/licenseassignmentstate
 * - paging: https://learn.microsoft.com/en-us/graph/paging
 * - error body `{ error: { code, message } }`: https://learn.microsoft.com/en-us/graph/errors
 */
import { z } from 'zod';

const stringList = z
  .array(z.string())
  .nullish()
  .transform((list) => list ?? []);

export const subscribedSkuSchema = z.object({
  skuId: z.string(),
  skuPartNumber: z.string().nullish(),
  capabilityStatus: z.string().nullish(),
  appliesTo: z.string().nullish(),
  consumedUnits: z.number().int(),
  prepaidUnits: z.object({
    enabled: z.number().int(),
    suspended: z.number().int().nullish(),
    warning: z.number().int().nullish(),
  }),
});
export type SubscribedSku = z.infer<typeof subscribedSkuSchema>;
export const subscribedSkuListSchema = z.object({ value: z.array(subscribedSkuSchema) }).transform((list) => list.value);

export const licenseAssignmentStateSchema = z.object({
  skuId: z.string().nullish(),
  /** Null for a direct assignment; the group's id when the licence is inherited from a group. */
  assignedByGroup: z.string().nullish(),
  state: z.string().nullish(),
  error: z.string().nullish(),
});

export const licensedUserSchema = z.object({
  id: z.string(),
  userPrincipalName: z.string().nullish(),
  assignedLicenses: z
    .array(z.object({ skuId: z.string(), disabledPlans: stringList }))
    .nullish()
    .transform((licenses) => licenses ?? []),
  licenseAssignmentStates: z
    .array(licenseAssignmentStateSchema)
    .nullish()
    .transform((states) => states ?? []),
});
export type LicensedUser = z.infer<typeof licensedUserSchema>;

export const userPageSchema = z.object({
  value: z.array(licensedUserSchema),
  '@odata.nextLink': z.string().url().nullish(),
});

/** assignLicense answers with the user; only its id is needed (the caller re-reads nothing). */
export const assignLicenseResponseSchema = z.object({ id: z.string() });

export const graphErrorBodySchema = z.object({
  error: z.object({ code: z.string().optional(), message: z.string().optional() }),
});
