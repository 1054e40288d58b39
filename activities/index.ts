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
 * The UpgradeWorkflow's activities, one file per concern, built from their dependencies (STYLE.md §2). The workflow
 * types its proxies with `ReturnType<typeof createUpgradeActivities>` through `import type` only.
 */
export function createUpgradeActivities(deps: UpgradeActivityDeps) {
  return {
    ...createUpgradeRecordActivities(deps),
    ...createValidationActivities(deps),
    ...createVendorTransitionActivities(deps),
    ...createSubscriptionChangeActivities(deps),
    ...createSeatReassignmentActivities(deps),
    ...createInvoiceActivities(deps),
    ...createNotificationActivities(deps),
  };
}

export type UpgradeActivities = ReturnType<typeof createUpgradeActivities>;
