/** OAuth client-credentials against a tiny local token endpoint (Microsoft can't be reached here). */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  clientCredentialsTokenProvider,
  PARTNER_CENTER_SCOPE,
  staticTokenProvider,
  VendorAuthError,
  VendorUnavailableError,
} from '../../../src/partner-center';

interface TokenEndpoint {
  url: string;
  forms: URLSearchParams[];
  answer: { status: number; body: unknown };
  close(): Promise<void>;
}

async function startTokenEndpoint(): Promise<TokenEndpoint> {
  const readBody = async (request: IncomingMessage) => {
    let text = '';
    for await (const chunk of request) text += String(chunk);
    return text;
  };
  let issued = 0;
  const endpoint: Omit<TokenEndpoint, 'url' | 'close'> = { forms: [], answer: { status: 200, body: undefined } };
  const server: Server = createServer(async (request, response) => {
    endpoint.forms.push(new URLSearchParams(await readBody(request)));
    issued += 1;
    // A little latency so concurrent callers overlap.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const body = endpoint.answer.body ?? { token_type: 'Bearer', expires_in: 3599, access_token: `token-${issued}` };
    response.writeHead(endpoint.answer.status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(endpoint, {
    url: `http://127.0.0.1:${port}/tenant-1/oauth2/v2.0/token`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

let endpoint: TokenEndpoint;
let clock = 0;
beforeEach(async () => {
  endpoint = await startTokenEndpoint();
  clock = Date.parse('2026-03-01T00:00:00Z');
});
afterEach(() => endpoint.close());

const provider = () =>
  clientCredentialsTokenProvider({
    tenantId: 'tenant-1',
    clientId: 'app-id',
    clientSecret: 's3cret',
    tokenUrl: endpoint.url,
    now: () => clock,
  });

it('posts the client-credentials form with the Partner Center scope', async () => {
  await expect(provider().getToken()).resolves.toBe('token-1');
  expect(Object.fromEntries(endpoint.forms[0] ?? [])).toEqual({
    grant_type: 'client_credentials',
    client_id: 'app-id',
    client_secret: 's3cret',
    scope: PARTNER_CENTER_SCOPE,
  });
});

it('caches until shortly before expiry and shares one request among concurrent callers', async () => {
  const tokens = provider();
  const concurrent = await Promise.all(Array.from({ length: 5 }, () => tokens.getToken()));
  expect(new Set(concurrent)).toEqual(new Set(['token-1']));
  clock += 3_000_000; // 50 min: still more than the 60 s margin left
  await expect(tokens.getToken()).resolves.toBe('token-1');
  expect(endpoint.forms).toHaveLength(1);
  clock += 550_000; // within the last minute of the token's life
  await expect(tokens.getToken()).resolves.toBe('token-2');
  expect(endpoint.forms).toHaveLength(2);
});

it('fetches a new token after invalidate()', async () => {
  const tokens = provider();
  await tokens.getToken();
  tokens.invalidate?.();
  await expect(tokens.getToken()).resolves.toBe('token-2');
});

it('maps a refusal to VendorAuthError without leaking the secret, and 5xx to VendorUnavailableError', async () => {
  endpoint.answer = {
    status: 401,
    body: { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret' },
  };
  const refusal = await provider()
    .getToken()
    .catch((error: unknown) => error);
  expect(refusal).toBeInstanceOf(VendorAuthError);
  expect((refusal as Error).message).toContain('invalid_client');
  expect((refusal as Error).message).not.toContain('s3cret');

  endpoint.answer = { status: 503, body: {} };
  await expect(provider().getToken()).rejects.toBeInstanceOf(VendorUnavailableError);
});

it('does not cache a failure', async () => {
  const tokens = provider();
  endpoint.answer = { status: 503, body: {} };
  await expect(tokens.getToken()).rejects.toBeInstanceOf(VendorUnavailableError);
  endpoint.answer = { status: 200, body: undefined };
  await expect(tokens.getToken()).resolves.toMatch(/^token-/);
});

it('a static provider returns its token', async () => {
  await expect(staticTokenProvider('simulator').getToken()).resolves.toBe('simulator');
});
