/** Every documented failure mode reaches the client as the right error type. */
import {
  type CreateTransitionRequest,
  LicenseShortageError,
  summarizeTransition,
  VendorAuthError,
  VendorBusinessRejectionError,
  VendorConflictError,
  type VendorError,
  VendorNotFoundError,
  VendorResponseInvalidError,
  VendorThrottledError,
  VendorUnavailableError,
} from '../../../src/partner-center';
import { createPartnerCenterSimulator } from '../../../src/partner-center/simulator';
import { E1, errorOf, eventually, OTHER_TENANT, PREMIUM, SKU, type SimulatorFixture, startSimulator, STANDARD, SUB, TENANT } from './simulator-fixture';

let fixture: SimulatorFixture;
beforeEach(async () => {
  fixture = await startSimulator();
});
afterEach(() => fixture.close());

const upgrade = (request: Partial<CreateTransitionRequest> = {}, subscriptionId: string = SUB.source, requestId = 'request-1') =>
  fixture.client.createTransition(
    TENANT,
    subscriptionId,
    { toCatalogItemId: STANDARD, quantity: 2, transitionType: 'transition_only', ...request },
    { requestId, upgradeId: 'upgrade-1' },
  );

async function rejection(call: Promise<unknown>): Promise<VendorBusinessRejectionError> {
  const error = await errorOf(call);
  expect(error).toBeInstanceOf(VendorBusinessRejectionError);
  return error as VendorBusinessRejectionError;
}

describe('infrastructure faults are retryable', () => {
  it('429 carries retryAfterMs from Retry-After, per (partner, customer) budget', async () => {
    await fixture.admin('PATCH', '/admin/faults', {
      throttle: { requestsPerWindow: 2, windowMs: 60_000, retryAfterSeconds: 7 },
    });
    await fixture.client.listSubscriptions(TENANT);
    await fixture.client.listSubscriptions(TENANT);
    const error = await errorOf(fixture.client.listSubscriptions(TENANT));
    expect(error).toBeInstanceOf(VendorThrottledError);
    expect(error).toMatchObject({ name: 'VendorThrottledError', retryable: true, retryAfterMs: 7_000, status: 429 });
    // Another customer of the same partner has its own budget.
    await expect(fixture.client.listSubscriptions(OTHER_TENANT)).resolves.toHaveLength(1);
    expect(fixture.simulator.state.counters.throttledResponses).toBe(1);
  });

  it('429 without a fixed Retry-After tells the seconds left in the window', async () => {
    await fixture.admin('PATCH', '/admin/faults', { throttle: { requestsPerWindow: 0, windowMs: 30_000 } });
    const error = (await errorOf(fixture.client.listProducts('US', 'OnlineServices'))) as VendorThrottledError;
    expect(error.retryAfterMs).toBe(30_000);
  });

  it('5xx is asked twice more under the same MS-RequestId, then becomes VendorUnavailableError', async () => {
    await fixture.admin('PATCH', '/admin/faults', { errorRate5xx: 1 });
    const error = await errorOf(upgrade());
    expect(fixture.simulator.state.counters.injected5xxResponses).toBe(3);
    expect(error).toBeInstanceOf(VendorUnavailableError);
    expect(error).toMatchObject({
      retryable: true,
      status: 503,
      requestId: 'request-1',
      // A new GUID per call (Microsoft's headers page); the upgrade id goes to the log line instead.
      correlationId: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
    });
    expect(fixture.simulator.state.counters.transitionsCreated).toBe(0);
  });

  it('a timeout becomes VendorUnavailableError', async () => {
    await fixture.admin('PATCH', '/admin/faults', { latencyMs: 300 });
    const impatient = fixture.makeClient({ timeoutMs: 50 });
    const error = await errorOf(impatient.listSubscriptions(TENANT));
    expect(error).toBeInstanceOf(VendorUnavailableError);
    expect((error as Error).message).toMatch(/no answer within 50 ms/);
  });

  it('a refused connection becomes VendorUnavailableError', async () => {
    const offline = fixture.makeClient({ baseUrl: 'http://127.0.0.1:1' });
    await expect(offline.listProducts('US', 'OnlineServices')).rejects.toBeInstanceOf(VendorUnavailableError);
  });

  it('409 on a second transition while one is running is VendorConflictError (retryable)', async () => {
    await fixture.admin('PATCH', '/admin/faults', { completionDelayMs: 60_000 });
    await upgrade({}, SUB.source, 'first');
    const error = await errorOf(upgrade({}, SUB.source, 'second'));
    expect(error).toBeInstanceOf(VendorConflictError);
    expect(error).toMatchObject({ retryable: true, status: 409, code: 'concurrency_conflicts' });
  });

  it('a subscription receiving seats is busy too', async () => {
    await fixture.admin('PATCH', '/admin/faults', { completionDelayMs: 60_000 });
    await upgrade({ toSubscriptionId: SUB.destinationOk }, SUB.source, 'into-destination');
    const error = await errorOf(
      fixture.client.createTransition(
        TENANT,
        SUB.destinationOk,
        { toCatalogItemId: PREMIUM, quantity: 1, transitionType: 'transition_only' },
        { requestId: 'from-destination' },
      ),
    );
    expect(error).toBeInstanceOf(VendorConflictError);
  });
});

