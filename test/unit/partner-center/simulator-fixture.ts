/**
 * Starts the simulator on an ephemeral port with a small Microsoft-365-like world and returns a
 * client pointed at it. In-process and real HTTP; needs no external service.
 */
import { createGraphClient, type GraphClient, type GraphClientOptions, simulatorGraphTokenProvider } from '../../../src/microsoft-graph';
import { createPartnerCenterClient, type PartnerCenterClient, type PartnerCenterClientOptions, staticTokenProvider } from '../../../src/partner-center';
import {
  createPartnerCenterSimulator,
  type PartnerCenterSimulator,
  type PartnerCenterSimulatorOptions,
  type RunningSimulator,
  type SimulatorSeed,
} from '../../../src/partner-center/simulator';

export const TENANT = 'c0ffee00-0000-4000-8000-000000000001';
export const OTHER_TENANT = 'c0ffee00-0000-4000-8000-000000000002';
export const BASIC = 'CFQ7TTC0LH18:0001:CFQ7TTC0K971';
export const STANDARD = 'CFQ7TTC0LDPB:0001:CFQ7TTC0K9ZH';
export const E1 = 'CFQ7TTC0LF8Q:0001:CFQ7TTC0K39X';
export const PREMIUM = 'CFQ7TTC0LCHC:0001:CFQ7TTC0K9XB';
export const SKU = {
  basic: '3b555118-da6a-4418-894f-7df1e2096870',
  standard: 'f245ecc8-75af-4f8e-b61f-27d8114de5f3',
  e1: '18181a46-0d4e-45cd-891e-60aabd171b4e',
  premium: 'cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46',
} as const;

/** Subscriptions of TENANT; the destinations each break exactly one of Microsoft's codes 1–4. */
export const SUB = {
  source: 'a0000000-0000-4000-8000-000000000001',
  inactiveSource: 'a0000000-0000-4000-8000-000000000002',
  destinationOk: 'b0000000-0000-4000-8000-000000000001',
  destinationSuspended: 'b0000000-0000-4000-8000-000000000002',
  destinationInWindow: 'b0000000-0000-4000-8000-000000000003',
  destinationMonthly: 'b0000000-0000-4000-8000-000000000004',
  destinationEndsEarlier: 'b0000000-0000-4000-8000-000000000005',
  e1: 'e1000000-0000-4000-8000-000000000001',
  otherTenantSource: 'f0000000-0000-4000-8000-000000000001',
} as const;

/** The simulator's clock starts here and runs with real time. */
export const SIMULATED_START = Date.parse('2026-03-01T09:00:00Z');

const subscription = (id: string, offerId: string, quantity: number, extra: Record<string, unknown> = {}) => ({
  id,
  customerTenantId: TENANT,
  offerId,
  quantity,
  termDuration: 'P1Y',
  billingCycle: 'monthly',
  commitmentEndDate: '2027-01-31T00:00:00Z',
  ...extra,
});

