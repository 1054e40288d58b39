import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes operators filter on in the Temporal UI, e.g.
 * `UpgradeStatus = "failed" AND UpgradeAccountId = "acc-42"`. Ids and codes only: no personal data.
 * The dev server registers them at start (`--search-attribute`); external clusters at worker start-up.
 */
export const UPGRADE_STATUS = defineSearchAttributeKey('UpgradeStatus', SearchAttributeType.KEYWORD);
export const UPGRADE_ACCOUNT_ID = defineSearchAttributeKey('UpgradeAccountId', SearchAttributeType.KEYWORD);
export const UPGRADE_SOURCE_SUBSCRIPTION_ID = defineSearchAttributeKey('UpgradeSourceSubscriptionId', SearchAttributeType.KEYWORD);
export const UPGRADE_TARGET_PRODUCT_ID = defineSearchAttributeKey('UpgradeTargetProductId', SearchAttributeType.KEYWORD);
export const UPGRADE_KIND = defineSearchAttributeKey('UpgradeKind', SearchAttributeType.KEYWORD);
export const UPGRADE_DESTINATION_TYPE = defineSearchAttributeKey('UpgradeDestinationType', SearchAttributeType.KEYWORD);
/**
 * A scheduled upgrade's day (00:00 UTC), on its ScheduledUpgradeWorkflow: "due this week" is
 * `UpgradeStatus = "scheduled" AND UpgradeDueDate < "2026-12-07T00:00:00Z"`.
 */
export const UPGRADE_DUE_DATE = defineSearchAttributeKey('UpgradeDueDate', SearchAttributeType.DATETIME);

export const UPGRADE_SEARCH_ATTRIBUTES = [
  UPGRADE_STATUS,
  UPGRADE_ACCOUNT_ID,
  UPGRADE_SOURCE_SUBSCRIPTION_ID,
  UPGRADE_TARGET_PRODUCT_ID,
  UPGRADE_KIND,
  UPGRADE_DESTINATION_TYPE,
  UPGRADE_DUE_DATE,
] as const;