describe('business rejections fail fast', () => {
  it.each([
    [SUB.destinationSuspended, 1, 'SubscriptionNotActive'],
    [SUB.destinationInWindow, 2, 'SubscriptionInCancellationWindow'],
    [SUB.destinationMonthly, 3, 'SubscriptionTermDurationShorterThanSourceTermDuration'],
    [SUB.destinationEndsEarlier, 4, 'SubscriptionTermEndDateBeforeSourceTermEndDate'],
  ])('destination %s is refused with code %d', async (destination, code, name) => {
    const error = await rejection(upgrade({ toSubscriptionId: destination }));
    expect(error).toMatchObject({ code, retryable: false, status: 400, data: [`TargetSubscriptionErrorCode:${name}`] });
  });

  it('conflicting services block license transfer with code 3', async () => {
    await fixture.admin('PUT', `/admin/faults/tenants/${TENANT}`, { conflictingServices: true });
    const error = await rejection(upgrade({ transitionType: 'transition_with_license_transfer' }));
    expect(error.code).toBe(3);
    expect(error.data).toEqual(['TransitionErrorCode:ConflictingServices']);
    await expect(upgrade({ transitionType: 'transition_only' })).resolves.toBeDefined();
  });

  it('an inactive source is refused (800012)', async () => {
    expect((await rejection(upgrade({}, SUB.inactiveSource))).code).toBe(800012);
  });

  it('a quantity increase is refused (800017 InvalidQuantity)', async () => {
    expect((await rejection(upgrade({ quantity: 11 }))).code).toBe(800017);
  });

  it('a zero quantity is invalid input (800002)', async () => {
    expect((await rejection(upgrade({ quantity: 0 }))).code).toBe(800002);
  });

  it('a target off the upgrade path is refused (800004)', async () => {
    const error = await rejection(upgrade({ toCatalogItemId: PREMIUM }));
    expect(error.code).toBe(800004);
    expect(error.description).toMatch(/not an eligible transition target/);
  });

  it('a subscription configured to reject is refused at POST', async () => {
    await fixture.admin('PATCH', '/admin/faults', { rejectTransitionsForSubscriptions: [SUB.source] });
    expect((await rejection(upgrade())).code).toBe('subscription_not_provisioned');
  });
});

