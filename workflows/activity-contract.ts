import type { EligibilityReason } from '../src/domain/eligibility';
import type { DestinationType, UpgradeKind } from '../src/domain/upgrade-shape';
import type { NeedsAttention, SeatReassignmentMode, SeatReassignmentState, UpgradeStatus, UpgradeStepRecord, UpgradeWorkflowInput } from './messages';

/**
 * What UpgradeWorkflow asks of its activities and what they answer: the interface its proxies are typed with, and the
 * one `createUpgradeActivities` (activities/index.ts) is checked against. Types and constants only, so workflow code
 * never imports activity code.
 */

/** What the workflow needs to steer; the full plan stays in the database (keeps the history small). */
export interface ValidatedUpgrade {
  ok: true;
  kind: UpgradeKind;
  destinationType: DestinationType;
  seatReassignment: { mode: SeatReassignmentMode; reason: string };
  summary: string;
  upgradeDate: string;
}
export type ValidationOutcome = ValidatedUpgrade | { ok: false; reasons: EligibilityReason[] };

/** How far Microsoft got with moving the users' licences itself (`not_requested` for `transition_only`). */
export type VendorLicenseReassignment = 'pending' | 'completed' | 'failed' | 'not_requested';

export interface VendorOutcome {
  conversion: 'completed' | 'failed';
  licenseReassignment: VendorLicenseReassignment;
  errors: Array<{ code: string; description: string }>;
  /** Vendor id of the subscription that received the seats (new one for partial → new). */
  toSubscriptionId?: string;
  completedAt: string;
}

/**
 * What we keep of the vendor side in the upgrade record (`upgrade.vendor`). The workflow only hands the transition
 * back to `awaitVendorTransition`, so it sees it as opaque; the activities know its shape.
 */
export interface VendorRecord<Transition = unknown> {
  attempt: number;
  requestId: string;
  customerTenantId: string;
  vendorSubscriptionId: string;
  transition: Transition;
  requestedAt: string;
  /** Microsoft's operation id, from the first answer that carried one. */
  operationId?: string;
  /** `listing`: the POST's answer was lost and the transition was adopted from Microsoft's list (records before: none). */
  settledBy?: 'answer' | 'listing';
  outcome?: VendorOutcome;
}

export interface AutomaticReassignmentResult {
  /** By us: the length of `movedUserIds`; by Microsoft: the seats it transferred. */
  movedUsers: number;
  by: 'vendor' | 'license_api';
  /** Users whose licences this upgrade moved through Microsoft Graph. */
  movedUserIds?: string[];
  /** Holders of the source licence through a group, left alone (the group's licence is changed on the group). */
  groupInheritedUserIds?: string[];
}

export interface IssuedInvoices {
  creditInvoiceId: string;
  debitInvoiceId: string;
}

/** The events an account's webhook receives (docs/http-api.md); the seat-reassignment ones are the distributors' wording. */
export type NotificationEvent =
  | 'seats_reassigned_automatically'
  | 'manual_seat_reassignment_required'
  | 'manual_seat_reassignment_reminder'
  | 'manual_seat_reassignment_escalated'
  | 'upgrade_completed'
  | 'upgrade_failed'
  /** An upgrade at renewal turned the source's auto-renew on (at Microsoft and here): a scheduled change needs it. */
  | 'auto_renew_enabled'
  /** Whether Microsoft converted is unknown: an operator decides (docs/runbook.md); the locks are kept meanwhile. */
  | 'upgrade_needs_attention';

export interface UpgradeError {
  code: string;
  message: string;
  details?: unknown;
}

/**
 * The workflow's state as the upgrade record keeps it: written by the workflow at each change of status (the status,
 * the steps completed since the last write, the seat reassignment state), and by the ending activities at the end.
 */
export interface UpgradeRecordProgress {
  status: UpgradeStatus;
  steps: UpgradeStepRecord[];
  seatReassignment?: SeatReassignmentState;
  /** Why the run waits for an operator, and the decision once taken (runs before PATCHES.NEEDS_ATTENTION: none). */
  attention?: NeedsAttention;
}

export interface UpgradeActivities {
  /** Inserts the upgrade record with its `accepted` step for a run the API did not record (CLI, tests). */
  recordUpgradeAccepted(input: UpgradeWorkflowInput): Promise<void>;
  /** The one writer of the record's status and steps while a run is under way (a local activity). */
  recordUpgradeProgress(upgradeId: string, progress: UpgradeRecordProgress): Promise<void>;
  validateAndLockUpgrade(input: UpgradeWorkflowInput): Promise<ValidationOutcome>;
  requestVendorTransition(upgradeId: string, runAttempt: number): Promise<VendorRecord>;
  /** After a cancellation during the request: true when nothing was or will be sent (PATCHES.VENDOR_REQUEST_WITHDRAWN). */
  withdrawVendorRequest(upgradeId: string, runAttempt: number): Promise<boolean>;
  /** `requested`: runs recorded before the whole record was returned pass `{ requestId, attempt }` only. */
  awaitVendorTransition(upgradeId: string, requested?: Partial<VendorRecord>): Promise<VendorOutcome>;
  /** `lockClaim`: the run's claim token, for the lock of a subscription it creates (runs started before claims pass none). */
  applySubscriptionChanges(upgradeId: string, vendorOutcome: VendorOutcome, lockClaim?: string): Promise<{ destinationSubscriptionId: string }>;
  /** Called only by runs started before PATCHES.LEAN_SHAPE; later runs apply and invoice in one activity. */
  issueInvoices(upgradeId: string, destinationSubscriptionId: string): Promise<IssuedInvoices>;
  /** `applySubscriptionChanges` then `issueInvoices`, with one read of the plan and one write of the record. */
  applySubscriptionChangesAndIssueInvoices(
    upgradeId: string,
    vendorOutcome: VendorOutcome,
    lockClaim?: string,
  ): Promise<{ destinationSubscriptionId: string } & IssuedInvoices>;
  /** `vendorLicenseReassignment`: runs recorded before it was passed pass none. */
  reassignSeatsAutomatically(upgradeId: string, vendorLicenseReassignment?: VendorLicenseReassignment): Promise<AutomaticReassignmentResult>;
  /** Called only by runs started before PATCHES.WORKFLOW_WRITES_THE_RECORD; later runs write through `recordUpgradeProgress`. */
  recordSeatReassignmentState(upgradeId: string, state: SeatReassignmentState, awaitingConfirmation: boolean): Promise<void>;
  sendUpgradeNotification(upgradeId: string, event: NotificationEvent, sequence?: number): Promise<'delivered' | 'no_webhook'>;
  markNotificationUndeliverable(upgradeId: string, event: NotificationEvent, sequence?: number): Promise<void>;
  /** Releases the locks, then records the ending. `progress`: the workflow's final state (runs before the patch pass none). */
  /** `lockClaim`: the run's claim token (runs started before claims pass none). */
  failUpgrade(
    upgradeId: string,
    outcome: 'failed' | 'rejected',
    error: UpgradeError,
    progress?: UpgradeRecordProgress | null,
    lockClaim?: string,
  ): Promise<void>;
  /** `held`: every subscription the run locked (runs recorded before it pass none). */
  completeUpgrade(upgradeId: string, held?: readonly string[], progress?: UpgradeRecordProgress | null, lockClaim?: string): Promise<void>;
}
