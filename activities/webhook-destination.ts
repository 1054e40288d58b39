import { lookup as dnsLookup } from 'node:dns/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * Where a webhook may be delivered. A portal sets its own URL, so without these rules it could aim our worker at
 * anything the worker reaches: the cloud metadata service, the database, the cluster's services. At send time the host
 * is resolved, every address it resolves to must be public unicast (ipaddr.js classifies them: loopback, RFC 1918,
 * fc00::/7, link-local with 169.254.169.254, multicast, unspecified, carrier-grade NAT and the other special ranges are
 * refused; numeric forms such as `0x7f000001` and IPv4-mapped IPv6 are normalised first), and the connection goes
 * to the address that was checked, so a second DNS answer (rebinding) cannot move it.
 */
export interface WebhookDestinationRules {
  /** `WEBHOOK_ALLOW_PRIVATE_NETWORKS=true`: receivers on loopback or private networks (dev stack, tests). */
  allowPrivateNetworks: boolean;
  /** Production: only https URLs. */
  requireHttps: boolean;
}

export class WebhookDestinationRefused extends Error {
  override readonly name = 'WebhookDestinationRefused';
}

export interface CheckedAddress {
  address: string;
  family: 4 | 6;
}

/** A URL's IPv6 host comes in brackets (`[::1]`); ipaddr.js wants the bare address. */
const withoutBrackets = (host: string) => host.replace(/^\[(.*)\]$/, '$1');

/** ipaddr.js's range name of an address after normalisation (`unicast` is the only public one). */
export function addressRange(address: string): string {
  return ipaddr.process(withoutBrackets(address)).range();
}

/** Why an address may not receive webhooks, or undefined when it may. */
export function refusalOf(address: string): string | undefined {
  const bare = withoutBrackets(address);
  if (!ipaddr.isValid(bare)) return `${address} is not an IP address`;
  const range = addressRange(bare);
  return range === 'unicast' ? undefined : `${address} is a ${range} address`;
}

export type Resolver = (hostname: string) => Promise<Array<{ address: string; family: number }>>;
const systemResolver: Resolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/**
 * What can be told of a URL without resolving it (when an account is saved): the scheme, no credentials, and an IP
 * literal host must be public. Host names are checked at each delivery, when they are resolved.
 */
export function webhookUrlProblem(url: string, rules: WebhookDestinationRules): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be a URL';
  }
  if (rules.requireHttps && parsed.protocol !== 'https:') return 'must be https in production';
  if (parsed.username !== '' || parsed.password !== '') return 'must not carry credentials';
  const host = withoutBrackets(parsed.hostname);
  if (!rules.allowPrivateNetworks && ipaddr.isValid(host)) {
    const refusal = refusalOf(host);
    if (refusal) return `${refusal}: only public addresses receive webhooks (unless WEBHOOK_ALLOW_PRIVATE_NETWORKS=true)`;
  }
  return undefined;
}

/** The URL's address after every rule; throws `WebhookDestinationRefused` naming the rule. */
export async function checkWebhookDestination(url: string, rules: WebhookDestinationRules, resolve: Resolver = systemResolver): Promise<CheckedAddress> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new WebhookDestinationRefused(`webhook URL ${JSON.stringify(url)} is not a URL`);
  }
  if (parsed.protocol !== 'https:' && (rules.requireHttps || parsed.protocol !== 'http:')) {
    throw new WebhookDestinationRefused(`webhook URL must be https${rules.requireHttps ? ' in production' : ' or http'} (got ${parsed.protocol})`);
  }
  const host = withoutBrackets(parsed.hostname);
  const addresses = ipaddr.isValid(host) ? [{ address: host, family: ipaddr.parse(host).kind() === 'ipv6' ? 6 : 4 }] : await resolve(host);
  if (addresses.length === 0) throw new WebhookDestinationRefused(`webhook host ${host} resolves to no address`);
  if (!rules.allowPrivateNetworks) {
    // Every answer, not just the first: a name that resolves to one public and one internal address is refused.
    const refusals = addresses.map((a) => refusalOf(a.address)).filter((reason) => reason !== undefined);
    if (refusals.length > 0) {
      throw new WebhookDestinationRefused(
        `webhook host ${host} refused: ${refusals.join('; ')} (only public addresses, unless WEBHOOK_ALLOW_PRIVATE_NETWORKS=true)`,
      );
    }
  }
  const first = addresses[0]!;
  return { address: first.address, family: first.family === 6 ? 6 : 4 };
}

/** A `lookup` that answers the checked address and nothing else: the socket cannot connect anywhere else. */
function pinnedLookup(checked: CheckedAddress): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) (callback as (error: null, addresses: CheckedAddress[]) => void)(null, [checked]);
    else callback(null, checked.address, checked.family);
  };
}

/**
 * POSTs `body` to `url`, connecting to `checked` (TLS still verifies the URL's host name). Redirects are never
 * followed: the caller sees the 3xx status. Resolves with the status once the answer's body is drained.
 */
export function postToCheckedAddress(
  url: string,
  checked: CheckedAddress,
  headers: Record<string, string>,
  body: string,
  signal: AbortSignal,
): Promise<number> {
  const send = new URL(url).protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<number>((resolve, reject) => {
    const request = send(
      url,
      { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, lookup: pinnedLookup(checked), signal },
      (response: IncomingMessage) => {
        response.on('error', reject);
        response.on('end', () => resolve(response.statusCode ?? 0));
        response.resume();
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}