describe('not found, auth and contract errors', () => {
  it('unknown customer or subscription is VendorNotFoundError', async () => {
    await expect(fixture.client.listSubscriptions('unknown-tenant')).rejects.toBeInstanceOf(VendorNotFoundError);
    await expect(fixture.client.getSubscription(TENANT, 'unknown-subscription')).rejects.toBeInstanceOf(VendorNotFoundError);
    await expect(upgrade({}, 'unknown-subscription')).rejects.toMatchObject({
      name: 'VendorNotFoundError',
      retryable: false,
      status: 404,
    });
    // Another tenant's subscription does not exist for this customer.
    await expect(fixture.client.getSubscription(TENANT, SUB.otherTenantSource)).rejects.toBeInstanceOf(VendorNotFoundError);
  });

  it('401 (rejected token) and 403 (missing role) are VendorAuthError; 401 drops the cached token', async () => {
    const strict = createPartnerCenterSimulator({ acceptedTokens: ['good-token'] });
    const running = await strict.listen(0);
    try {
      const invalidate = jest.fn();
      const client = fixture.makeClient({
        baseUrl: running.url,
        tokenProvider: { getToken: async () => 'bad-token', invalidate },
      });
      await expect(client.listProducts('US', 'OnlineServices')).rejects.toMatchObject({
        name: 'VendorAuthError',
        status: 401,
        retryable: false,
      });
      expect(invalidate).toHaveBeenCalledTimes(1);
    } finally {
      await running.close();
    }
    await fixture.admin('PUT', `/admin/faults/tenants/${TENANT}`, { forbidden: true });
    const error = await errorOf(fixture.client.listSubscriptions(TENANT));
    expect(error).toBeInstanceOf(VendorAuthError);
    expect(error).toMatchObject({ status: 403 });
  });

  it('a malformed body is VendorResponseInvalidError', async () => {
    await fixture.admin('PATCH', '/admin/faults', { malformedResponseRate: 1 });
    const calls = [
      () => fixture.client.listSubscriptions(TENANT),
      () => fixture.client.getTransitionEligibilities(TENANT, SUB.source),
      () => upgrade(),
      () => fixture.graph.subscribedSkus(TENANT),
    ];
    for (const call of calls) {
      const error = await errorOf(call());
      expect(error).toBeInstanceOf(VendorResponseInvalidError);
      expect(error).toMatchObject({ retryable: false });
    }
  });
});

describe('license shortage', () => {
  it('is LicenseShortageError when the SKU has no free seat', async () => {
    // The one E1 seat is held by u5 already.
    const error = await errorOf(
      fixture.graph.assignLicense(TENANT, 'u1', {
        addLicenses: [{ skuId: SKU.e1, disabledPlans: [] }],
        removeLicenses: [],
      }),
    );
    expect(error).toBeInstanceOf(LicenseShortageError);
    expect(error).toMatchObject({ retryable: false, skuId: SKU.e1, status: 400 });
  });

  it('is LicenseShortageError when injected for a SKU, and leaves the user unchanged', async () => {
    await fixture.admin('PATCH', '/admin/faults', { licenseShortage: [SKU.standard] });
    const error = await errorOf(
      fixture.graph.assignLicense(TENANT, 'u1', {
        addLicenses: [{ skuId: SKU.standard, disabledPlans: [] }],
        removeLicenses: [SKU.basic],
      }),
    );
    expect(error).toBeInstanceOf(LicenseShortageError);
    const holders = [];
    for await (const page of fixture.graph.licenseHolders(TENANT, SKU.basic)) holders.push(...page);
    expect(holders.find((user) => user.id === 'u1')?.assignedLicenses).toEqual([{ skuId: SKU.basic, disabledPlans: [] }]);
  });

  it('an unknown user is VendorNotFoundError', async () => {
    await expect(fixture.graph.assignLicense(TENANT, 'nobody', { addLicenses: [], removeLicenses: [] })).rejects.toBeInstanceOf(VendorNotFoundError);
  });
});

