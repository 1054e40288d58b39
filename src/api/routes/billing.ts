import { previewProration } from '../../domain';
import type { InvoiceDocument, SubscriptionDocument, UpgradeDocument } from '../../db/models';
import { firstByIdInAccounts } from '../../db/listing';
import type { ResolvedDeps } from '../deps';
import { validationError, type FieldError } from '../errors';
import { defineRoute, forbiddenKeys, type AnyRoute } from '../routing';
import { invoiceListQuerySchema, invoiceListSchema, prorationPreviewRequestSchema, prorationPreviewResponseSchema } from '../schemas/billing';
import { ensureVisible, invoiceView } from '../views';

type LeanInvoice = InvoiceDocument & { _id: unknown; createdAt?: Date };

/** Unknown fields are refused like everywhere else; the rules themselves are the domain's. */
function unknownFields(body: unknown): FieldError[] {
  const result = prorationPreviewRequestSchema.safeParse(body);
  if (result.success) return [];
  return result.error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys' ? issue.keys.map((key) => ({ path: [...issue.path.map(String), key].join('.'), message: 'unknown field' })) : [],
  );
}

export function billingRoutes(deps: ResolvedDeps): AnyRoute[] {
  const { models } = deps;
  return [
    defineRoute({
      method: 'get',
      path: '/v1/invoices',
      operationId: 'listInvoices',
      tag: 'Billing',
      summary: 'Invoices with their lines (filter by subscription and/or upgrade)',
      access: 'authenticated',
      query: invoiceListQuerySchema,
      responses: { 200: { description: 'Invoices', schema: invoiceListSchema } },
      errors: [404],
      async handler({ query, caller }) {
        const filter: Record<string, unknown> = {};
        if (query.subscriptionId) {
          const sub = (await models.subscriptions.findById(query.subscriptionId, { accountId: 1 }).lean()) as SubscriptionDocument | null;
          ensureVisible(caller, sub, `Subscription ${query.subscriptionId}`);
          filter.subscriptionId = query.subscriptionId;
        }
        if (query.upgradeId) {
          const upgrade = (await models.upgrades.findById(query.upgradeId, { accountId: 1 }).lean()) as UpgradeDocument | null;
          ensureVisible(caller, upgrade, `Upgrade ${query.upgradeId}`);
          filter.upgradeId = query.upgradeId;
        }
        const docs = (await firstByIdInAccounts(models.invoices, filter, caller.accountIds, query.limit ?? 100)) as LeanInvoice[];
        return { status: 200, body: { invoices: docs.map(invoiceView) } };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/billing/proration-preview',
      operationId: 'previewProration',
      tag: 'Billing',
      summary: 'Explicit proration inputs → credit and debit lines, no side effects (support explains an invoice line)',
      description: 'For support engineers explaining an invoice. Inputs that break the rules are 400 with the field named.',
      access: 'operator',
      documentedBody: prorationPreviewRequestSchema,
      responses: { 200: { description: 'Lines and net', schema: prorationPreviewResponseSchema } },
      async handler({ req }) {
        const body: unknown = req.body;
        if (body === undefined) throw validationError([{ path: '(body)', message: 'a JSON object body is required' }]);
        const forbidden = [...forbiddenKeys(body), ...unknownFields(body)];
        if (forbidden.length > 0) throw validationError(forbidden);
        const result = previewProration(body);
        if (!result.ok) throw validationError(result.errors.map((error) => ({ path: error.field, message: error.message })));
        return { status: 200, body: result.value };
      },
    }),
  ];
}
