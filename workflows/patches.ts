/**
 * Patch ids, one per change to the command sequence of a released shape (`patched()`, replay-tested in test/replay).
 * - ONE_UPSERT_PER_STATE_CHANGE: the kind and destination type ride on the `awaiting_vendor` status upsert, and a
 *   status that does not change is not upserted again. Each upsert is a visibility write on the server (measured:
 *   9 upserts doubled the dev server's CPU per run); before it, 9 upserts per run, after it 7.
 * - WORKFLOW_WRITES_THE_RECORD: the workflow is the one writer of the upgrade's status and steps. At each change of
 *   status it upserts the search attribute and writes the record (status, the steps completed since, the seat
 *   reassignment state) with the `recordUpgradeProgress` local activity; the ending activities write its final state.
 *   Activities no longer write statuses or steps; `recordSeatReassignmentState` is no longer called (the progress
 *   write carries the seat state); `recordUpgradeAccepted` is called only for runs the API did not record. Implies
 *   ONE_UPSERT_PER_STATE_CHANGE (not asked separately: each patch costs a TemporalChangeVersion upsert).
 *   Runs started before it keep their shape and complete; the record of such a run no longer receives the
 *   intermediate statuses and steps its activities used to write after the deploy (its search attribute and its
 *   final status, error and locks are as before).
 * - NEEDS_ATTENTION: when whether Microsoft converted is unknown (a VendorOutcomeUnknown, any final error while
 *   following the transition or after the conversion, a cancellation once the request may have been sent), the run
 *   sets `needs_attention`, sends `upgrade_needs_attention` and waits for `resolveUncertainOutcome` with its locks
 *   kept, instead of ending failed; a cancellation before the request releases the locks and records `failed`.
 *   Asked only where the new branch starts, so the histories of runs that never get there carry no marker.
 * - LEAN_SHAPE: fewer commands per run (a full → new upgrade with automatic seats: 74 history events → 57).
 *   Database-only bookkeeping runs as local activities (`recordUpgradeAccepted`, `failUpgrade`, `completeUpgrade`,
 *   `markNotificationUndeliverable`); the subscription changes and the invoices, consecutive steps with the same retry
 *   policy and both idempotent by the upgrade id, are one activity (`applySubscriptionChangesAndIssueInvoices`; both
 *   steps still recorded by name, the status `invoicing` is no longer set); the status search attribute no longer
 *   follows the brief automatic statuses (`validating`, `invoicing`, `reassigning_seats`, `notifying`) unless it
 *   leaves a wait. Implies WORKFLOW_WRITES_THE_RECORD and is asked instead of it (one marker and one
 *   TemporalChangeVersion upsert per run, as before). `applySubscriptionChanges` and `issueInvoices` stay registered
 *   for runs started before it.
 * - UPGRADES_AT_RENEWAL: the ScheduledUpgradeWorkflow of an upgrade at renewal writes Microsoft's scheduled change
 *   first, removes it on cancel, and on the renewal day renews the source into the target instead of starting an
 *   UpgradeWorkflow. Asked only by runs started with `atRenewal`, so upgrades on a date keep their shape.
 * - CAMPAIGN_SCHEDULED_START (CampaignWorkflow): a campaign with a day (`startAt`) waits for it on a durable timer
 *   before its first start. Asked only when the input has a day, which no earlier run had.
 * - CAMPAIGN_PAUSE_RECHECKED_BEFORE_STARTS (CampaignWorkflow): a pause or cancel taken while the run asked for room
 *   to start items starts none of them (before, the whole chunk started). Asked only when that race happened, so
 *   other runs carry no marker.
 * - VENDOR_REQUEST_WITHDRAWN: a run cancelled while its transition request is under way (waiting for its slot of
 *   the tenant's request limit, or retrying) asks `withdrawVendorRequest`; when it wins (no POST of this run attempt
 *   left, none will) the run releases the locks and ends failed `UPGRADE_CANCELLED` as before the request, instead
 *   of waiting in needs_attention. Asked only by runs cancelled there.
 */
export const PATCHES = {
  ONE_UPSERT_PER_STATE_CHANGE: 'one-search-attribute-upsert-per-state-change',
  WORKFLOW_WRITES_THE_RECORD: 'workflow-writes-status-and-steps',
  NEEDS_ATTENTION: 'needs-attention',
  LEAN_SHAPE: 'lean-upgrade-shape',
  UPGRADES_AT_RENEWAL: 'upgrades-at-renewal',
  CAMPAIGN_SCHEDULED_START: 'campaign-scheduled-start',
  CAMPAIGN_PAUSE_RECHECKED_BEFORE_STARTS: 'campaign-pause-rechecked-before-starts',
  VENDOR_REQUEST_WITHDRAWN: 'vendor-request-withdrawn-on-cancel',
} as const;
