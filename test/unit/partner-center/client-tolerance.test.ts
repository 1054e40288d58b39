/**
 * The client accepts the spellings Microsoft's own samples and SDK use, and sends the headers
 * Partner Center expects.
 */
import {
  createPartnerCenterClient,
  parseRetryAfterMs,
  staticTokenProvider,
  summarizeTransition,
  VendorResponseInvalidError,
} from '../../../src/partner-center';
import { errorOf, eventually, type SimulatorFixture, startSimulator, STANDARD, SUB, TENANT } from './simulator-fixture';

/** A client whose fetch answers every call with `body`. */
function clientAnswering(body: unknown) {
  const fakeFetch: typeof fetch = async () => new Response(JSON.stringify(body), { status: 200, headers: { 'Content-Type': 'application/json' } });
  return createPartnerCenterClient({
    baseUrl: 'http://vendor.invalid',
    tokenProvider: staticTokenProvider('t'),
    fetch: fakeFetch,
    timeoutMs: 1_000,
  });
}

describe('tolerant parsing', () => {
  it('accepts the 2021 sample: PascalCase keys, "Started " and the `transition` list key', async () => {
    const client = clientAnswering({
      transition: [
        {
          FromCatalogItemId: 'CFQ7TTC0LF8Q:0001:CFQ7TTC0K39X',
          ToCatalogItemId: 'CFQ7TTC0LF8R:0001:CFQ7TTC0KCSV',
          Quantity: 2,
          TransitionType: 'transition_only',
          Events: [
            { Name: 'Conversion', Status: 'Started ', Timestamp: '2021-01-08T18:01:14.7488618Z' },
            { name: 'conversion', status: ' completed', timestamp: '2021-01-08T18:37:40.1234567Z', errors: null },
          ],
          attributes: { objectType: 'Transition' },
        },
      ],
      attributes: { objectType: 'Collection' },
    });
    const [transition] = await client.listTransitions('customer', 'subscription');
    expect(transition).toMatchObject({
      fromCatalogItemId: 'CFQ7TTC0LF8Q:0001:CFQ7TTC0K39X',
      toCatalogItemId: 'CFQ7TTC0LF8R:0001:CFQ7TTC0KCSV',
      quantity: 2,
      events: [
        { name: 'Conversion', status: 'Started', errors: [] },
        { name: 'Conversion', status: 'Completed', errors: [] },
      ],
    });
  });

  it('normalises SDK spellings SeatReassignment/InProgress to LicenseReassignment/Started', async () => {
    const client = clientAnswering({
      toCatalogItemId: 'X:0001:Y',
      quantity: 1,
      transitionType: 'transition_with_license_transfer',
      events: [
        { name: 'Conversion', status: 'Completed', timestamp: '2024-01-01T00:00:00Z' },
        { name: 'SeatReassignment', status: 'InProgress', timestamp: '2024-01-01T00:00:00Z' },
      ],
    });
    const transition = await client.createTransition(
      'customer',
      'subscription',
      { toCatalogItemId: 'X:0001:Y', quantity: 1, transitionType: 'transition_only' },
      { requestId: 'r' },
    );
    expect(transition.events[1]).toMatchObject({ name: 'LicenseReassignment', status: 'Started' });
    expect(summarizeTransition(transition)).toMatchObject({
      conversion: 'completed',
      licenseReassignment: 'pending',
      finished: false,
    });
  });

  it('rejects an unknown event status as a contract break', async () => {
    const client = clientAnswering({
      toCatalogItemId: 'X',
      quantity: 1,
      transitionType: 'transition_only',
      events: [{ name: 'Conversion', status: 'Exploded', timestamp: 't' }],
    });
    const error = await errorOf(
      client.createTransition('c', 's', { toCatalogItemId: 'X', quantity: 1, transitionType: 'transition_only' }, { requestId: 'r' }),
    );
    expect(error).toBeInstanceOf(VendorResponseInvalidError);
    expect((error as VendorResponseInvalidError).issues).toMatch(/events\.0\.status/);
  });

  it('rejects a non-JSON body', async () => {
    const fakeFetch: typeof fetch = async () => new Response('<html>gateway</html>', { status: 200 });
    const client = createPartnerCenterClient({
      baseUrl: 'http://vendor.invalid',
      tokenProvider: staticTokenProvider('t'),
      fetch: fakeFetch,
      timeoutMs: 1_000,
    });
    await expect(client.listProducts('US', 'OnlineServices')).rejects.toBeInstanceOf(VendorResponseInvalidError);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(parseRetryAfterMs('12')).toBe(12_000);
    expect(parseRetryAfterMs('Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('2015-10-21T07:28:00Z'))).toBe(10_000);
    expect(parseRetryAfterMs(null)).toBeUndefined();
    expect(parseRetryAfterMs('soon')).toBeUndefined();
  });
});

describe('against the simulator speaking other dialects', () => {
  let fixture: SimulatorFixture;
  beforeEach(async () => {
    fixture = await startSimulator();
  });
  afterEach(() => fixture.close());

  it.each(['docSample', 'sdk'] as const)('reads %s transitions into the canonical shape', async (responseDialect) => {
    await fixture.admin('PATCH', '/admin/faults', { responseDialect });
    const created = await fixture.client.createTransition(
      TENANT,
      SUB.source,
      { toCatalogItemId: STANDARD, quantity: 2, transitionType: 'transition_with_license_transfer' },
      { requestId: `dialect-${responseDialect}` },
    );
    expect(created.events[0]).toMatchObject({ name: 'Conversion', status: 'Started' });
    const [done] = await eventually(async () => {
      const transitions = await fixture.client.listTransitions(TENANT, SUB.source);
      return transitions.every((transition) => summarizeTransition(transition).finished) ? transitions : undefined;
    });
    expect(done?.events.map((event) => `${event.name}/${event.status}`)).toEqual([
      'Conversion/Started',
      'Conversion/Completed',
      'LicenseReassignment/Started',
      'LicenseReassignment/Completed',
    ]);
  });
});

describe('request headers', () => {
  it('sends MS-Contract-Version, a fresh MS-CorrelationId per call, the same MS-RequestId on a retried create, X-Locale; logs the upgrade id', async () => {
    const fixture = await startSimulator();
    try {
      const seen: { request: Headers; response: Headers }[] = [];
      const recordingFetch: typeof fetch = async (input, init) => {
        const response = await fetch(input, init);
        seen.push({ request: new Headers(init?.headers), response: response.headers });
        return response;
      };
      const logged: object[] = [];
      const logger = { debug: () => undefined, warn: () => undefined, info: (details: object) => void logged.push(details) };
      const client = fixture.makeClient({ fetch: recordingFetch, locale: 'de-DE', logger });
      const create = () =>
        client.createTransition(
          TENANT,
          SUB.source,
          { toCatalogItemId: STANDARD, quantity: 1, transitionType: 'transition_only' },
          { requestId: 'upgrade-7', upgradeId: 'upgrade-7' },
        );
      await create();
      await create(); // a retry of the same operation
      await client.listSubscriptions(TENANT, { upgradeId: 'upgrade-7' });
      const [post, retry, list] = seen;
      expect(post?.request.get('Authorization')).toBe('Bearer test-token');
      expect(post?.request.get('MS-Contract-Version')).toBe('v1');
      expect(post?.request.get('X-Locale')).toBe('de-DE');
      expect(post?.request.get('MS-RequestId')).toBe('upgrade-7');
      expect(retry?.request.get('MS-RequestId')).toBe('upgrade-7');
      expect(post?.response.get('MS-RequestId')).toBe('upgrade-7');
      const correlationIds = seen.map((call) => call.request.get('MS-CorrelationId'));
      for (const id of correlationIds) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(new Set(correlationIds).size).toBe(3);
      // Reads get a fresh request id each time.
      expect(list?.request.get('MS-RequestId')).toMatch(/^[0-9a-f-]{36}$/);
      expect(list?.request.get('MS-RequestId')).not.toBe('upgrade-7');
      // Each call's correlation id is logged with the upgrade it belongs to.
      expect(logged).toEqual(correlationIds.map((correlationId) => expect.objectContaining({ upgradeId: 'upgrade-7', correlationId })));
    } finally {
      await fixture.close();
    }
  });

  it('refuses to create a transition without a request id', async () => {
    const client = createPartnerCenterClient({
      baseUrl: 'http://vendor.invalid',
      tokenProvider: staticTokenProvider('t'),
      timeoutMs: 1_000,
    });
    await expect(
      client.createTransition('c', 's', { toCatalogItemId: 'X', quantity: 1, transitionType: 'transition_only' }, { requestId: ' ' }),
    ).rejects.toThrow(TypeError);
  });
});
