/** The Graph client and our licence reassignment, over HTTP against the simulator's `/graph`. */
import { GraphConsentMissingError, reassignLicences, tokenErrorFor } from '../../../src/microsoft-graph';
import { LicenseShortageError, VendorAuthError, VendorResponseInvalidError } from '../../../src/partner-center';
import { errorOf, SKU, type SimulatorFixture, startSimulator, TENANT } from '../partner-center/simulator-fixture';

let fixture: SimulatorFixture;
beforeEach(async () => {
  fixture = await startSimulator();
});
afterEach(() => fixture.close());

const BIG_TENANT = 'b1900000-0000-4000-8000-000000000250';

/** A tenant with `seats` Business Basic seats held by `holders` users, and as many Standard seats. */
async function seedTenant(holders: number, seats = holders, extraUsers: object[] = []) {
  await fixture.admin('POST', '/admin/seed', {
    tenants: [{ customerTenantId: BIG_TENANT }],
    subscriptions: [
      { id: 'big-basic', customerTenantId: BIG_TENANT, offerId: 'CFQ7TTC0LH18:0001:CFQ7TTC0K971', quantity: seats, commitmentEndDate: '2027-01-31T00:00:00Z' },
      {
        id: 'big-standard',
        customerTenantId: BIG_TENANT,
        offerId: 'CFQ7TTC0LDPB:0001:CFQ7TTC0K9ZH',
        quantity: seats,
        commitmentEndDate: '2027-01-31T00:00:00Z',
      },
    ],
    users: [
      ...Array.from({ length: holders }, (_, index) => ({
        id: `user-${String(index).padStart(3, '0')}`,
        customerTenantId: BIG_TENANT,
        userPrincipalName: `user${index}@big.example`,
        assignedLicenses: [{ skuId: SKU.basic }],
      })),
      ...extraUsers,
    ],
  });
}

const memoryLog = () => {
  const recorded: string[] = [];
  return {
    recorded,
    recordMoving: async (userId: string) => void recorded.push(userId),
    forgetMoving: async (userId: string) => void recorded.splice(recorded.indexOf(userId), 1),
  };
};

describe('paging', () => {
  it('follows @odata.nextLink over 250 holders, 100 per page', async () => {
    await seedTenant(250);
    const pages: number[] = [];
    for await (const page of fixture.graph.licenseHolders(BIG_TENANT, SKU.basic)) pages.push(page.length);
    expect(pages).toEqual([100, 100, 50]);
    expect(fixture.simulator.state.counters.graphRequests).toBe(3);
  });

  it('refuses a next link to another host (our token stays with Graph)', async () => {
    const fakeFetch: typeof fetch = async () =>
      new Response(JSON.stringify({ value: [], '@odata.nextLink': 'https://evil.example/v1.0/users?$skiptoken=1' }), { status: 200 });
    const graph = fixture.makeGraph({ fetch: fakeFetch });
    const pages = graph.licenseHolders(TENANT, SKU.basic);
    await pages.next();
    await expect(pages.next()).rejects.toBeInstanceOf(VendorResponseInvalidError);
  });
});

describe('licence reassignment', () => {
  it('moves 250 users with one assignLicense each and counts only the users it moved', async () => {
    // Three users already hold the target and not the source: they are not "moved".
    const alreadyOnTarget = ['x1', 'x2', 'x3'].map((id) => ({
      id,
      customerTenantId: BIG_TENANT,
      userPrincipalName: `${id}@big.example`,
      assignedLicenses: [{ skuId: SKU.standard }],
    }));
    await seedTenant(250, 260, alreadyOnTarget);
    const log = memoryLog();
    const result = await reassignLicences(fixture.graph, {
      customerTenantId: BIG_TENANT,
      fromSkuId: SKU.basic,
      toSkuId: SKU.standard,
      quantity: 250,
      alreadyRecorded: [],
      ...log,
    });
    expect(result.movedUserIds).toHaveLength(250);
    expect(log.recorded).toEqual(result.movedUserIds);
    expect(result.movedUserIds).not.toEqual(expect.arrayContaining(['x1']));
    expect(fixture.simulator.state.counters.assignLicenseCalls).toBe(250);
    const skus = await fixture.graph.subscribedSkus(BIG_TENANT);
    expect(skus.find((sku) => sku.skuId === SKU.standard)?.consumedUnits).toBe(253);
    expect(skus.find((sku) => sku.skuId === SKU.basic)?.consumedUnits).toBe(0);
  });

  it('moves no more than asked, skips and reports group-inherited holders', async () => {
    const grouped = {
      id: 'a-grouped',
      customerTenantId: BIG_TENANT,
      userPrincipalName: 'g@big.example',
      assignedLicenses: [{ skuId: SKU.basic, assignedByGroup: 'group-1' }],
    };
    await seedTenant(5, 10, [grouped]);
    const result = await reassignLicences(fixture.graph, {
      customerTenantId: BIG_TENANT,
      fromSkuId: SKU.basic,
      toSkuId: SKU.standard,
      quantity: 3,
      alreadyRecorded: [],
      ...memoryLog(),
    });
    expect(result).toEqual({ movedUserIds: ['user-000', 'user-001', 'user-002'], groupInheritedUserIds: ['a-grouped'] });
  });

  it('resumes: users recorded by an earlier attempt count once, and a recorded user still on the source is finished', async () => {
    await seedTenant(6);
    // An earlier attempt moved user-000 and recorded user-001 but stopped before its call.
    await fixture.graph.assignLicense(BIG_TENANT, 'user-000', { addLicenses: [{ skuId: SKU.standard, disabledPlans: [] }], removeLicenses: [SKU.basic] });
    const result = await reassignLicences(fixture.graph, {
      customerTenantId: BIG_TENANT,
      fromSkuId: SKU.basic,
      toSkuId: SKU.standard,
      quantity: 4,
      alreadyRecorded: ['user-000', 'user-001'],
      ...memoryLog(),
    });
    expect(result.movedUserIds).toEqual(['user-000', 'user-001', 'user-002', 'user-003']);
    const holders = [];
    for await (const page of fixture.graph.licenseHolders(BIG_TENANT, SKU.standard)) holders.push(...page.map((user) => user.id));
    expect(holders).toEqual(['user-000', 'user-001', 'user-002', 'user-003']);
  });

  it('stops before touching anyone when the target has too few free seats', async () => {
    await seedTenant(5, 5);
    await fixture.admin('POST', '/admin/seed', {
      subscriptions: [
        { id: 'big-standard', customerTenantId: BIG_TENANT, offerId: 'CFQ7TTC0LDPB:0001:CFQ7TTC0K9ZH', quantity: 2, commitmentEndDate: '2027-01-31T00:00:00Z' },
      ],
    });
    const error = await errorOf(
      reassignLicences(fixture.graph, {
        customerTenantId: BIG_TENANT,
        fromSkuId: SKU.basic,
        toSkuId: SKU.standard,
        quantity: 5,
        alreadyRecorded: [],
        ...memoryLog(),
      }),
    );
    expect(error).toBeInstanceOf(LicenseShortageError);
    expect(fixture.simulator.state.counters.assignLicenseCalls).toBe(0);
  });
});

