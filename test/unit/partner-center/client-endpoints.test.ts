/** Every endpoint, through the real client, over HTTP, against the simulator. */
import { summarizeTransition } from '../../../src/partner-center';
import { BASIC, E1, eventually, SKU, type SimulatorFixture, startSimulator, STANDARD, SUB, TENANT } from './simulator-fixture';

let fixture: SimulatorFixture;
beforeEach(async () => {
  fixture = await startSimulator();
});
afterEach(() => fixture.close());

const subscriptionOf = (id: string) => fixture.client.getSubscription(TENANT, id);
const holdersOf = async (skuId: string) => {
  const users = [];
  for await (const page of fixture.graph.licenseHolders(TENANT, skuId)) users.push(...page);
  return users;
};
const completed = async (subscriptionId: string) => {
  const [transition] = await fixture.client.listTransitions(TENANT, subscriptionId);
  return transition !== undefined && summarizeTransition(transition).finished ? transition : undefined;
};

describe('reading subscriptions and the catalog', () => {
  it('lists and reads subscriptions', async () => {
    const subscriptions = await fixture.client.listSubscriptions(TENANT);
    expect(subscriptions.map((subscription) => subscription.id)).toContain(SUB.source);
    expect(await subscriptionOf(SUB.source)).toMatchObject({
      id: SUB.source,
      offerId: BASIC,
      offerName: 'Microsoft 365 Business Basic',
      quantity: 10,
      status: 'active',
      termDuration: 'P1Y',
      billingCycle: 'monthly',
      commitmentEndDate: '2027-01-31T00:00:00Z',
      isTrial: false,
    });
  });

  it("reads Microsoft's catalog: NCE products, their SKUs and the SKUs' availabilities", async () => {
    const products = await fixture.client.listProducts('US', 'OnlineServices');
    expect(products.find((product) => product.id === 'CFQ7TTC0LH18')).toEqual({
      id: 'CFQ7TTC0LH18',
      title: 'Microsoft 365 Business Basic',
      productType: { id: 'OnlineServicesNCE' },
    });
    expect(await fixture.client.listProducts('US', 'Azure')).toEqual([]);
    const [sku] = await fixture.client.listSkus('CFQ7TTC0LH18', 'US');
    expect(sku).toEqual({
      id: '0001',
      productId: 'CFQ7TTC0LH18',
      title: 'Microsoft 365 Business Basic',
      minimumQuantity: 1,
      maximumQuantity: 300,
      isTrial: false,
    });
    const [availability] = await fixture.client.listAvailabilities('CFQ7TTC0LH18', '0001', 'US');
    expect(availability).toMatchObject({
      id: 'CFQ7TTC0K971',
      catalogItemId: BASIC,
      terms: [
        { duration: 'P1Y', billingCycle: 'annual' },
        { duration: 'P1Y', billingCycle: 'monthly' },
      ],
    });
  });

  it('reads the licence-based price sheet as CSV with the documented columns', async () => {
    const csv = await fixture.client.getPriceSheet('US');
    const [header, ...rows] = csv.trim().split('\r\n');
    expect(header).toBe(
      'ProductTitle,ProductId,SkuId,SkuTitle,Publisher,SkuDescription,UnitOfMeasure,TermDuration,BillingPlan,Market,Currency,UnitPrice,PricingTierRangeMin,PricingTierRangeMax,EffectiveStartDate,EffectiveEndDate,Tags,ERP Price',
    );
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(
      /^Microsoft 365 Business Basic,CFQ7TTC0LH18,0001,.*,P1Y,Annual,US,USD,64\.80,0,,2026-03-01T00:00:00\.000Z,2026-03-31T23:59:59\.000Z,,72\.00$/,
    );
  });
});

