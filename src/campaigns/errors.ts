import { UseCaseError } from '../use-case-error';

/** Why a campaign use case refused (src/use-case-error.ts), as `UpgradeError` for single upgrades. */
export const CAMPAIGN_ERROR_CODES = [
  /** The campaign, or an account it names, does not exist or is outside the caller's scope. */
  'NOT_FOUND',
  /** Only operators and reseller keys run campaigns. */
  'FORBIDDEN',
  /** The campaign's status does not allow the action (e.g. executing a cancelled campaign). */
  'CAMPAIGN_STATE_CONFLICT',
  /** Temporal did not start the run or answer in time; nothing was changed. */
  'TEMPORAL_UNAVAILABLE',
] as const;
export type CampaignErrorCode = (typeof CAMPAIGN_ERROR_CODES)[number];

export class CampaignError extends UseCaseError<CampaignErrorCode> {}
