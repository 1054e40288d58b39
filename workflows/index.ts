// The worker's workflowsPath: every workflow type, one per file.
export { UpgradeWorkflow } from './upgrade-workflow';
export { CampaignWorkflow } from './campaign-workflow';
