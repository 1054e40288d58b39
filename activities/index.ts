import type { UpgradeActivities } from '../workflows/activity-contract';
import type { UpgradeActivityDeps } from './deps';
import { createInvoiceActivities } from './invoices';
import { createNotificationActivities } from './notifications';
import { createSeatReassignmentActivities } from './seat-reassignment';
import { createSubscriptionChangeActivities } from './subscription-changes';
import { createUpgradeRecordActivities } from './upgrade-record';
import { createValidationActivities } from './validation';
import { createVendorTransitionActivities } from './vendor-transition';

export type { UpgradeActivityDeps } from './deps';

/**
 * The UpgradeWorkflow's activities, one file per concern, built from their dependencies. Checked against the
 * workflow's contract (workflows/activity-contract.ts), the interface its proxies are typed with.
 */
export function createUpgradeActivities(deps: UpgradeActivityDeps): UpgradeActivities {
  return {
    ...createUpgradeRecordActivities(deps),
    ...createValidationActivities(deps),
    ...createVendorTransitionActivities(deps),
    ...createSubscriptionChangeActivities(deps),
    ...createSeatReassignmentActivities(deps),
    ...createInvoiceActivities(deps),
    ...createNotificationActivities(deps),
  } satisfies UpgradeActivities;
}
