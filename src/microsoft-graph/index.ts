/** Microsoft Graph: the licence calls of seat reassignment, in the customer's tenant. */
export * from './graph-client';
export * from './graph-errors';
export type { LicensedUser, SubscribedSku } from './graph-schemas';
export * from './graph-token-providers';
export * from './licence-reassignment';
