/** The vendor boundary: Partner Center client, its errors and token providers. */
export * from './errors';
export * from './partner-center-client';
export type {
  CatalogAvailability,
  CatalogProduct,
  CatalogSku,
  ScheduledNextTermInstructions,
  Transition,
  TransitionEligibility,
  TransitionError,
  TransitionEvent,
  TransitionType,
  VendorSubscription,
} from './partner-center-schemas';
export * from './token-providers';
export * from './transition-progress';
