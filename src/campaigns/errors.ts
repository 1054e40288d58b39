/**
 * Why a campaign use case refused, as data (as `UpgradeError` for single upgrades): the API maps each code to a
 * status in its campaign routes, the CLI prints the sentence.
 */
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

export class CampaignError extends Error {
  constructor(
    readonly code: CampaignErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'CampaignError';
  }
}
