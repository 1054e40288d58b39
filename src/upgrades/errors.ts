import { UseCaseError } from '../use-case-error';

/** Why an upgrade use case refused (src/use-case-error.ts). */
export const UPGRADE_ERROR_CODES = [
  /** The upgrade or its source subscription does not exist, or the caller may not see it. */
  'NOT_FOUND',
  /** The eligibility engine refused: `details.reasons` lists every failing rule. */
  'NOT_ELIGIBLE',
  /** Another upgrade holds the source or the destination: `details.heldBy`. */
  'UPGRADE_IN_PROGRESS',
  /** The same idempotency key was used before with another request. */
  'IDEMPOTENCY_KEY_REUSED',
  /** Only a failed upgrade can be retried; this one is not failed (or is being retried already). */
  'UPGRADE_NOT_FAILED',
  /** Temporal refused the re-run: the last run did not fail, or one is still running. */
  'RETRY_NOT_POSSIBLE',
  /** The upgrade is not waiting for a seat reassignment confirmation. */
  'NOTHING_AWAITING_CONFIRMATION',
  /** The upgrade is not in `needs_attention`, or its outcome was settled already. */
  'NOT_AWAITING_RESOLUTION',
  /** Temporal did not start the run or answer in time; nothing was left half done. */
  'TEMPORAL_UNAVAILABLE',
  /** Partner Center did not give its eligibility verdict; a start cannot go ahead without it. */
  'VENDOR_UNAVAILABLE',
  /** `when` breaks a scheduling rule (`details.field`, `details.rule`): a day not after today, or after the term. */
  'INVALID_SCHEDULE',
  /** The source already has a scheduled upgrade waiting for its day (`details.upgradeId`): one per source. */
  'UPGRADE_ALREADY_SCHEDULED',
  /** Only a scheduled upgrade that has not started can be cancelled. */
  'NOT_SCHEDULED',
] as const;
export type UpgradeErrorCode = (typeof UPGRADE_ERROR_CODES)[number];

export class UpgradeError extends UseCaseError<UpgradeErrorCode> {}

export const upgradeNotFound = (what: string): UpgradeError => new UpgradeError('NOT_FOUND', `${what} not found`);
