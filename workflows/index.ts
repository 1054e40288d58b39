// The worker's workflowsPath: every workflow type, one per file.
export { UpgradeWorkflow } from './upgrade-workflow';
export { ScheduledUpgradeWorkflow } from './scheduled-upgrade-workflow';
export { WebhookRedeliveryWorkflow } from './webhook-redelivery-workflow';
export { UpgradeSweeperWorkflow } from './upgrade-sweeper-workflow';
