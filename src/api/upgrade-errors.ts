import { CampaignError, type CampaignErrorCode } from '../campaigns/errors';
import { UpgradeError, type UpgradeErrorCode } from '../upgrades/errors';
import { ApiError } from './errors';

/** The HTTP status of each refusal of an upgrade use case; the error code and details go out unchanged. */
export const HTTP_STATUS_OF_UPGRADE_ERROR = {
  NOT_FOUND: 404,
  NOT_ELIGIBLE: 422,
  IDEMPOTENCY_KEY_REUSED: 422,
  UPGRADE_IN_PROGRESS: 409,
  UPGRADE_NOT_FAILED: 409,
  RETRY_NOT_POSSIBLE: 409,
  NOTHING_AWAITING_CONFIRMATION: 409,
  NOT_AWAITING_RESOLUTION: 409,
  TEMPORAL_UNAVAILABLE: 503,
  VENDOR_UNAVAILABLE: 503,
  INVALID_SCHEDULE: 422,
  UPGRADE_ALREADY_SCHEDULED: 409,
  NOT_SCHEDULED: 409,
} as const satisfies Record<UpgradeErrorCode, number>;

/** The HTTP status of each refusal of a campaign use case (a campaign's items are refused as upgrades are). */
export const HTTP_STATUS_OF_CAMPAIGN_ERROR = {
  NOT_FOUND: 404,
  FORBIDDEN: 403,
  CAMPAIGN_STATE_CONFLICT: 409,
  TEMPORAL_UNAVAILABLE: 503,
} as const satisfies Record<CampaignErrorCode, number>;

/** An `UpgradeError` or a `CampaignError` as the API's error; anything else unchanged (the central handler deals with it). */
export function httpErrorOf(error: unknown): unknown {
  if (error instanceof UpgradeError) return new ApiError(HTTP_STATUS_OF_UPGRADE_ERROR[error.code], error.code, error.message, error.details);
  if (error instanceof CampaignError) return new ApiError(HTTP_STATUS_OF_CAMPAIGN_ERROR[error.code], error.code, error.message, error.details);
  return error;
}

/** Awaits a use case, turning its refusal into the HTTP answer. */
export async function answering<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    throw httpErrorOf(error);
  }
}
