import type { EligibilityReason } from '../src/domain/eligibility';
import type { DestinationType, UpgradeKind } from '../src/domain/upgrade-shape';
import type { SeatReassignmentMode, SeatReassignmentState, UpgradeStatus, UpgradeStepRecord, UpgradeWorkflowInput } from './messages';

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
  outcome?: VendorOutcome;
}

export interface AutomaticReassignmentResult {
  movedUsers: number;
  by: 'vendor' | 'license_api';
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
  | 'upgrade_failed';

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
}

export interface UpgradeActivities {
  /** Inserts the upgrade record with its `accepted` step for a run the API did not record (CLI, tests). */
  recordUpgradeAccepted(input: UpgradeWorkflowInput): Promise<void>;
  /** The one writer of the record's status and steps while a run is under way (a local activity). */
  recordUpgradeProgress(upgradeId: string, progress: UpgradeRecordProgress): Promise<void>;
  validateAndLockUpgrade(input: UpgradeWorkflowInput): Promise<ValidationOutcome>;
  requestVendorTransition(upgradeId: string, runAttempt: number): Promise<VendorRecord>;
  /** `requested`: runs recorded before the whole record was returned pass `{ requestId, attempt }` only. */
  awaitVendorTransition(upgradeId: string, requested?: Partial<VendorRecord>): Promise<VendorOutcome>;
  applySubscriptionChanges(upgradeId: string, vendorOutcome: VendorOutcome): Promise<{ destinationSubscriptionId: string }>;
  issueInvoices(upgradeId: string, destinationSubscriptionId: string): Promise<IssuedInvoices>;
  /** `vendorLicenseReassignment`: runs recorded before it was passed pass none. */
  reassignSeatsAutomatically(upgradeId: string, vendorLicenseReassignment?: VendorLicenseReassignment): Promise<AutomaticReassignmentResult>;
  /** Called only by runs started before PATCHES.WORKFLOW_WRITES_THE_RECORD; later runs write through `recordUpgradeProgress`. */
  recordSeatReassignmentState(upgradeId: string, state: SeatReassignmentState, awaitingConfirmation: boolean): Promise<void>;
  sendUpgradeNotification(upgradeId: string, event: NotificationEvent, sequence?: number): Promise<'delivered' | 'no_webhook'>;
  markNotificationUndeliverable(upgradeId: string, event: NotificationEvent, sequence?: number): Promise<void>;
  /** Releases the locks, then records the ending. `progress`: the workflow's final state (runs before the patch pass none). */
  failUpgrade(upgradeId: string, outcome: 'failed' | 'rejected', error: UpgradeError, progress?: UpgradeRecordProgress): Promise<void>;
  /** `held`: every subscription the run locked (runs recorded before it pass none). */
  completeUpgrade(upgradeId: string, held?: readonly string[], progress?: UpgradeRecordProgress): Promise<void>;
}
