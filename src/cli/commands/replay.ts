import { bundleWorkflowCode, DefaultLogger, ReplayError, Runtime, Worker, type ReplayWorkerOptions } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { WORKFLOWS_PATH } from '../../worker-factory';
import type { History } from './history';

/**
 * `upgrades replay`: re-executes a recorded history against workflow code (by default the current `workflows/`) and
 * says in plain words whether the code still produces the same commands, and if not, which one differs and where.
 * This is what Temporal does on every worker restart, so a failure here is a failure in production after a deploy.
 */
export interface DeterminismProblem {
  /** The history event at which code and history disagree. */
  eventId?: number;
  /** What the history recorded there, e.g. `ActivityTaskScheduled (activity recordUpgradeAccepted)`. */
  recorded?: string;
  /** What the code did instead, e.g. `started a timer`. */
  codeDid?: string;
  /** One or two sentences for the operator. */
  explanation: string;
  /** The SDK's own message, for bug reports. */
  raw: string;
}

export type ReplayOutcome =
  { ok: true; workflowId: string; eventCount: number } | { ok: false; workflowId: string; eventCount: number; errorName: string; problem: DeterminismProblem };

export interface ReplayCodeOptions {
  /** A prebuilt bundle (tests bundle once per file); otherwise `workflowsPath` is bundled. */
  workflowBundle?: ReplayWorkerOptions['workflowBundle'];
  /** Defaults to the project's `workflows/` (the code the worker runs). */
  workflowsPath?: string;
}

/**
 * The CLI prints its own explanation; the SDK's own logging (worker state changes, core's "Failing workflow task")
 * would bury it. Installed once per process, before the first replay worker; a no-op when a runtime already exists
 * (tests, or a host process that configured its own).
 */
export function quietReplayRuntime(): void {
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } }, shutdownSignals: [] });
  } catch {
    // A runtime is already installed: keep its settings.
  }
}

/** The workflow code to replay against, as worker options: a bundle, or a path bundled quietly. */
async function replayWorkerOptions(code: ReplayCodeOptions = {}): Promise<ReplayWorkerOptions> {
  const logger = new DefaultLogger('ERROR');
  if (code.workflowBundle) return { workflowBundle: code.workflowBundle };
  return { workflowBundle: await bundleWorkflowCode({ workflowsPath: code.workflowsPath ?? WORKFLOWS_PATH, logger }) };
}

export async function replayHistory(history: History, workflowId: string, code: ReplayCodeOptions = {}): Promise<ReplayOutcome> {
  const options = await replayWorkerOptions(code);
  const eventCount = history.events?.length ?? 0;
  try {
    await Worker.runReplayHistory(options, history, workflowId);
    return { ok: true, workflowId, eventCount };
  } catch (error) {
    if (error instanceof DeterminismViolationError || error instanceof ReplayError) {
      return { ok: false, workflowId, eventCount, errorName: error.name, problem: explainReplayFailure(error.message, history) };
    }
    throw error;
  }
}

/** Replays many histories with one replay worker (what the test suite does). */
export async function replayHistories(histories: Array<{ workflowId: string; history: History }>, code: ReplayCodeOptions = {}): Promise<ReplayOutcome[]> {
  const options = await replayWorkerOptions(code);
  const byId = new Map(histories.map((entry) => [entry.workflowId, entry.history]));
  const outcomes: ReplayOutcome[] = [];
  for await (const result of Worker.runReplayHistories(options, histories)) {
    const history = byId.get(result.workflowId)!;
    const eventCount = history.events?.length ?? 0;
    outcomes.push(
      result.error
        ? { ok: false, workflowId: result.workflowId, eventCount, errorName: result.error.name, problem: explainReplayFailure(result.error.message, history) }
        : { ok: true, workflowId: result.workflowId, eventCount },
    );
  }
  return outcomes;
}

/** sdk-core names a command by the state machine that produced it. */
const MACHINE_ACTIONS: Record<string, string> = {
  Activity: 'scheduled an activity',
  'Local activity': 'ran a local activity',
  LocalActivity: 'ran a local activity',
  Timer: 'started a timer (sleep, or condition with a timeout)',
  'Child workflow': 'started a child workflow',
  ChildWorkflow: 'started a child workflow',
  Signal: 'signalled another workflow',
  'Cancel external': 'cancelled another workflow',
  'Upsert search attributes': 'upserted search attributes',
  'Modify workflow properties': 'changed workflow properties (memo)',
  Patch: 'recorded a patch marker (patched())',
  'Complete workflow': 'completed the workflow',
  'Fail workflow': 'failed the workflow',
  'Continue as new workflow': 'continued as new',
  'Cancel workflow': 'cancelled the workflow',
  Update: 'accepted or completed an update',
  Nexus: 'started a Nexus operation',
};

