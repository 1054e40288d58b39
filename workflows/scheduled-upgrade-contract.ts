import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { EligibilityReason } from '../src/domain/eligibility';
import type { UpgradeWorkflowInput } from './messages';

/**
 * The ScheduledUpgradeWorkflow's contract: its input, its messages and what it asks of its activities. Types and
 * constants only (the API, the CLI and the activities import them; workflow code never imports activity code).
 */
export const SCHEDULED_UPGRADE_WORKFLOW_TYPE = 'ScheduledUpgradeWorkflow';

/** The scheduled workflow's id: the upgrade's own id is left to the UpgradeWorkflow it starts on the day. */
export const scheduledWorkflowIdOf = (upgradeId: string): string => `${upgradeId}:scheduled`;

export interface ScheduledUpgradeWorkflowInput {
  upgradeId: string;
  accountId: string;
  /** The UTC calendar date (YYYY-MM-DD) the upgrade runs on: the timer ends at its 00:00 UTC. */
  dueDate: string;
  /** Passed on to the UpgradeWorkflow it starts: fixed per run, so replays see the same values. */
  seatReassignment: NonNullable<UpgradeWorkflowInput['seatReassignment']>;
  /**
   * An upgrade at renewal (Microsoft's scheduled change): written at Microsoft when scheduled, and on the due date (the
   * renewal day) the source renews into the target; no UpgradeWorkflow runs. Absent for an upgrade on a date.
   */
  atRenewal?: true;
}

/** Where the scheduled run stands: waiting for its day, handing over to the UpgradeWorkflow, or ended. */
export type ScheduledUpgradePhase = 'waiting' | 'starting' | 'started' | 'renewed' | 'rejected' | 'cancelled';

export interface ScheduledUpgradeState {
  upgradeId: string;
  dueDate: string;
  phase: ScheduledUpgradePhase;
  reasons?: EligibilityReason[];
}

export const getScheduledUpgradeStateQuery = defineQuery<ScheduledUpgradeState>('getScheduledUpgradeState');

export interface ScheduledUpgradeCancellation {
  cancelledBy: string;
}

/**
 * Cancels a scheduled upgrade before its day. An update (not a signal) so the caller learns at once whether it was
 * cancelled: refused once the day has come and the upgrade is being started. Answered after the record says
 * `cancelled` and the source's schedule slot is free.
 */
export const cancelScheduledUpgradeUpdate = defineUpdate<ScheduledUpgradeState, [ScheduledUpgradeCancellation]>('cancelScheduledUpgrade');

/**
 * An immediate upgrade of the source replaced this upgrade at renewal: Microsoft deleted its scheduled change and the
 * record already says `rejected` (docs/scheduled-upgrades.md, "An immediate upgrade and scheduled changes"). Wakes the
 * waiting run so the Temporal UI stops listing it as scheduled; sent once the record is written, so a lost signal only
 * leaves the run to end the same way on the renewal day.
 */
export const scheduledUpgradeReplacedSignal = defineSignal<[{ byUpgradeId: string }]>('scheduledUpgradeReplaced');

/** What the UpgradeWorkflow is started with on the day, and how the Temporal UI shows it (as the API starts it). */
export interface ScheduledUpgradeStart {
  input: UpgradeWorkflowInput;
  staticSummary: string;
  staticDetails: string;
  /** Search attributes by name (Keyword values), as `startUpgradeWorkflow` sets them. */
  searchAttributes: Record<string, string>;
}

export type ScheduledUpgradeBeginning = { ok: true; start: ScheduledUpgradeStart } | { ok: false; reasons: EligibilityReason[] };

export interface ScheduledUpgradeActivities {
  /**
   * On the day: re-checks eligibility (ours and Microsoft's) and re-plans on `runAt` through the start use case,
   * locks the subscriptions, records the upgrade as `accepted` and frees the source's schedule slot. Or the reasons
   * it is no longer eligible. Idempotent: a retried attempt finds its own locks and record.
   */
  beginScheduledUpgrade(input: ScheduledUpgradeWorkflowInput, runAt: string): Promise<ScheduledUpgradeBeginning>;
  /** Ends a scheduled upgrade that will not run (`rejected` with its reasons, or `cancelled`) and frees the slot. Idempotent. */
  endScheduledUpgrade(upgradeId: string, outcome: 'rejected' | 'cancelled', detail: { reasons?: EligibilityReason[]; cancelledBy?: string }): Promise<void>;
  /**
   * The `upgrade_failed` webhook of a scheduled upgrade rejected on its day; at renewal also `auto_renew_enabled` and
   * `upgrade_completed` (the UpgradeWorkflow's activity).
   */
  sendUpgradeNotification(upgradeId: string, event: 'upgrade_failed' | 'upgrade_completed' | 'auto_renew_enabled'): Promise<'delivered' | 'no_webhook'>;
  /**
   * At renewal, when scheduled: writes the upgrade as the source's scheduled change at Microsoft (auto-renew on) and
   * marks the local source; or Microsoft's reasons to refuse it. Idempotent.
   */
  writeScheduledChange(upgradeId: string): Promise<{ ok: true; autoRenewTurnedOn: boolean } | { ok: false; reasons: EligibilityReason[] }>;
  /** At renewal, on cancel: removes the scheduled change at Microsoft and the local mark. Idempotent. */
  removeScheduledChange(upgradeId: string): Promise<void>;
  /**
   * On the renewal day: renews the local source into the target when Microsoft's scheduled change stands, recording the
   * upgrade `completed`; or the reason it does not (removed mid-term). Idempotent.
   */
  renewIntoTarget(upgradeId: string, runAt: string): Promise<{ ok: true } | { ok: false; reasons: EligibilityReason[] }>;
}
