import { fateOfDeletedScheduledChange, scheduledCatalogItemIdOf } from '../../../src/domain/deleted-scheduled-change';
import type { UpgradePlan } from '../../../src/domain/upgrade-plan';
import { microsoftScheduledChangeWarning } from '../../../src/upgrades/microsoft-scheduled-change-warning';
import type { VendorSubscription } from '../../../src/partner-center';

const SOURCE_PRODUCT = 'CFQ7TTC0LH18:0001:CFQ7TTC0LH2Q';
const instructionsInto = (catalogItemId: string, quantity = 3) => {
  const [productId = '', skuId = '', availabilityId = ''] = catalogItemId.split(':');
  return { product: { productId, skuId, availabilityId, billingCycle: 'monthly', termDuration: 'P1Y' }, quantity };
};
const plan = (kind: 'full' | 'partial', destinationType: 'new' | 'existing') =>
  ({
    kind,
    destinationType,
    sourceProductId: SOURCE_PRODUCT,
    vendor: { customerTenantId: 'tenant-1', fromSubscriptionId: 'vendor-sub-1' },
  }) as unknown as UpgradePlan;
const vendorWith = (scheduledNextTermInstructions: ReturnType<typeof instructionsInto> | null) => ({
  getSubscription: jest.fn(async () => ({ scheduledNextTermInstructions }) as unknown as VendorSubscription),
});

describe('a change scheduled at Microsoft that an immediate upgrade deletes', () => {
  test.each([
    ['partial', 'new', 'reapplied'],
    ['full', 'existing', 'reapplied'],
    ['full', 'new', 'source_converted'],
  ] as const)('the source product again (%s into %s) → %s', (kind, destinationType, fate) => {
    expect(fateOfDeletedScheduledChange(scheduledCatalogItemIdOf(instructionsInto(SOURCE_PRODUCT)), plan(kind, destinationType))).toBe(fate);
  });

  test('another product is an upgrade at renewal, which the immediate upgrade replaces', () => {
    expect(fateOfDeletedScheduledChange(scheduledCatalogItemIdOf(instructionsInto('CFQ7TTC0LDPB:0001:CFQ7TTC0LDQ7')), plan('partial', 'new'))).toBe('replaced');
  });

  test("the quote's warning names the change and its fate, read from Partner Center for the source", async () => {
    const vendor = vendorWith(instructionsInto(SOURCE_PRODUCT, 7));
    await expect(microsoftScheduledChangeWarning(vendor, plan('full', 'new'), false)).resolves.toMatchObject({
      code: 'MICROSOFT_SCHEDULED_CHANGE_DELETED',
      fate: 'source_converted',
      scheduledChange: { catalogItemId: SOURCE_PRODUCT.toLowerCase(), quantity: 7 },
    });
    expect(vendor.getSubscription).toHaveBeenCalledWith('tenant-1', 'vendor-sub-1');
  });

  test('no warning without a scheduled change, nor for our own upgrade at renewal (warned of already)', async () => {
    await expect(microsoftScheduledChangeWarning(vendorWith(null), plan('partial', 'new'), false)).resolves.toBeUndefined();
    const ours = vendorWith(instructionsInto('CFQ7TTC0LDPB:0001:CFQ7TTC0LDQ7'));
    await expect(microsoftScheduledChangeWarning(ours, plan('partial', 'new'), true)).resolves.toBeUndefined();
    await expect(microsoftScheduledChangeWarning(ours, plan('partial', 'new'), false)).resolves.toMatchObject({ fate: 'replaced' });
  });

  test('a failed read is said, never taken for "no scheduled change"', async () => {
    const vendor = { getSubscription: jest.fn(async () => Promise.reject(new Error('503'))) };
    await expect(microsoftScheduledChangeWarning(vendor, plan('partial', 'new'), false)).resolves.toMatchObject({
      code: 'MICROSOFT_SCHEDULED_CHANGES_UNKNOWN',
    });
  });
});