describe('transition eligibilities', () => {
  it('lists each target with per-type eligibility and existing destinations with codes 1–4', async () => {
    const eligibilities = await fixture.client.getTransitionEligibilities(TENANT, SUB.source);
    expect(eligibilities.map((item) => item.catalogItemId)).toEqual([STANDARD, E1]);
    const standard = eligibilities[0];
    expect(standard?.quantity).toBe(10);
    expect(standard?.eligibilities).toEqual([
      { isEligible: true, transitionType: 'transition_only', errors: [] },
      { isEligible: true, transitionType: 'transition_with_license_transfer', errors: [] },
    ]);
    const codesByDestination = Object.fromEntries(
      (standard?.subscriptionEligibilities ?? []).map((destination) => [destination.subscriptionId, destination.errors.map((error) => error.code)]),
    );
    expect(codesByDestination).toEqual({
      [SUB.destinationOk]: [],
      [SUB.destinationSuspended]: [1],
      [SUB.destinationInWindow]: [2],
      [SUB.destinationMonthly]: [3],
      [SUB.destinationEndsEarlier]: [4],
    });
    expect(standard?.subscriptionEligibilities.find((destination) => destination.subscriptionId === SUB.destinationOk)?.isEligible).toBe(true);
  });

  it('offers no existing destinations for scheduled transitions', async () => {
    const [standard] = await fixture.client.getTransitionEligibilities(TENANT, SUB.source, 'scheduled');
    expect(standard?.subscriptionEligibilities).toEqual([]);
  });

  it('marks license transfer ineligible with code 3 when the customer has conflicting services', async () => {
    await fixture.admin('PUT', `/admin/faults/tenants/${TENANT}`, { conflictingServices: true });
    const [standard] = await fixture.client.getTransitionEligibilities(TENANT, SUB.source);
    expect(standard?.eligibilities[0]).toMatchObject({ transitionType: 'transition_only', isEligible: true });
    expect(standard?.eligibilities[1]).toMatchObject({
      transitionType: 'transition_with_license_transfer',
      isEligible: false,
      errors: [{ code: 3 }],
    });
  });

  it('reports an inactive source as ineligible', async () => {
    const [standard] = await fixture.client.getTransitionEligibilities(TENANT, SUB.inactiveSource);
    expect(standard?.eligibilities.every((detail) => !detail.isEligible)).toBe(true);
  });

  it('matches paths case-insensitively (the REST reference spells transitioneligibilities)', async () => {
    const response = await fetch(
      `${fixture.running.url}/v1/customers/${TENANT}/subscriptions/${SUB.source}/transitioneligibilities?eligibilityType=Immediate`,
      {
        headers: { Authorization: 'Bearer any' },
      },
    );
    expect(response.status).toBe(200);
  });
});