/** Describes history event N the way an operator recognises it: its type and, for activities, the activity name. */
function describeHistoryEvent(history: History, eventId: number): string | undefined {
  const event = history.events?.find((candidate) => Number(candidate.eventId) === eventId);
  if (!event) return undefined;
  const type = eventTypeName(event.eventType);
  const activity = event.activityTaskScheduledEventAttributes;
  if (activity) {
    const summary = payloadText(event.userMetadata?.summary);
    return `${type} (activity ${activity.activityType?.name ?? '?'}${summary ? `: "${summary}"` : ''})`;
  }
  const timer = event.timerStartedEventAttributes;
  if (timer) return `${type} (timer ${timer.timerId})`;
  const marker = event.markerRecordedEventAttributes;
  if (marker) return `${type} (marker ${marker.markerName})`;
  const upsert = event.upsertWorkflowSearchAttributesEventAttributes;
  if (upsert) return `${type} (${Object.keys(upsert.searchAttributes?.indexedFields ?? {}).join(', ')})`;
  return type;
}

function eventTypeName(eventType: unknown): string {
  const name = typeof eventType === 'string' ? eventType : String(eventType ?? '');
  if (/^\d+$/.test(name)) {
    // Numeric enum from a binary history: resolve the name through the proto enum.

    const { temporal } = require('@temporalio/proto') as typeof import('@temporalio/proto');
    return pascal(temporal.api.enums.v1.EventType[Number(name)] ?? name);
  }
  return pascal(name);
}

const pascal = (name: string) =>
  name
    .replace(/^EVENT_TYPE_/, '')
    .toLowerCase()
    .replace(/(^|_)([a-z])/g, (_, __, letter: string) => letter.toUpperCase());

function payloadText(payload: { data?: Uint8Array | null } | null | undefined): string | undefined {
  if (!payload?.data) return undefined;
  try {
    const value = JSON.parse(Buffer.from(payload.data).toString('utf8'));
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Turns sdk-core's nondeterminism message into a sentence: the SDK reports e.g.
 * `[TMPRL1100] Nondeterminism error: Timer machine does not handle this event: HistoryEvent(id: 5, ActivityTaskScheduled)`
 * or `No command scheduled for event HistoryEvent(id: 12, TimerStarted)` or
 * `Activity type of scheduled event 'a' does not match activity type of activity command 'b'`.
 */
function explainReplayFailure(message: string, history: History): DeterminismProblem {
  const inner = /Nondeterminism error: ([^"]*)/.exec(message)?.[1]?.trim() ?? message;
  const eventMatch = /HistoryEvent\(id: (\d+), ([A-Za-z]+)/.exec(inner);
  const eventId = eventMatch ? Number(eventMatch[1]) : undefined;
  const recorded = eventId !== undefined ? (describeHistoryEvent(history, eventId) ?? eventMatch?.[2]) : undefined;
  const at = eventId !== undefined ? `at history event ${eventId}` : 'during replay';

  const machine = /^(.+?) machine does not handle this event/.exec(inner);
  if (machine && recorded) {
    const did = MACHINE_ACTIONS[machine[1]!] ?? `issued a ${machine[1]} command`;
    return {
      eventId,
      recorded,
      codeDid: did,
      explanation: `Nondeterminism ${at}: the history recorded ${recorded}, but the workflow code ${did} there instead. A command was added, removed or reordered before this point without patched().`,
      raw: message,
    };
  }
  if (/No command scheduled for event/.test(inner) && recorded) {
    return {
      eventId,
      recorded,
      codeDid: 'issued no command',
      explanation: `Nondeterminism ${at}: the history recorded ${recorded}, but the workflow code issued no matching command (a step was removed or skipped) without patched().`,
      raw: message,
    };
  }
  const mismatch =
    /(Activity type|Activity id|Timer id|Workflow type|[A-Za-z ]+) of (?:scheduled |started )?event '([^']*)' does not match [a-z ]+ of [a-z ]+ command '([^']*)'/i.exec(
      inner,
    );
  if (mismatch) {
    const what = mismatch[1]!.toLowerCase();
    return {
      ...(eventId !== undefined ? { eventId } : {}),
      recorded: `${what} ${mismatch[2]}`,
      codeDid: `used ${what} ${mismatch[3]}`,
      explanation: `Nondeterminism ${at}: the history recorded ${what} '${mismatch[2]}', but the workflow code now uses '${mismatch[3]}' at that point. Renaming or swapping a step needs patched().`,
      raw: message,
    };
  }
  return {
    ...(eventId !== undefined ? { eventId } : {}),
    ...(recorded ? { recorded } : {}),
    explanation: `Replay failed ${at}: ${inner}`,
    raw: message,
  };
}

export function formatReplayOutcome(outcome: ReplayOutcome, source: string, code = 'the current workflow code'): string {
  if (outcome.ok) {
    return `OK: ${source} (${outcome.eventCount} events) replays deterministically against ${code}.`;
  }
  return [
    `NONDETERMINISTIC: ${source} (${outcome.eventCount} events) does not replay against ${code} (${outcome.errorName}).`,
    `  ${outcome.problem.explanation}`,
    ...(outcome.problem.recorded ? [`  History has: ${outcome.problem.recorded}`] : []),
    ...(outcome.problem.codeDid ? [`  Code did:    ${outcome.problem.codeDid}`] : []),
    `  SDK message: ${outcome.problem.raw}`,
  ].join('\n');
}
