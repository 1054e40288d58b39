import type { Models } from './models';
import { isDuplicateKeyError } from './duplicate-key';

/**
 * Whether a run's transition request may leave for Partner Center, decided once per upgrade and run attempt by the
 * first of two writers (docs/architecture.md, "Cancellation"): the request activity decides `send` right before
 * its first POST; a workflow cancelled while that activity may still be waiting for its slot decides `do_not_send`.
 * One unique insert each (the one write FerretDB applies atomically under concurrency, see src/db/models.ts): the
 * loser reads the winner's decision. So a cancellation that wins knows no POST of this run attempt left or will leave,
 * even from an activity the workflow no longer waits for; one that loses knows a POST may have left.
 */
export type VendorRequestDecision = 'send' | 'do_not_send';

export async function decideVendorRequest(
  models: Pick<Models, 'vendorRequestDecisions'>,
  upgradeId: string,
  runAttempt: number,
  wanted: VendorRequestDecision,
): Promise<VendorRequestDecision> {
  const _id = `${upgradeId}:${runAttempt}`;
  try {
    await models.vendorRequestDecisions.create({ _id, upgradeId, decision: wanted });
    return wanted;
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
  }
  const taken = await models.vendorRequestDecisions.findById(_id, { decision: 1 }).lean();
  if (!taken) throw new Error(`the vendor request decision ${_id} was taken and then vanished`);
  return taken.decision as VendorRequestDecision;
}
