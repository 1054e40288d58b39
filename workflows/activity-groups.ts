import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { UpgradeActivities } from './activity-contract';
import { NON_RETRYABLE_VENDOR_FOLLOW_FAILURES, NON_RETRYABLE_VENDOR_REQUEST_FAILURES } from './failure-types';

/*
 * The UpgradeWorkflow's activity groups, each with the timeouts and retries its kind of work needs.
 */

/** Database bookkeeping: fast, and after the vendor has converted it must eventually succeed — retry forever. */
const bookkeepingOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
} as const;
export const record = proxyActivities<UpgradeActivities>(bookkeepingOptions);

/**
 * The record's status and steps at each change of status: one database write, run by the worker as a local activity
 * (no round trip through the server; its result rides on the next workflow task's commands).
 */
export const recordLocally = proxyLocalActivities<UpgradeActivities>(bookkeepingOptions);

/**
 * Asking Partner Center for the transition: transient errors (5xx, timeouts) back off up to 5 min, a 429 waits
 * exactly Retry-After (the activity sets nextRetryDelay); business rejections and contract errors are final.
 * The POST first waits for its slot of the tenant's request limit (src/partner-center/transition-limit.ts), which
 * can take minutes: it heartbeats while it waits, and each stretch between heartbeats has the minute the whole
 * request had before (the options are not part of the history's commands: runs replay unchanged).
 */
export const vendorRequest = proxyActivities<UpgradeActivities>({
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '1 minute',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '5 minutes',
    nonRetryableErrorTypes: [...NON_RETRYABLE_VENDOR_REQUEST_FAILURES],
  },
});

/**
 * Following the asynchronous conversion (seconds to 24 h): one long activity that polls and heartbeats at least every
 * 10 s. A lost worker is noticed within the 30 s heartbeat timeout and polling resumes elsewhere.
 */
export const vendorFollow = proxyActivities<UpgradeActivities>({
  startToCloseTimeout: '48 hours',
  heartbeatTimeout: '30 seconds',
  retry: {
    initialInterval: '5 seconds',
    backoffCoefficient: 2,
    maximumInterval: '5 minutes',
    nonRetryableErrorTypes: [...NON_RETRYABLE_VENDOR_FOLLOW_FAILURES],
  },
});

/** Automatic seat reassignment: a few tries with backoff, then the workflow falls back to manual. */
export const seats = proxyActivities<UpgradeActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
});

/** Webhook delivery: about an hour of retries; after that the outbox entry stays for redelivery. */
export const notify = proxyActivities<UpgradeActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes', maximumAttempts: 10 },
});