describe('transitions and their side effects', () => {
  it('partial upgrade to a new subscription: returns the new id at once, creates it co-termed on completion', async () => {
    const transition = await fixture.client.createTransition(
      TENANT,
      SUB.source,
      { toCatalogItemId: STANDARD, quantity: 4, transitionType: 'transition_only' },
      { requestId: 'upgrade-partial' },
    );
    expect(transition.events).toEqual([expect.objectContaining({ name: 'Conversion', status: 'Started' })]);
    const newSubscriptionId = transition.toSubscriptionId;
    expect(newSubscriptionId).toBeDefined();
    expect(newSubscriptionId).not.toBe(SUB.source);

    await eventually(() => completed(SUB.source));
    expect((await subscriptionOf(SUB.source)).quantity).toBe(6);
    expect(await subscriptionOf(newSubscriptionId ?? '')).toMatchObject({
      offerId: STANDARD,
      quantity: 4,
      termDuration: 'P1Y',
      billingCycle: 'monthly',
      commitmentEndDate: '2027-01-31T00:00:00Z',
    });
  });

  it('full upgrade to a new subscription converts the source in place', async () => {
    const transition = await fixture.client.createTransition(
      TENANT,
      SUB.source,
      { toCatalogItemId: E1, quantity: 10, transitionType: 'transition_only' },
      { requestId: 'upgrade-full' },
    );
    expect(transition.toSubscriptionId).toBe(SUB.source);
    await eventually(() => completed(SUB.source));
    expect(await subscriptionOf(SUB.source)).toMatchObject({
      offerId: E1,
      quantity: 10,
      commitmentEndDate: '2027-01-31T00:00:00Z',
    });
  });

  it('partial upgrade into an existing subscription moves the seats', async () => {
    await fixture.client.createTransition(
      TENANT,
      SUB.source,
      {
        toCatalogItemId: STANDARD,
        quantity: 2,
        transitionType: 'transition_only',
        toSubscriptionId: SUB.destinationOk,
      },
      { requestId: 'upgrade-existing' },
    );
    await eventually(() => completed(SUB.source));
    expect((await subscriptionOf(SUB.source)).quantity).toBe(8);
    expect((await subscriptionOf(SUB.destinationOk)).quantity).toBe(5);
  });

  it('full upgrade into an existing subscription cancels the source', async () => {
    await fixture.client.createTransition(
      TENANT,
      SUB.source,
      {
        toCatalogItemId: STANDARD,
        quantity: 10,
        transitionType: 'transition_only',
        toSubscriptionId: SUB.destinationOk,
      },
      { requestId: 'upgrade-existing-full' },
    );
    await eventually(() => completed(SUB.source));
    expect(await subscriptionOf(SUB.source)).toMatchObject({ quantity: 0, status: 'cancelled' });
    expect((await subscriptionOf(SUB.destinationOk)).quantity).toBe(13);
  });

  it('with license transfer, moves the users to the target SKU and reports LicenseReassignment', async () => {
    await fixture.client.createTransition(
      TENANT,
      SUB.source,
      { toCatalogItemId: STANDARD, quantity: 3, transitionType: 'transition_with_license_transfer' },
      { requestId: 'upgrade-with-transfer' },
    );
    const transition = await eventually(() => completed(SUB.source));
    expect(transition.events.map((event) => `${event.name}/${event.status}`)).toEqual([
      'Conversion/Started',
      'Conversion/Completed',
      'LicenseReassignment/Started',
      'LicenseReassignment/Completed',
    ]);
    expect((await holdersOf(SKU.standard)).map((user) => user.id)).toEqual(['u1', 'u2', 'u3']);
    expect((await holdersOf(SKU.basic)).map((user) => user.id)).toEqual(['u4']);
  });
});

describe("licences through Microsoft Graph (the simulator's /graph)", () => {
  it('lists the holders of a SKU with their assignment states, and subscribed SKUs with enabled and consumed units', async () => {
    const [u1] = await holdersOf(SKU.basic);
    expect(u1).toEqual({
      id: 'u1',
      userPrincipalName: 'u1@contoso.example',
      assignedLicenses: [{ skuId: SKU.basic, disabledPlans: [] }],
      licenseAssignmentStates: [{ skuId: SKU.basic, assignedByGroup: null, state: 'Active', error: 'None' }],
    });
    const skus = await fixture.graph.subscribedSkus(TENANT);
    expect(skus.find((sku) => sku.skuId === SKU.basic)).toMatchObject({ prepaidUnits: { enabled: 10, suspended: 5 }, consumedUnits: 4 });
    expect(skus.find((sku) => sku.skuId === SKU.standard)).toMatchObject({ prepaidUnits: { enabled: 12, suspended: 3 }, consumedUnits: 0 });
  });

  it('swaps a SKU in one call and counts the call', async () => {
    await fixture.graph.assignLicense(TENANT, 'u1', { addLicenses: [{ skuId: SKU.standard, disabledPlans: [] }], removeLicenses: [SKU.basic] });
    expect((await holdersOf(SKU.standard)).map((user) => user.assignedLicenses)).toEqual([[{ skuId: SKU.standard, disabledPlans: [] }]]);
    const skus = await fixture.graph.subscribedSkus(TENANT);
    expect(skus.find((sku) => sku.skuId === SKU.standard)?.consumedUnits).toBe(1);
    expect(fixture.simulator.state.counters.assignLicenseCalls).toBe(1);
  });
});
