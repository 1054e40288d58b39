import type { Account, Subscription } from '../../src/domain/types';
import { sampleAccount, sampleSubscription } from '../../src/sample-data';
import { DEMO_PRODUCT_IDS } from '../../src/domain/demo-catalog';

/**
 * What the campaign test, the campaign benchmark and the campaign history recorder share: a world of Business Basic
 * subscriptions over accounts, the HTTP calls that drive a campaign, and waiting for one to reach a state.
 */
export interface CampaignWorld {
  accounts: Account[];
  subscriptions: Subscription[];
}

/**
 * `accounts` accounts (`<prefix>-acc-<a>`), account `a` holding `perAccount(a)` Business Basic subscriptions
 * (`<prefix>-sub-<a>-<s>`); `overrides(a, s)` makes some of them different (ineligible, another product…).
 */
export function campaignWorld(options: {
  prefix: string;
  accounts: number;
  perAccount: (account: number) => number;
  overrides?: (account: number, subscription: number) => Partial<Subscription> | undefined;
  account?: (account: number) => Partial<Account> | undefined;
}): CampaignWorld {
  const accounts: Account[] = [];
  const subscriptions: Subscription[] = [];
  for (let a = 0; a < options.accounts; a += 1) {
    const account = sampleAccount({ id: `${options.prefix}-acc-${a}`, ...options.account?.(a) });
    accounts.push(account);
    for (let s = 0; s < options.perAccount(a); s += 1) {
      subscriptions.push(sampleSubscription(account, { id: `${options.prefix}-sub-${a}-${s}`, ...options.overrides?.(a, s) }));
    }
  }
  return { accounts, subscriptions };
}

/** The body of `POST /v1/campaigns` moving `accountIds`' Business Basic subscriptions to `targetProductId`. */
export function campaignRequest(name: string, accountIds: readonly string[] | undefined, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    sourceProductId: DEMO_PRODUCT_IDS.businessBasic,
    targetProductId: DEMO_PRODUCT_IDS.businessStandard,
    destination: { type: 'new' },
    ...(accountIds ? { accountIds } : {}),
    quantity: 'all',
    ...extra,
  };
}

export interface ApiAnswer {
  status: number;
  body: any;
  text: string;
  headers: Headers;
}

/** An HTTP caller of the API at `baseUrl` as `key`; `call` answers whatever the status, `ok` throws unless 2xx. */
export function campaignApi(baseUrl: string, key: string) {
  const call = async (method: string, path: string, body?: unknown): Promise<ApiAnswer> => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    // JSON answers and errors; the report is CSV (its text).
    const isJson = text !== '' && (response.headers.get('content-type') ?? '').includes('json');
    return { status: response.status, body: isJson ? JSON.parse(text) : undefined, text, headers: response.headers };
  };
  const ok = async (method: string, path: string, body?: unknown): Promise<Record<string, any>> => {
    const answer = await call(method, path, body);
    if (answer.status < 200 || answer.status > 299) throw new Error(`${method} ${path}: ${answer.status} ${answer.text}`);
    return answer.body as Record<string, any>;
  };
  return { call, ok };
}
export type CampaignApi = ReturnType<typeof campaignApi>;

/** Reads until `done` holds; throws naming `what` and the last value once `timeoutMs` has passed. */
export async function until<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 90_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** Waits until the campaign's `GET` answer satisfies `done`; returns that answer's body. */
export function untilCampaign(api: CampaignApi, campaignId: string, what: string, done: (campaign: Record<string, any>) => boolean, timeoutMs?: number) {
  return until(what, () => api.ok('GET', `/v1/campaigns/${campaignId}`), done, timeoutMs);
}