export const WORLD: SimulatorSeed = {
  tenants: [
    { customerTenantId: TENANT, partnerId: 'partner-1' },
    { customerTenantId: OTHER_TENANT, partnerId: 'partner-1' },
  ],
  products: [
    {
      catalogItemId: BASIC,
      title: 'Microsoft 365 Business Basic',
      entraSkuId: SKU.basic,
      skuPartNumber: 'O365_BUSINESS_ESSENTIALS',
      upgradeTargets: [STANDARD, E1],
      prices: [
        { termDuration: 'P1Y', billingCycle: 'annual', unitPrice: '64.80', erpPrice: '72.00' },
        { termDuration: 'P1Y', billingCycle: 'monthly', unitPrice: '5.40', erpPrice: '6.00' },
      ],
    },
    {
      catalogItemId: STANDARD,
      title: 'Microsoft 365 Business Standard',
      entraSkuId: SKU.standard,
      upgradeTargets: [PREMIUM],
    },
    { catalogItemId: E1, title: 'Office 365 E1', entraSkuId: SKU.e1 },
    { catalogItemId: PREMIUM, title: 'Microsoft 365 Business Premium', entraSkuId: SKU.premium },
  ],
  subscriptions: [
    subscription(SUB.source, BASIC, 10),
    subscription(SUB.inactiveSource, BASIC, 5, { status: 'suspended' }),
    subscription(SUB.destinationOk, STANDARD, 3, { commitmentEndDate: '2027-02-28T00:00:00Z' }),
    subscription(SUB.destinationSuspended, STANDARD, 3, { status: 'suspended' }),
    subscription(SUB.destinationInWindow, STANDARD, 3, { cancellationAllowedUntilDate: '2026-03-05T00:00:00Z' }),
    subscription(SUB.destinationMonthly, STANDARD, 3, { termDuration: 'P1M' }),
    subscription(SUB.destinationEndsEarlier, STANDARD, 3, { commitmentEndDate: '2026-12-31T00:00:00Z' }),
    subscription(SUB.e1, E1, 1),
    { ...subscription(SUB.otherTenantSource, BASIC, 4), customerTenantId: OTHER_TENANT },
  ],
  users: [
    ...['u1', 'u2', 'u3', 'u4'].map((id) => ({
      id,
      customerTenantId: TENANT,
      userPrincipalName: `${id}@contoso.example`,
      assignedLicenses: [{ skuId: SKU.basic }],
    })),
    {
      id: 'u5',
      customerTenantId: TENANT,
      userPrincipalName: 'u5@contoso.example',
      assignedLicenses: [{ skuId: SKU.e1 }],
    },
  ],
};

export interface SimulatorFixture {
  simulator: PartnerCenterSimulator;
  running: RunningSimulator;
  client: PartnerCenterClient;
  makeClient(overrides?: Partial<PartnerCenterClientOptions>): PartnerCenterClient;
  /** Microsoft Graph on the simulator's `/graph`, with a token naming the tenant. */
  graph: GraphClient;
  makeGraph(overrides?: Partial<GraphClientOptions>): GraphClient;
  /** Calls the admin API and returns its JSON (throws on a non-2xx answer). */
  admin<Body = unknown>(method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<Body>;
  /** Stops the simulator; fails when a client called a path the simulator (Microsoft) does not serve. */
  close(): Promise<void>;
}

export async function startSimulator(options: PartnerCenterSimulatorOptions = {}): Promise<SimulatorFixture> {
  const realStart = Date.now();
  const simulator = createPartnerCenterSimulator({
    initialData: WORLD,
    now: () => SIMULATED_START + (Date.now() - realStart),
    ...options,
  });
  const running = await simulator.listen(0);
  const makeClient = (overrides: Partial<PartnerCenterClientOptions> = {}) =>
    createPartnerCenterClient({
      baseUrl: running.url,
      tokenProvider: staticTokenProvider('test-token'),
      timeoutMs: 2_000,
      // The client's repeats after a 5xx are exercised, without the product's waits.
      serverErrorRetryDelaysMs: [1, 1],
      ...overrides,
    });
  const makeGraph = (overrides: Partial<GraphClientOptions> = {}) =>
    createGraphClient({ baseUrl: `${running.url}/graph`, tokenProvider: simulatorGraphTokenProvider(), timeoutMs: 2_000, ...overrides });
  return {
    simulator,
    running,
    client: makeClient(),
    makeClient,
    graph: makeGraph(),
    makeGraph,
    async admin<Body>(method: string, path: string, body?: unknown) {
      const response = await fetch(`${running.url}${path}`, {
        method,
        headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const json: unknown = await response.json();
      if (!response.ok) throw new Error(`admin ${method} ${path} → ${response.status}: ${JSON.stringify(json)}`);
      return json as Body;
    },
    async close() {
      await running.close();
      // The contract: every path a client calls is one the simulator serves (each one Microsoft documents).
      expect(simulator.state.unmatchedRequests).toEqual([]);
    },
  };
}

/** Resolves with the thrown error (fails if the promise resolves). */
export async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

/** Polls until `check` returns a value or the deadline passes. */
export async function eventually<Value>(check: () => Promise<Value | undefined>, timeoutMs = 1_000, intervalMs = 20): Promise<Value> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