describe('asynchronous failures', () => {
  const finishedTransition = async () => {
    const [transition] = await fixture.client.listTransitions(TENANT, SUB.source);
    return transition !== undefined && summarizeTransition(transition).finished ? transition : undefined;
  };

  it('a permanently failing subscription ends in Conversion/Failed and changes nothing', async () => {
    await fixture.admin('PATCH', '/admin/faults', { failTransitionsForSubscriptions: [SUB.source] });
    await upgrade();
    const progress = summarizeTransition(await eventually(finishedTransition));
    expect(progress).toMatchObject({ conversion: 'failed', licenseReassignment: 'not_requested', finished: true });
    expect(progress.errors[0]?.description).toMatch(/failed/);
    expect((await fixture.client.getSubscription(TENANT, SUB.source)).quantity).toBe(10);
  });

  it('a failed license reassignment follows a completed conversion', async () => {
    await fixture.admin('PATCH', '/admin/faults', { licenseReassignmentFailureRate: 1 });
    await upgrade({ toCatalogItemId: E1, quantity: 10, transitionType: 'transition_with_license_transfer' });
    const progress = summarizeTransition(await eventually(finishedTransition));
    expect(progress).toMatchObject({ conversion: 'completed', licenseReassignment: 'failed', finished: true });
    expect((await fixture.client.getSubscription(TENANT, SUB.source)).offerId).toBe(E1);
  });
});

describe('faults are scoped and reproducible', () => {
  it('per-tenant scenarios leave other tenants alone', async () => {
    await fixture.admin('PUT', `/admin/faults/tenants/${OTHER_TENANT}`, { errorRate5xx: 1 });
    await expect(fixture.client.listSubscriptions(OTHER_TENANT)).rejects.toBeInstanceOf(VendorUnavailableError);
    await expect(fixture.client.listSubscriptions(TENANT)).resolves.toBeDefined();
    await fixture.admin('DELETE', `/admin/faults/tenants/${OTHER_TENANT}`);
    await expect(fixture.client.listSubscriptions(OTHER_TENANT)).resolves.toBeDefined();
  });

  it('a passing 5xx costs the caller nothing: the repeat under the same MS-RequestId creates one transition', async () => {
    const flaky = await startSimulator({ randomSeed: 7, faults: { global: { errorRate5xx: 0.5 } } });
    try {
      let statuses: number[] = [];
      const recording: typeof fetch = async (input, init) => {
        const response = await fetch(input, init);
        statuses.push(response.status);
        return response;
      };
      const client = flaky.makeClient({ fetch: recording });
      const answered: number[][] = [];
      for (let call = 0; call < 6; call += 1) {
        statuses = [];
        await client
          .createTransition(
            TENANT,
            SUB.source,
            { toCatalogItemId: STANDARD, quantity: 1, transitionType: 'transition_only' },
            { requestId: 'one-request', upgradeId: 'u' },
          )
          .catch(() => undefined);
        answered.push(statuses);
      }
      // At least one call met a 503 and still succeeded, without its caller seeing it.
      expect(answered.some((call) => call.length > 1 && call[0] === 503 && call[call.length - 1]! < 300)).toBe(true);
      expect(flaky.simulator.state.counters.transitionsCreatedByRequestId['one-request']).toBe(1);
    } finally {
      await flaky.close();
    }
  });

  it('random 5xx follow the seeded PRNG', async () => {
    const outcomes = async () => {
      const seeded = await startSimulator({ randomSeed: 42, faults: { global: { errorRate5xx: 0.5 } } });
      try {
        const results: string[] = [];
        for (let call = 0; call < 12; call += 1) {
          results.push(
            await seeded
              .makeClient({ serverErrorRetryDelaysMs: [] })
              .listProducts('US', 'OnlineServices')
              .then(
                () => 'ok',
                (error: VendorError) => error.name,
              ),
          );
        }
        return results;
      } finally {
        await seeded.close();
      }
    };
    const first = await outcomes();
    expect(first).toContain('ok');
    expect(first).toContain('VendorUnavailableError');
    expect(await outcomes()).toEqual(first);
  });
});
