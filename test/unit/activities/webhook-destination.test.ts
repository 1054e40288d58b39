import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  checkWebhookDestination,
  postToCheckedAddress,
  refusalOf,
  WebhookDestinationRefused,
  webhookUrlProblem,
  type Resolver,
} from '../../../activities/webhook-destination';

const closed = { allowPrivateNetworks: false, requireHttps: false };
const production = { allowPrivateNetworks: false, requireHttps: true };
const resolverOf =
  (answers: Record<string, string[]>): Resolver =>
  async (hostname) =>
    (answers[hostname] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
const neverResolves: Resolver = async (hostname) => {
  throw new Error(`resolver called for ${hostname}`);
};

describe('address classification', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['0x7f000001', 'loopback'],
    ['2130706433', 'loopback'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['fd00:ec2::254', 'uniqueLocal'],
    ['169.254.169.254', 'linkLocal'],
    ['fe80::1', 'linkLocal'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['100.100.100.200', 'carrierGradeNat'],
  ])('%s is refused as %s', (address, range) => {
    expect(refusalOf(address)).toContain(`a ${range} address`);
  });

  it.each(['8.8.8.8', '52.96.0.1', '2606:4700:4700::1111'])('%s is public', (address) => {
    expect(refusalOf(address)).toBeUndefined();
  });
});

describe('checkWebhookDestination', () => {
  it.each([
    'http://0x7f000001/h',
    'http://2130706433/h',
    'http://[::1]/h',
    'http://[::ffff:127.0.0.1]/h',
    'http://169.254.169.254/latest',
    'http://127.1:27017/',
  ])('refuses %s without resolving anything', async (url) => {
    await expect(checkWebhookDestination(url, closed, neverResolves)).rejects.toThrow(WebhookDestinationRefused);
  });

  it('resolves a host name and refuses it when any of its addresses is internal', async () => {
    const resolve = resolverOf({ 'hooks.example.com': ['52.96.0.1'], 'mixed.example.com': ['52.96.0.1', '10.0.0.7'], 'mongo.internal': ['10.0.0.9'] });
    await expect(checkWebhookDestination('https://hooks.example.com/x', closed, resolve)).resolves.toEqual({ address: '52.96.0.1', family: 4 });
    await expect(checkWebhookDestination('https://mixed.example.com/x', closed, resolve)).rejects.toThrow(/10\.0\.0\.7 is a private address/);
    await expect(checkWebhookDestination('http://mongo.internal:27017/', closed, resolve)).rejects.toThrow(/WEBHOOK_ALLOW_PRIVATE_NETWORKS=true/);
    await expect(checkWebhookDestination('https://nowhere.example.com/', closed, resolve)).rejects.toThrow(/resolves to no address/);
  });

  it('allows private receivers only with the flag, and only https in production', async () => {
    const open = { allowPrivateNetworks: true, requireHttps: false };
    await expect(checkWebhookDestination('http://127.0.0.1:8080/h', open, neverResolves)).resolves.toEqual({ address: '127.0.0.1', family: 4 });
    await expect(checkWebhookDestination('http://52.96.0.1/h', production, neverResolves)).rejects.toThrow(/https in production/);
    await expect(checkWebhookDestination('https://52.96.0.1/h', production, neverResolves)).resolves.toEqual({ address: '52.96.0.1', family: 4 });
    await expect(checkWebhookDestination('ftp://52.96.0.1/h', open, neverResolves)).rejects.toThrow(WebhookDestinationRefused);
  });
});

describe('webhookUrlProblem (when an account is saved)', () => {
  it('names the rule a URL breaks, and leaves host names to delivery time', () => {
    expect(webhookUrlProblem('http://hooks.example.com/x', production)).toBe('must be https in production');
    expect(webhookUrlProblem('https://user:pw@hooks.example.com/x', production)).toBe('must not carry credentials');
    expect(webhookUrlProblem('https://0x7f000001/x', production)).toMatch(/loopback/);
    expect(webhookUrlProblem('https://hooks.example.com/x', production)).toBeUndefined();
    expect(webhookUrlProblem('http://127.0.0.1:9000/x', { allowPrivateNetworks: true, requireHttps: false })).toBeUndefined();
  });
});

test('the request connects to the checked address: the host name is not looked up again (no DNS rebinding)', async () => {
  const seen: string[] = [];
  const server = createServer((request, response) => {
    seen.push(String(request.headers.host));
    response.writeHead(204).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const port = (server.address() as AddressInfo).port;
    // `.invalid` never resolves (RFC 6761): only the pinned address can have been used.
    const url = `http://receiver.invalid:${port}/hooks`;
    const checked = await checkWebhookDestination(url, { allowPrivateNetworks: true, requireHttps: false }, resolverOf({ 'receiver.invalid': ['127.0.0.1'] }));
    const status = await postToCheckedAddress(url, checked, { 'content-type': 'application/json' }, '{}', AbortSignal.timeout(5_000));
    expect(status).toBe(204);
    expect(seen).toEqual([`receiver.invalid:${port}`]);
  } finally {
    server.close();
  }
});
