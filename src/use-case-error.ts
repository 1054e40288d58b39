/**
 * Why a use case refused, as data: a stable code, a sentence, and details for the caller. Each family of use cases
 * has its own codes (`UpgradeError`, `CampaignError`); the HTTP API maps each code to a status
 * (`src/api/upgrade-errors.ts`), the CLI prints the sentence; neither re-decides the refusal.
 */
export class UseCaseError<Code extends string> extends Error {
  constructor(
    readonly code: Code,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}
