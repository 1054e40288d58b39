import { previewProration } from '../../../src/domain/proration-preview';

const example = {
  currency: 'EUR',
  upgradeDate: '2021-06-25',
  quantity: 300,
  source: { quantity: 300, unitPrice: 1008, chargeStart: '2021-06-18', chargeEnd: '2021-07-17' },
  destination: { type: 'new', unitPrice: 643 },
};

describe('previewProration (docs/proration.md, the preview endpoint)', () => {
  it('returns exactly the documented response for the documented request', () => {
    expect(previewProration(example)).toEqual({
      ok: true,
      value: {
        currency: 'EUR',
        credit: { amount: -231840, quantity: 300, periodStart: '2021-06-25', periodEnd: '2021-07-17', days: 23, cycleDays: 30 },
        debit: { amount: 147890, quantity: 300, periodStart: '2021-06-25', periodEnd: '2021-07-17', days: 23, cycleDays: 30 },
        net: -83950,
      },
    });
  });

  it('prorates an existing destination on its own cycle (worked example 3)', () => {
    const result = previewProration({
      currency: 'USD',
      upgradeDate: '2025-04-12',
      quantity: 4,
      source: { quantity: 10, unitPrice: 1000, chargeStart: '2025-03-25', chargeEnd: '2025-04-24' },
      destination: { type: 'existing', unitPrice: 2000, chargeStart: '2025-04-05', chargeEnd: '2025-05-04' },
    });
    expect(result.ok && result.value).toMatchObject({
      credit: { amount: -1677, days: 13, cycleDays: 31 },
      debit: { amount: 6133, days: 23, cycleDays: 30, periodEnd: '2025-05-04' },
      net: 4456,
    });
  });

  it('adds the destination installment schedule when billing frequency and term end are given', () => {
    const result = previewProration({
      ...example,
      billingFrequency: 'monthly',
      source: { ...example.source, termStart: '2021-01-18', termEnd: '2022-01-17' },
    });
    expect(result.ok && result.value.destinationInstallments).toHaveLength(6);
    expect(result.ok && result.value.destinationInstallments?.[0]).toEqual({
      periodStart: '2021-07-18',
      periodEnd: '2021-08-17',
      amount: 192900,
      quantity: 300,
    });
  });

  it.each<[string, (body: typeof example) => unknown, string]>([
    ['currency', (b) => ({ ...b, currency: 'XYZ' }), 'unknown currency'],
    ['upgradeDate', (b) => ({ ...b, upgradeDate: '2021-07-18' }), 'outside the source cycle'],
    ['upgradeDate', (b) => ({ ...b, upgradeDate: '2021-02-30' }), 'calendar date'],
    ['quantity', (b) => ({ ...b, quantity: 301 }), "above the source's 300 seats"],
    ['quantity', (b) => ({ ...b, quantity: 0 }), 'at least 1'],
    ['quantity', (b) => ({ ...b, quantity: 1.5 }), 'integer'],
    ['source.unitPrice', (b) => ({ ...b, source: { ...b.source, unitPrice: -1 } }), 'at least 0'],
    ['source.chargeEnd', (b) => ({ ...b, source: { ...b.source, chargeEnd: '2021-06-17' } }), 'before chargeStart'],
    ['source.chargeStart', (b) => ({ ...b, source: { ...b.source, chargeStart: '18/06/2021' } }), 'calendar date'],
    ['destination.unitPrice', (b) => ({ ...b, destination: { type: 'new', unitPrice: -5 } }), 'at least 0'],
    ['destination.type', (b) => ({ ...b, destination: { type: 'other', unitPrice: 1 } }), '"new" or "existing"'],
    ['destination.chargeEnd', (b) => ({ ...b, destination: { type: 'existing', unitPrice: 1, chargeStart: '2021-06-01' } }), 'calendar date'],
    ['source', (b) => ({ ...b, source: 'x' }), 'object'],
    ['billingFrequency', (b) => ({ ...b, billingFrequency: 'weekly' }), 'one of'],
  ])('400 naming %s', (field, mutate, message) => {
    const result = previewProration(mutate(example));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toContainEqual({ field, message: expect.stringContaining(message) });
  });

  it('reports every broken field at once', () => {
    const result = previewProration({ ...example, currency: 'XYZ', quantity: -1, upgradeDate: 'soon' });
    expect(!result.ok && result.errors.map((e) => e.field).sort()).toEqual(['currency', 'quantity', 'upgradeDate']);
  });

  it('rejects a non-object body', () => {
    expect(previewProration(null)).toEqual({ ok: false, errors: [{ field: 'body', message: 'must be a JSON object' }] });
  });
});
