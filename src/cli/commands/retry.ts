import type { UpgradeUseCaseDeps } from '../../upgrades/deps';
import { UpgradeError } from '../../upgrades/errors';
import { retryUpgrade } from '../../upgrades/retry';
import { CliError } from '../errors';

/**
 * `upgrades retry <upgradeId>`: re-runs a failed upgrade with the same use case as `POST /v1/upgrades/:id/retry`
 * (`src/upgrades/retry.ts`): it re-takes the locks, claims the record (`failed` → `accepted`) and starts a new run
 * under the same workflow id. The activities are keyed by the upgrade id: no second vendor transition, no second
 * invoice. An upgrade that did not fail is refused, and the refusal changes nothing.
 */
export interface RetryResult {
  upgradeId: string;
  status: string;
}

export async function retryFailedUpgrade(deps: UpgradeUseCaseDeps, upgradeId: string): Promise<RetryResult> {
  try {
    const { status } = await retryUpgrade(deps, upgradeId);
    return { upgradeId, status };
  } catch (error) {
    if (error instanceof UpgradeError) throw new CliError(`retry refused: ${error.code}: ${error.message}`);
    throw error;
  }
}
