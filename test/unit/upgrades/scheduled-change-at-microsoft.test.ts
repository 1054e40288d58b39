/** upgrade-options' view of the source's scheduled change: read from Partner Center, reused for a short while. */
import { reusedSubscriptionReader, scheduledChangeAtMicrosoft, type SubscriptionReader } from '../../../src/upgrades/microsoft-scheduled-change-warning';

type VendorSubscription = Awaited<ReturnType<SubscriptionReader['getSubscription']>>;

const withChange = (quantity: number): VendorSubscription =>
  ({
    id: 'sub-1',
    scheduledNextTermInstructions: {
      product: { productId: 'CFQ7TTC0LH18', skuId: '0001', availabilityId: 'CFQ7TTC0K5SM', billingCycle: 'monthly', termDuration: 'P1Y' },
      quantity,
    },
  }) as unknown as VendorSubscription;

describe('reusedSubscriptionReader', () => {
  it('reuses an answer within the max age (any letter case), asks again after it, and never keeps a failure', async () => {
    let now = 0;
    let calls = 0;
    let failNext = false;
    let quantity = 3;
    const vendor: SubscriptionReader = {
      getSubscription: async () => {
        calls += 1;
        if (failNext) throw new Error('Partner Center answered 503');
        return withChange(quantity);
      },
    };
    const reader = reusedSubscriptionReader(vendor, 60_000, () => now);
    expect((await scheduledChangeAtMicrosoft(reader, 'tenant', 'sub-1')).change?.quantity).toBe(3);
    quantity = 5;
    now = 59_999;
    expect((await scheduledChangeAtMicrosoft(reader, 'TENANT', 'SUB-1')).change?.quantity).toBe(3);
    expect(calls).toBe(1);
    now = 60_000;
    failNext = true;
    // A failure is shown as unavailable, never as "no scheduled change", and is not reused.
    expect(await scheduledChangeAtMicrosoft(reader, 'tenant', 'sub-1')).toEqual({ read: 'unavailable', change: null });
    failNext = false;
    expect((await scheduledChangeAtMicrosoft(reader, 'tenant', 'sub-1')).change?.quantity).toBe(5);
    expect(calls).toBe(3);
  });

  it('with a max age of 0 asks every time', async () => {
    let calls = 0;
    const reader = reusedSubscriptionReader({ getSubscription: async () => (calls++, withChange(1)) }, 0, () => 0);
    await reader.getSubscription('tenant', 'sub-1');
    await reader.getSubscription('tenant', 'sub-1');
    expect(calls).toBe(2);
  });
});
