import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { quietReplayRuntime, replayHistories } from '../../src/cli/commands/replay';
import type { History } from '../../src/cli/commands/history';
import { WORKFLOWS_PATH } from '../../src/worker-factory';

/**
 * Every released shape of CampaignWorkflow, recorded from a real run by scripts/record-campaign-histories.ts (a
 * throttle wait, a skipped item, a pause and a resume, a continue-as-new, a pause taken while the run asked for room), must replay against the current workflow
 * code: a change to its command sequence without `patched()` fails here before it can strand running campaigns.
 */
const HISTORIES_DIR = join(__dirname, 'histories', 'campaign');
const recorded = readdirSync(HISTORIES_DIR)
  .filter((file) => file.endsWith('.json'))
  .sort()
  .map((file) => {
    const history: History = historyFromJSON(JSON.parse(readFileSync(join(HISTORIES_DIR, file), 'utf8')));
    const started = history.events![0]!.workflowExecutionStartedEventAttributes!;
    return { name: file.replace(/\.json$/, ''), workflowId: `${file}:${started.originalExecutionRunId ?? ''}`, history };
  });

const eventTypes = (history: History) => history.events!.map((event) => String(event.eventType));

beforeAll(() => quietReplayRuntime());

test('the first run and a carried-over run are recorded, and the first one continued as new', () => {
  expect(recorded.map((entry) => entry.name)).toEqual(expect.arrayContaining(['campaign-first-run', 'campaign-carried-run']));
  const first = recorded.find((entry) => entry.name === 'campaign-first-run')!.history;
  expect(eventTypes(first).at(-1)).toMatch(/CONTINUED_AS_NEW|^\d+$/);
  expect(first.events!.at(-1)!.workflowExecutionContinuedAsNewEventAttributes).toBeTruthy();
  const carried = recorded.find((entry) => entry.name === 'campaign-carried-run')!.history;
  expect(carried.events!.at(-1)!.workflowExecutionCompletedEventAttributes).toBeTruthy();
  const scheduled = (history: History) => history.events!.flatMap((event) => event.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
  expect(scheduled(first)).toEqual(expect.arrayContaining(['takeCampaignStartSlots', 'startCampaignItem']));
  expect(scheduled(carried)).toEqual(expect.arrayContaining(['refreshCampaignItems', 'recordCampaignStatus', 'notifyCampaignCompleted']));
  // The pause and the resume were updates the run took.
  const updates = [...first.events!, ...carried.events!].flatMap(
    (event) => event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name ?? [],
  );
  expect(updates).toEqual(expect.arrayContaining(['pauseCampaign', 'resumeCampaign']));
});

test('the scheduled shape is recorded: a campaign waiting for its day on a timer, cancelled, starting nothing', () => {
  const scheduled = recorded.find((entry) => entry.name === 'campaign-scheduled-cancelled')!.history;
  const events = scheduled.events!;
  expect(events.some((event) => event.timerStartedEventAttributes)).toBe(true);
  expect(events.some((event) => event.timerCanceledEventAttributes)).toBe(true);
  expect(events.at(-1)!.workflowExecutionCompletedEventAttributes).toBeTruthy();
  expect(scheduled.events!.some((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'startCampaignItem')).toBe(false);
});

test('the pause race is recorded: a pause taken while the run asked for room, the patch marker, no start before the resume', () => {
  const events = recorded.find((entry) => entry.name === 'campaign-pause-while-asking-room')!.history.events!;
  const index = (found: (event: (typeof events)[number]) => boolean) => events.findIndex(found);
  const updateNamed = (name: string) => index((event) => event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === name);
  const roomAsked = index((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'takeCampaignStartSlots');
  const roomAnswered = index((event) => event.activityTaskCompletedEventAttributes?.scheduledEventId?.toString() === events[roomAsked]!.eventId!.toString());
  const firstStart = index((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'startCampaignItem');
  expect(updateNamed('pauseCampaign')).toBeGreaterThan(roomAsked);
  expect(updateNamed('pauseCampaign')).toBeLessThan(roomAnswered);
  expect(firstStart).toBeGreaterThan(updateNamed('resumeCampaign'));
  const patchIds = events.flatMap((event) =>
    (event.markerRecordedEventAttributes?.details?.['patch-data']?.payloads ?? []).map((payload) => JSON.parse(Buffer.from(payload.data!).toString('utf8')).id),
  );
  expect(patchIds).toContain('campaign-pause-rechecked-before-starts');
});

test('every recorded campaign history replays deterministically against the current workflow code', async () => {
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('ERROR') });
  const outcomes = await replayHistories(recorded, { workflowBundle });
  expect(outcomes.filter((outcome) => !outcome.ok)).toEqual([]);
  expect(outcomes).toHaveLength(recorded.length);
}, 60_000);
