import type { UpgradeUseCaseDeps } from '../../upgrades/deps';
import { UpgradeError } from '../../upgrades/errors';
import { cancelScheduledUpgrade } from '../../upgrades/schedule';
import { CliError } from '../errors';

/**
 * `upgrades cancel <upgradeId>`: cancels a scheduled upgrade before its day with the same use case as
 * `POST /v1/upgrades/:id/cancel` (src/upgrades/schedule.ts), as the operator (every account). Nothing is left behind;
 * an upgrade that is not scheduled, or whose day has come, is refused and the refusal changes nothing.
 */
export const CLI_ACTOR = { keyId: 'cli-operator', mayActOnAccount: () => true };

export async function cancelUpgrade(deps: UpgradeUseCaseDeps, upgradeId: string): Promise<{ upgradeId: string; status: string }> {
  try {
    return await cancelScheduledUpgrade(deps, CLI_ACTOR, upgradeId);
  } catch (error) {
    if (error instanceof UpgradeError) throw new CliError(`cancel refused: ${error.code}: ${error.message}`);
    throw error;
  }
}
