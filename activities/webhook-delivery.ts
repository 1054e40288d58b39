import { AccountSecretUnreadable, signingKeysOf, type StoredAccountSecret } from '../src/webhooks/account-secrets';
import type { UpgradeActivityDeps } from './deps';
import { checkWebhookDestination, postToCheckedAddress, WebhookDestinationRefused, type CheckedAddress } from './webhook-destination';
import { signWebhook, standardWebhookHeaders } from './webhook-signatures';

/** What one delivery attempt needs of an outbox entry (`notifications` collection). */
export interface OutboxDelivery {
  id: string;
  event: string;
  accountId: string;
  webhookUrl: string;
  payload: unknown;
  /** The account's stored secrets when the caller has just read the account (spares reading it again). */
  accountSecrets?: { webhookSecrets?: unknown } | null;
}

/** `final`: no retry can succeed as things stand (the destination is refused by webhook-destination.ts, the account's secret does not decrypt). */
export type DeliveryResult = { delivered: true } | { delivered: false; error: string; final: boolean };

/**
 * The account's valid signing keys at `now`, newest first (the shared secret for accounts without their own). Throws
 * `AccountSecretUnreadable` when the account's secret cannot be decrypted here: no retry fixes that, an operator must
 * give the worker the API's `WEBHOOK_SECRETS_KEY`.
 */
async function signingKeysFor(deps: UpgradeActivityDeps, accountId: string, now: Date, known?: { webhookSecrets?: unknown } | null): Promise<Buffer[]> {
  const account = known !== undefined ? known : await deps.models.accounts.findById(accountId, { webhookSecrets: 1 }).lean();
  const stored = account?.webhookSecrets as StoredAccountSecret[] | undefined;
  if (stored?.length && !deps.webhooks.secretsKey) {
    throw new AccountSecretUnreadable(`account ${accountId} has its own webhook secret but the worker has no WEBHOOK_SECRETS_KEY`);
  }
  return signingKeysOf(deps.webhooks.secretsKey ?? '', deps.webhooks.signingSecret, accountId, stored, now);
}

/**
 * One signed POST of an outbox entry, recorded on the entry: `attempts` counts every try, `lastError` says why the last
 * one failed, a 2xx marks it `delivered`. Used by the upgrade run's own delivery and by redelivery alike, so both sign,
 * check the destination and record the same way. The `webhook-id` is the entry's id: a receiver drops a second copy.
 */
export async function deliverOutboxEntry(deps: UpgradeActivityDeps, entry: OutboxDelivery): Promise<DeliveryResult> {
  const { models } = deps;
  const recordFailure = async (error: string) => {
    await models.notifications.updateOne({ _id: entry.id }, { $inc: { attempts: 1 }, $set: { lastError: error } });
  };
  let checked: CheckedAddress;
  try {
    checked = await checkWebhookDestination(entry.webhookUrl, deps.webhooks.destinations, deps.webhooks.resolve);
  } catch (error) {
    if (!(error instanceof WebhookDestinationRefused)) throw error;
    await recordFailure(error.message);
    return { delivered: false, error: error.message, final: true };
  }
  const body = JSON.stringify(entry.payload);
  const now = deps.clock();
  const timestamp = Math.floor(now.getTime() / 1000);
  let keys: Buffer[];
  try {
    keys = await signingKeysFor(deps, entry.accountId, now, entry.accountSecrets);
  } catch (error) {
    if (!(error instanceof AccountSecretUnreadable)) throw error;
    await recordFailure(error.message);
    return { delivered: false, error: error.message, final: true };
  }
  let failure: string | undefined;
  try {
    const status = await postToCheckedAddress(
      entry.webhookUrl,
      checked,
      {
        'content-type': 'application/json',
        'x-nce-event': entry.event,
        'x-nce-delivery': entry.id,
        // The deprecated header carries the newest secret's signature only (its format has room for one).
        'x-nce-signature': signWebhook(keys[0]!, body, timestamp),
        ...standardWebhookHeaders(keys, entry.id, timestamp, body),
      },
      body,
      AbortSignal.timeout(deps.webhooks.timeoutMs),
    );
    // A redirect is not followed (it would re-post the body and signature to a host nobody checked): it fails.
    if (status < 200 || status > 299) failure = `webhook answered HTTP ${status}${status >= 300 && status < 400 ? ' (redirects are not followed)' : ''}`;
  } catch (error) {
    failure = `webhook unreachable: ${error instanceof Error ? error.message : String(error)}`;
  }
  if (failure) {
    await recordFailure(failure);
    return { delivered: false, error: failure, final: false };
  }
  await models.notifications.updateOne(
    { _id: entry.id },
    { $inc: { attempts: 1 }, $set: { status: 'delivered', deliveredAt: deps.clock(), lastError: null, nextRedeliveryAt: null } },
  );
  return { delivered: true };
}
