/**
 * Every `ApplicationFailure` type the upgrade's activities throw and its workflow ends with, in one place: activities
 * throw with these names, the workflow's retry policies list them, and tests check both against the Partner Center
 * client's error classes (whose `name` becomes the failure type when activities/vendor-failures.ts maps them).
 */
export const FAILURE_TYPES = {
  /** Partner Center refused the request for a business reason; repeating it cannot help. */
  vendorBusinessRejection: 'VendorBusinessRejectionError',
  /** Unknown customer, subscription or user at Partner Center. */
  vendorNotFound: 'VendorNotFoundError',
  /** Our credentials or roles at Partner Center are wrong: a human must act. */
  vendorAuth: 'VendorAuthError',
  /** A 2xx body that breaks the contract (or a completed transition lacking what we need). */
  vendorResponseInvalid: 'VendorResponseInvalidError',
  /** 429: retried after exactly the vendor's Retry-After. */
  vendorThrottled: 'VendorThrottledError',
  /** 5xx, timeouts, network: retried with backoff. */
  vendorUnavailable: 'VendorUnavailableError',
  /** Another transition on the subscription still runs: retried with backoff. */
  vendorConflict: 'VendorConflictError',
  /** 412: the subscription changed since it was read (its ETag): read again and retried. */
  vendorPreconditionFailed: 'VendorPreconditionFailedError',
  /** No free seats of the target SKU yet: retried, then the workflow falls back to manual reassignment. */
  licenseShortage: 'LicenseShortageError',
  /** Our own records contradict each other (a subscription or account vanished). */
  upgradeDataInconsistent: 'UpgradeDataInconsistent',
  /** A step after validation found no frozen plan. */
  upgradePlanMissing: 'UpgradePlanMissing',
  /**
   * Whether Microsoft converted cannot be told automatically (a lost answer that listing could not settle, a
   * transition that cannot be read or reports an undocumented status or another quantity): never "nothing changed".
   */
  vendorOutcomeUnknown: 'VendorOutcomeUnknown',
  /** The run was cancelled and decided that its request does not leave (src/db/vendor-request-decisions.ts). */
  vendorRequestWithdrawn: 'VendorRequestWithdrawn',
  /** Following a transition that was never recorded. */
  vendorTransitionMissing: 'VendorTransitionMissing',
  /** The account's webhook refused or missed a notification: retried, then kept in the outbox. */
  webhookDeliveryFailed: 'WebhookDeliveryFailed',
  /** The workflow's own endings: not eligible at validation, or failed before the conversion. */
  upgradeRejected: 'UpgradeRejected',
  upgradeFailed: 'UpgradeFailed',
} as const;
export type FailureType = (typeof FAILURE_TYPES)[keyof typeof FAILURE_TYPES];

/** Asking Partner Center for the transition: a business rejection or a contract error is final, as is missing data. */
export const NON_RETRYABLE_VENDOR_REQUEST_FAILURES: readonly FailureType[] = [
  FAILURE_TYPES.vendorBusinessRejection,
  FAILURE_TYPES.vendorNotFound,
  FAILURE_TYPES.vendorAuth,
  FAILURE_TYPES.vendorResponseInvalid,
  FAILURE_TYPES.upgradeDataInconsistent,
  FAILURE_TYPES.upgradePlanMissing,
  FAILURE_TYPES.vendorOutcomeUnknown,
  FAILURE_TYPES.vendorRequestWithdrawn,
];

/** Following the transition: only a transition that was never recorded is final; vendor errors while polling are not. */
export const NON_RETRYABLE_VENDOR_FOLLOW_FAILURES: readonly FailureType[] = [FAILURE_TYPES.vendorTransitionMissing, FAILURE_TYPES.vendorOutcomeUnknown];
