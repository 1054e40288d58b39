import type { Client } from '@temporalio/client';
import { systemClock, type Clock } from '../clock';
import type { Config, StartCrashPoint } from '../config';
import type { Models } from '../db/models';
import { loadCatalog } from '../db/mappers';
import { policyByName, type Catalog, type EligibilityPolicy } from '../domain';
import type { MicrosoftEligibilitySource } from '../partner-center/microsoft-eligibility';
import type { UpgradeWorkflowInput } from '../../workflows/messages';

/**
 * What the upgrade use cases need, passed in: the API, the CLI and (later) a campaign each build one from their own
 * configuration and connections.
 */
export interface UpgradeUseCaseDeps {
  models: Models;
  temporalClient: Client;
  taskQueue: string;
  /** The catalog as this process reads it (the API's cached source, or a fresh read). */
  catalog: () => Promise<Catalog>;
  policy: EligibilityPolicy;
  /** Fixed per run, so replays see the same values. */
  seatReassignment: NonNullable<UpgradeWorkflowInput['seatReassignment']>;
  /** "Now" for eligibility and quotes; tests pin it. */
  clock: Clock;
  /** Microsoft's own verdict (transition eligibilities); absent when no Partner Center client is configured. */
  microsoftEligibility?: MicrosoftEligibilitySource;
  /** How long a read waits for the live workflow state before falling back to the record. */
  queryTimeoutMs: number;
  /** How long the seat-reassignment confirmation waits for the workflow's answer. */
  updateTimeoutMs: number;
  /**
   * Fault injection for the fault suite (`FAULT_API_CRASH_AT`, never in production): called at each point of the start
   * sequence; the configured point kills the process there, as a crash would.
   */
  crashAt?: (point: StartCrashPoint) => void;
}

/** The hook that SIGKILLs this process when the start reaches `point` (nothing runs after it: no cleanup, no answer). */
export function crashProcessAt(point: StartCrashPoint): (reached: StartCrashPoint) => void {
  return (reached) => {
    if (reached === point) process.kill(process.pid, 'SIGKILL');
  };
}

/** Who asks: the key that acts (audit) and the accounts it may act on. */
export interface UpgradeActor {
  keyId: string;
  mayActOnAccount(accountId: string): boolean;
  /** Set when a campaign starts or schedules the upgrade on the key's behalf: recorded on the upgrade. */
  campaignId?: string;
}

/** A place to report what the caller can't be told (a Temporal error behind a 503). */
export interface UseCaseLog {
  error(fields: Record<string, unknown>, message: string): void;
}

/** The configuration the use cases read. */
export type UpgradeUseCaseConfig = Pick<Config, 'TEMPORAL_TASK_QUEUE' | 'ELIGIBILITY_POLICY' | 'SEAT_REMINDER_INTERVAL_HOURS' | 'SEAT_ESCALATION_DAYS'> &
  Partial<Pick<Config, 'FAULT_API_CRASH_AT'>>;

/** The use cases' dependencies from a process's configuration and connections; the rest defaults to a fresh read and the real clock. */
export function createUpgradeUseCaseDeps(parts: {
  models: Models;
  temporalClient: Client;
  config: UpgradeUseCaseConfig;
  catalog?: () => Promise<Catalog>;
  clock?: Clock;
  microsoftEligibility?: MicrosoftEligibilitySource;
  queryTimeoutMs?: number;
  updateTimeoutMs?: number;
}): UpgradeUseCaseDeps {
  const { models, config } = parts;
  return {
    models,
    temporalClient: parts.temporalClient,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    catalog: parts.catalog ?? (() => loadCatalog(models)),
    policy: policyByName(config.ELIGIBILITY_POLICY),
    seatReassignment: {
      reminderIntervalMs: config.SEAT_REMINDER_INTERVAL_HOURS * 3_600_000,
      escalateAfterMs: config.SEAT_ESCALATION_DAYS * 86_400_000,
    },
    clock: parts.clock ?? systemClock,
    ...(parts.microsoftEligibility ? { microsoftEligibility: parts.microsoftEligibility } : {}),
    queryTimeoutMs: parts.queryTimeoutMs ?? 1_000,
    updateTimeoutMs: parts.updateTimeoutMs ?? 10_000,
    ...(config.FAULT_API_CRASH_AT ? { crashAt: crashProcessAt(config.FAULT_API_CRASH_AT) } : {}),
  };
}
