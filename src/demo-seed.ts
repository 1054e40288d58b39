import type { Database } from './db/connection';
import { fromProduct, fromSubscription, toAccount, toProduct, toSubscription } from './db/mappers';
import { utcDateOf } from './domain/dates';
import { DEMO_PRODUCT_IDS, demoProducts } from './domain/demo-catalog';
import type { Account, Subscription } from './domain/types';
import { sampleSubscription } from './sample-data';
import { registerWithSimulator, simulatorSeedFor } from './partner-center/simulator-registration';

/**
 * Demo data for `npm start`: the Microsoft 365 demo catalog, two customers and subscriptions whose current charge
 * cycle contains today, so every kind of upgrade can be tried at once from the API docs page.
 */
function demoAccounts(): Account[] {
  return [
    {
      id: 'acc_contoso',
      name: 'Contoso Ltd',
      tenantId: '4f1c2a9e-0d6b-4c53-9a51-2b7f3e8d1c01',
      role: 'direct_reseller',
      partnerId: '6104321',
      currency: 'USD',
      taxRateBasisPoints: 2000,
      webhookUrl: undefined,
    },
    {
      id: 'acc_fabrikam',
      name: 'Fabrikam GmbH',
      tenantId: '9b3e7d21-5a44-4e0f-8c2d-71a6f0b9e202',
      role: 'end_customer',
      currency: 'EUR',
      taxRateBasisPoints: 1900,
      markupBasisPoints: 1000,
      parentResellerId: 'acc_contoso',
    },
  ].map((account) => Object.fromEntries(Object.entries(account).filter(([, v]) => v !== undefined)) as unknown as Account);
}

function demoSubscriptions(today = utcDateOf(new Date())): Subscription[] {
  const [contoso, fabrikam] = demoAccounts() as [Account, Account];
  const timing = { today, daysIntoCycle: 9, monthsIntoTerm: 3 };
  return [
    sampleSubscription(
      contoso,
      { id: 'sub_contoso_basic', externalId: 'a1b2c3d4-0001-4000-8000-000000000001', productId: DEMO_PRODUCT_IDS.businessBasic, quantity: 10, unitPrice: 735 },
      timing,
    ),
    sampleSubscription(
      contoso,
      {
        id: 'sub_contoso_standard',
        externalId: 'a1b2c3d4-0001-4000-8000-000000000002',
        productId: DEMO_PRODUCT_IDS.businessStandard,
        quantity: 5,
        unitPrice: 1470,
      },
      timing,
    ),
    sampleSubscription(
      contoso,
      { id: 'sub_contoso_o365e1', externalId: 'a1b2c3d4-0001-4000-8000-000000000003', productId: DEMO_PRODUCT_IDS.office365E1, quantity: 25, unitPrice: 1050 },
      timing,
    ),
    sampleSubscription(
      fabrikam,
      {
        id: 'sub_fabrikam_basic',
        externalId: 'a1b2c3d4-0002-4000-8000-000000000001',
        productId: DEMO_PRODUCT_IDS.businessBasic,
        quantity: 8,
        unitPrice: 735,
        currency: 'EUR',
      },
      timing,
    ),
  ];
}

/** Inserts what is missing (never overwrites: a restarted `npm start` keeps the state of earlier upgrades). */
export async function seedDemoData(database: Database): Promise<void> {
  const { models } = database;
  await models.products.bulkWrite(
    demoProducts().map((product) => ({
      updateOne: { filter: { _id: product.productId }, update: { $setOnInsert: fromProduct(product) as never }, upsert: true },
    })),
  );
  for (const { id, ...fields } of demoAccounts()) {
    await models.accounts.updateOne({ _id: id }, { $setOnInsert: fields as never }, { upsert: true });
  }
  for (const subscription of demoSubscriptions()) {
    await models.subscriptions.updateOne({ _id: subscription.id }, { $setOnInsert: fromSubscription(subscription) as never }, { upsert: true });
  }
}

/** The in-memory simulator forgets everything at restart: tell it what our database holds. */
export async function registerDatabaseWithSimulator(database: Database, simulatorUrl: string): Promise<void> {
  const { models } = database;
  const [accounts, subscriptions, products] = await Promise.all([
    models.accounts.find().lean(),
    models.subscriptions.find().lean(),
    models.products.find().lean(),
  ]);
  await registerWithSimulator(
    simulatorUrl,
    simulatorSeedFor({
      accounts: accounts.map((doc) => toAccount(doc as never)),
      subscriptions: subscriptions.map((doc) => toSubscription(doc as never)),
      products: products.map((doc) => toProduct(doc as never)),
    }),
  );
}
