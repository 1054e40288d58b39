import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { UpgradeRequest } from '../src/domain/types';

/**
 * The workflow's contract with the outside: its input, its status values, and its messages. The API and the CLI
 * import these, so each name exists once.
 */
export const UPGRADE_WORKFLOW_TYPE = 'UpgradeWorkflow';

/**
 * Status values, in the order an upgrade passes through them. `scheduled`: waiting for its day in a
 * ScheduledUpgradeWorkflow (workflows/scheduled-upgrade-workflow.ts), which hands it over as `accepted` or ends it
 * `rejected`; `cancelled`: cancelled while scheduled. UpgradeWorkflow itself never sets either.
 */
export const UPGRADE_STATUSES = [
  'scheduled',
  'accepted',
  'validating',
  'awaiting_vendor',
  'applying',
  'reassigning_seats',
  'awaiting_manual_seat_reassignment',
  'invoicing',
  'notifying',
  'needs_attention',
  'completed',
  'rejected',
  'failed',
  'cancelled',
] as const;
export type UpgradeStatus = (typeof UPGRADE_STATUSES)[number];
/** How an UpgradeWorkflow run ends. */
export const FINAL_UPGRADE_STATUSES: readonly UpgradeStatus[] = ['completed', 'rejected', 'failed'];
/** Statuses after which nothing runs for an upgrade any more: an UpgradeWorkflow's ending, or cancelled while scheduled. */
export const ENDED_UPGRADE_STATUSES: readonly UpgradeStatus[] = [...FINAL_UPGRADE_STATUSES, 'cancelled'];

export interface UpgradeWorkflowInput {
  upgradeId: string;
  accountId: string;
  request: UpgradeRequest;
  /** API key id of the caller who started it (audit). */
  requestedByKeyId: string;
  /** When the API accepted it (ISO instant). The upgrade date is this instant's UTC date, frozen for the run. */
  acceptedAt: string;
  /** sha256 of the canonical request: the idempotency fingerprint. */
  requestFingerprint: string;
  /** 0 for the first run; an operator retry of a failed upgrade passes the next number. */
  runAttempt?: number;
  /**
   * The token of the claim that took this run's locks (src/db/subscription-locks.ts): the run locks and releases
   * with it. Runs started before claims existed have none and act for the upgrade as a whole.
   */
  lockClaim?: string;
  /**
   * True when the API inserted the upgrade record, with its `accepted` step, before starting the run: the run's
   * first activity then has nothing to write. Runs started otherwise (CLI, operator retry) write it themselves.
   */
  recordedByApi?: boolean;
  /** Operator-facing tunables, fixed per run so replays see the same values. */
  seatReassignment?: { reminderIntervalMs: number; escalateAfterMs: number };
}

/**
 * The steps of an upgrade's timeline. The workflow names them, and the upgrade record stores what the workflow wrote,
 * so `GET /v1/upgrades/:id` shows the same names while a run is live (from the query) and after it (from the record).
 */
export const UPGRADE_STEPS = {
  accepted: 'accepted',
  validated: 'validated',
  vendorTransitionRequested: 'vendor_transition_requested',
  vendorTransitionCompleted: 'vendor_transition_completed',
  vendorTransitionFailed: 'vendor_transition_failed',
  subscriptionsApplied: 'subscriptions_applied',
  invoicesIssued: 'invoices_issued',
  seatsReassigned: 'seats_reassigned',
  completed: 'completed',
  rejected: 'rejected',
  failed: 'failed',
  needsAttention: 'needs_attention',
  uncertainOutcomeResolved: 'uncertain_outcome_resolved',
} as const;
export type UpgradeStepName = (typeof UPGRADE_STEPS)[keyof typeof UPGRADE_STEPS];

/** A re-run's vendor steps carry its attempt (`vendor_transition_requested_1`), so the earlier run's steps stay. */
export const vendorStepName = (name: UpgradeStepName, attempt: number): string => (attempt ? `${name}_${attempt}` : name);

export interface UpgradeStepRecord {
  /** One of UPGRADE_STEPS, or a vendor step with its attempt (vendorStepName). */
  name: string;
  status: 'started' | 'completed' | 'failed' | 'skipped';
  at: string;
  detail?: string;
}

export type SeatReassignmentMode = 'automatic' | 'manual';
export interface SeatReassignmentState {
  mode: SeatReassignmentMode;
  reason: string;
  state: 'pending' | 'in_progress' | 'done' | 'awaiting_confirmation' | 'confirmed';
  remindersSent: number;
  escalated: boolean;
  confirmedBy?: string;
  confirmedAt?: string;
}

export interface UpgradeResult {
  upgradeId: string;
  status: 'completed';
  destinationSubscriptionId: string;
  invoiceIds: string[];
}

export interface UpgradeState {
  upgradeId: string;
  status: UpgradeStatus;
  currentDetails: string;
  steps: UpgradeStepRecord[];
  seatReassignment?: SeatReassignmentState;
  error?: { code: string; message: string };
  /** Set while (and after) the run waited for an operator to say whether Microsoft converted. */
  attention?: NeedsAttention;
}

export interface SeatReassignmentConfirmation {
  confirmedBy: string;
  note?: string;
}

/** One query returns the whole state; `GET /v1/upgrades/:id` uses it for running upgrades. */
export const getUpgradeStateQuery = defineQuery<UpgradeState>('getUpgradeState');

/**
 * The portal or an operator confirms that the seats were reassigned by hand. An update (not a signal) so the caller
 * learns at once whether the confirmation was accepted (it is refused when nothing waits for one).
 */
export const confirmSeatReassignmentUpdate = defineUpdate<UpgradeState, [SeatReassignmentConfirmation]>('confirmSeatReassignment');

/** Fire-and-forget variant for tools that can only signal (e.g. `temporal workflow signal`). */
export const seatReassignmentConfirmedSignal = defineSignal<[SeatReassignmentConfirmation]>('seatReassignmentConfirmed');

/**
 * Why a run waits in `needs_attention`: whether Microsoft converted cannot be told automatically (a lost answer,
 * a transition that cannot be followed, a cancellation after the request may have been sent, a final error after
 * the conversion). The locks stay; only an operator who checked Partner Center settles it (docs/runbook.md).
 */
export interface NeedsAttention {
  /** The failure type or our own code (`VendorOutcomeUnknown`, `UPGRADE_CANCELLED`, …). */
  code: string;
  message: string;
  details?: unknown;
  /** The step that could not finish: the vendor request, following it, or a step after the conversion. */
  during: 'vendor_request' | 'vendor_follow' | 'after_conversion';
  since: string;
  resolution?: UncertainOutcomeResolution & { resolvedAt: string };
}

/**
 * An operator's answer, after checking Partner Center: `converted` continues the upgrade as if Microsoft had reported
 * the transition completed (subscription changes, invoices, seats), with the new subscription's vendor id when
 * Microsoft created one; `not_converted` ends it failed with nothing changed and the locks released.
 */
export type UncertainOutcomeResolution =
  | { outcome: 'converted'; resolvedBy: string; toSubscriptionId?: string; operationId?: string; note?: string }
  | { outcome: 'not_converted'; resolvedBy: string; note?: string };

/** Refused (by its validator) unless the run waits in `needs_attention`; answers the state after the decision. */
export const resolveUncertainOutcomeUpdate = defineUpdate<UpgradeState, [UncertainOutcomeResolution]>('resolveUncertainOutcome');
