import { Catalog, type Product } from '../domain/catalog';
import type { Account, Subscription } from '../domain/types';
import type { AccountDocument, Models, ProductDocument, SubscriptionDocument } from './models';

/**
 * Stored documents → domain entities (and back). The domain never sees `_id`, locks or bookkeeping fields, and
 * optional fields stored as null come back absent, so the pure rules see exactly the shapes they declare.
 */
type WithId<T> = T & { _id: unknown };

function withoutNulls<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null && v !== undefined)) as T;
}

/** A stored document's fields without `_id` and the given bookkeeping fields. */
function fieldsOf(doc: object, bookkeeping: readonly string[]): Record<string, unknown> {
  const skipped = new Set(['_id', 'createdAt', 'updatedAt', ...bookkeeping]);
  return Object.fromEntries(Object.entries(doc).filter(([key]) => !skipped.has(key)));
}

export function toSubscription(doc: WithId<SubscriptionDocument>): Subscription {
  const fields = fieldsOf(doc, ['lockedByUpgradeId', 'lockedAt', 'appliedUpgradeIds']);
  return withoutNulls({ ...fields, id: String(doc._id) }) as unknown as Subscription;
}

export function toAccount(doc: WithId<AccountDocument>): Account {
  // The encrypted webhook secrets never leave the database layer (only their signatures do).
  return withoutNulls({ ...fieldsOf(doc, ['webhookSecrets']), id: String(doc._id) }) as unknown as Account;
}

export function toProduct(doc: WithId<ProductDocument>): Product {
  const fields = fieldsOf(doc, []) as Partial<Product>;
  // An empty array written by `$setOnInsert` can come back absent (seen with FerretDB): default it here.
  return withoutNulls({ ...fields, upgradePaths: fields.upgradePaths ?? [], prices: fields.prices ?? [], productId: String(doc._id) }) as unknown as Product;
}

export function fromSubscription(subscription: Subscription): Omit<SubscriptionDocument, 'appliedUpgradeIds'> & { _id: string } {
  const { id, ...fields } = subscription;
  return { _id: id, ...fields } as never;
}

export function fromProduct(product: Product): ProductDocument & { _id: string } {
  const { productId, ...fields } = product;
  return { _id: productId, ...fields } as never;
}

/** The upgrade record's steps (a map by name) as a timeline, oldest first. */
export function upgradeStepsOf(steps: unknown): Array<{ name: string; status: string; at: Date | string | undefined; detail?: string }> {
  if (!steps || typeof steps !== 'object') return [];
  return Object.entries(steps as Record<string, { status: string; at?: Date | string; detail?: string }>)
    .map(([name, step]) => ({ name, status: step.status, at: step.at, ...(step.detail ? { detail: step.detail } : {}) }))
    .sort((a, b) => new Date(a.at ?? 0).getTime() - new Date(b.at ?? 0).getTime());
}

export async function loadCatalog(models: Models): Promise<Catalog> {
  const products = await models.products.find().lean();
  return new Catalog(products.map((doc) => toProduct(doc as WithId<ProductDocument>)));
}

export async function loadSubscription(models: Models, id: string): Promise<Subscription | undefined> {
  const doc = await models.subscriptions.findById(id).lean();
  return doc ? toSubscription(doc as WithId<SubscriptionDocument>) : undefined;
}

export async function loadAccount(models: Models, id: string): Promise<Account | undefined> {
  const doc = await models.accounts.findById(id).lean();
  return doc ? toAccount(doc as WithId<AccountDocument>) : undefined;
}

export async function loadAccountSubscriptions(models: Models, accountId: string): Promise<Subscription[]> {
  const docs = await models.subscriptions.find({ accountId }).lean();
  return docs.map((doc) => toSubscription(doc as WithId<SubscriptionDocument>));
}