describe('throttling and consent', () => {
  it("waits out a 429's Retry-After with the same client-request-id, then succeeds", async () => {
    const requestIds: (string | null)[] = [];
    const recordingFetch: typeof fetch = async (input, init) => {
      requestIds.push(new Headers(init?.headers).get('client-request-id'));
      return fetch(input, init);
    };
    const waits: number[] = [];
    // The budget window is 200 ms; the wait is shortened to 250 ms so the test does not sleep the full second.
    const graph = fixture.makeGraph({
      fetch: recordingFetch,
      wait: async (ms) => {
        waits.push(ms);
        await new Promise((resolve) => setTimeout(resolve, 250));
      },
    });
    await fixture.admin('PUT', `/admin/faults/tenants/${TENANT}`, { throttle: { requestsPerWindow: 1, windowMs: 200, retryAfterSeconds: 1 } });
    await graph.subscribedSkus(TENANT);
    await expect(graph.subscribedSkus(TENANT)).resolves.toHaveLength(3);
    expect(waits).toEqual([1_000]);
    expect(requestIds).toHaveLength(3);
    expect(requestIds[1]).toBe(requestIds[2]);
    expect(requestIds[0]).not.toBe(requestIds[1]);
    expect(fixture.simulator.state.counters.throttledResponses).toBe(1);
  });

  it('hands a long Retry-After to the caller (the activity retries later)', async () => {
    await fixture.admin('PUT', `/admin/faults/tenants/${TENANT}`, { throttle: { requestsPerWindow: 0, windowMs: 600_000, retryAfterSeconds: 120 } });
    const error = await errorOf(fixture.graph.subscribedSkus(TENANT));
    expect(error).toMatchObject({ name: 'VendorThrottledError', retryAfterMs: 120_000, retryable: true });
  });

  it('a tenant without the consent answers 403 Authorization_RequestDenied: GraphConsentMissingError', async () => {
    await fixture.admin('PUT', `/admin/faults/tenants/${TENANT}`, { graphConsentMissing: true });
    const error = await errorOf(fixture.graph.subscribedSkus(TENANT));
    expect(error).toBeInstanceOf(GraphConsentMissingError);
    expect(error).toMatchObject({ microsoftCode: 'Authorization_RequestDenied', customerTenantId: TENANT, retryable: false, status: 403 });
  });

  it("maps the token endpoint's AADSTS65001 and AADSTS700016 to missing consent, other refusals to VendorAuthError", () => {
    const msalError = (errorCode: string, errorMessage: string) => Object.assign(new Error(errorMessage), { errorCode, errorMessage });
    expect(tokenErrorFor(TENANT, msalError('invalid_grant', 'AADSTS65001: The user or administrator has not consented to use the application.'))).toMatchObject(
      {
        name: 'GraphConsentMissingError',
        microsoftCode: 'AADSTS65001',
      },
    );
    expect(
      tokenErrorFor(TENANT, msalError('unauthorized_client', "AADSTS700016: Application with identifier 'x' was not found in the directory 'Contoso'.")),
    ).toMatchObject({ microsoftCode: 'AADSTS700016' });
    expect(tokenErrorFor(TENANT, msalError('invalid_client', 'AADSTS7000215: Invalid client secret provided.'))).toBeInstanceOf(VendorAuthError);
    expect(tokenErrorFor(TENANT, msalError('network_error', 'Network request failed'))).toMatchObject({ name: 'VendorUnavailableError', retryable: true });
  });
});
