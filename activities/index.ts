import type { UpgradeActivities } from '../workflows/activity-contract';
import type { WebhookRedeliveryActivities } from '../workflows/webhook-redelivery-workflow';
import type { UpgradeSweeperActivities } from '../workflows/upgrade-sweeper-workflow';
import type { UpgradeActivityDeps } from './deps';
import { createChangesAndInvoicesActivities } from './changes-and-invoices';
import { createInvoiceActivities } from './invoices';
import { createNotificationActivities } from './notifications';
import { createSeatReassignmentActivities } from './seat-reassignment';
import { createSubscriptionChangeActivities } from './subscription-changes';
import { createSweeperActivities } from './upgrade-sweeper';
import { createUpgradeRecordActivities } from './upgrade-record';
import { createValidationActivities } from './validation';
import { createWebhookRedeliveryActivities } from './webhook-redelivery';
import { createVendorTransitionActivities } from './vendor-transition';

export type { UpgradeActivityDeps } from './deps';

/**
 * The worker's activities, one file per concern, built from their dependencies: the UpgradeWorkflow's, checked
 * against its contract (workflows/activity-contract.ts, the interface its proxies are typed with), and webhook
 * redelivery's (workflows/webhook-redelivery-workflow.ts) and the sweeper's (workflows/upgrade-sweeper-workflow.ts).
 */
export function createUpgradeActivities(deps: UpgradeActivityDeps): UpgradeActivities & WebhookRedeliveryActivities & UpgradeSweeperActivities {
  return {
    ...createUpgradeRecordActivities(deps),
    ...createValidationActivities(deps),
    ...createVendorTransitionActivities(deps),
    ...createSubscriptionChangeActivities(deps),
    ...createSeatReassignmentActivities(deps),
    ...createInvoiceActivities(deps),
    ...createChangesAndInvoicesActivities(deps),
    ...createNotificationActivities(deps),
    ...createWebhookRedeliveryActivities(deps),
    ...createSweeperActivities(deps),
  } satisfies UpgradeActivities & WebhookRedeliveryActivities & UpgradeSweeperActivities;
}
