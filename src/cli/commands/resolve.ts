import { userInfo } from 'node:os';
import type { UpgradeUseCaseDeps } from '../../upgrades/deps';
import { UpgradeError } from '../../upgrades/errors';
import { resolveUncertainOutcome, type ResolvedUpgrade, type UncertainOutcomeDecision } from '../../upgrades/resolve';
import { CliError } from '../errors';

/**
 * `upgrades resolve <upgradeId> --converted|--not-converted`: an operator settles an upgrade that waits in
 * `needs_attention`, with the same use case as `POST /v1/upgrades/:id/resolve` (`src/upgrades/resolve.ts`). The
 * decision is recorded as made by `cli:<the operating system user>`.
 */
export async function resolveUpgradeOutcome(deps: UpgradeUseCaseDeps, upgradeId: string, decision: UncertainOutcomeDecision): Promise<ResolvedUpgrade> {
  const actor = { keyId: `cli:${userInfo().username}`, mayActOnAccount: () => true };
  try {
    return await resolveUncertainOutcome(deps, actor, upgradeId, decision);
  } catch (error) {
    if (error instanceof UpgradeError) throw new CliError(`resolution refused: ${error.code}: ${error.message}`);
    throw error;
  }
}
