import type { Client, WorkflowHandle } from '@temporalio/client';
import {
  CAMPAIGN_WORKFLOW_TYPE,
  pauseCampaignUpdate,
  resumeCampaignUpdate,
  type CampaignActivities,
  type CampaignCounts,
  type CampaignRunStatus,
} from '../../workflows/campaign-messages';

/**
 * CampaignWorkflow's activities over in-memory items, for workflow tests and recordings: every item starts `running`
 * when started and is `completed` at the next refresh; `onStart` and `onStatus` see each start and status, `room`
 * answers the room requests (default: all that is asked).
 */
export function inMemoryCampaignActivities(
  itemIds: readonly string[],
  hooks: {
    onStart?: (itemId: string) => void;
    onStatus?: (status: CampaignRunStatus) => void;
    room?: (wanted: number) => Promise<{ granted: number; retryAfterMs: number }>;
  } = {},
): CampaignActivities {
  const outcomes = new Map<string, 'pending' | 'running' | 'completed'>(itemIds.map((id) => [id, 'pending']));
  const counts = (): CampaignCounts => {
    const of = (outcome: string) => [...outcomes.values()].filter((value) => value === outcome).length;
    return { total: outcomes.size, pending: of('pending'), running: of('running'), completed: of('completed'), failed: 0, skipped: 0 };
  };
  return {
    nextPendingCampaignItems: async () => [...outcomes].filter(([, outcome]) => outcome === 'pending').map(([id]) => id),
    takeCampaignStartSlots: async (wanted) => (hooks.room ? hooks.room(wanted) : { granted: wanted, retryAfterMs: 0 }),
    startCampaignItem: async (_campaignId, itemId) => {
      hooks.onStart?.(itemId);
      outcomes.set(itemId, 'running');
      return { outcome: 'running', upgradeId: `upg-${itemId}` };
    },
    refreshCampaignItems: async () => {
      for (const [id, outcome] of outcomes) if (outcome === 'running') outcomes.set(id, 'completed');
      return counts();
    },
    countCampaign: async () => counts(),
    recordCampaignStatus: async (_campaignId, status) => hooks.onStatus?.(status),
    notifyCampaignCompleted: async () => 0,
    markCampaignNotificationsUndeliverable: async () => undefined,
  };
}

/**
 * The pause race of CampaignWorkflow, played on stub activities over four in-memory items: the pause arrives while
 * the run is asking for room to start its first chunk (the stub holds that activity until the pause has been taken),
 * then the run is resumed. `events` says in which order the pause, the starts and the resume happened. Used by the
 * workflow test (test/workflow/campaign-workflow.test.ts) and to record the race's history
 * (scripts/record-campaign-histories.ts).
 */
export function pauseRaceStubs() {
  const events: string[] = [];
  let enterRoom!: () => void;
  const roomAsked = new Promise<void>((resolve) => (enterRoom = resolve));
  let grantRoom!: () => void;
  const roomGranted = new Promise<void>((resolve) => (grantRoom = resolve));
  let roomCalls = 0;
  const activities = inMemoryCampaignActivities(['item-1', 'item-2', 'item-3', 'item-4'], {
    onStart: (itemId) => events.push(`start ${itemId}`),
    room: async (wanted) => {
      roomCalls += 1;
      if (roomCalls === 1) {
        enterRoom();
        await roomGranted;
      }
      return { granted: wanted, retryAfterMs: 0 };
    },
  });
  return { activities, events, roomAsked, grantRoom };
}

/** The run has taken the room's answer: a workflow task completed after the first room activity did. */
async function roomAnswerTaken(handle: WorkflowHandle): Promise<void> {
  for (let tries = 0; tries < 200; tries += 1) {
    const events = (await handle.fetchHistory()).events ?? [];
    const roomId = events.find((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'takeCampaignStartSlots')?.eventId?.toString();
    const answered = events.findIndex((event) => roomId !== undefined && event.activityTaskCompletedEventAttributes?.scheduledEventId?.toString() === roomId);
    if (answered >= 0 && events.slice(answered).some((event) => event.workflowTaskCompletedEventAttributes)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the campaign never took the answer to its room request');
}

/** Plays the race on `taskQueue` (a worker with `pauseRaceStubs().activities` polls it); returns the run's handle once it completed. */
export async function playPauseRace(client: Client, taskQueue: string, stubs: ReturnType<typeof pauseRaceStubs>, workflowId: string): Promise<WorkflowHandle> {
  const handle = await client.workflow.start(CAMPAIGN_WORKFLOW_TYPE, {
    taskQueue,
    workflowId,
    args: [{ campaignId: workflowId.replace(/^campaign:/, ''), followIntervalMs: 300, startsInParallel: 2 }],
  });
  await stubs.roomAsked;
  await handle.executeUpdate(pauseCampaignUpdate);
  stubs.events.push('paused');
  stubs.grantRoom();
  await roomAnswerTaken(handle);
  // Time for anything the answer would have started to start.
  await new Promise((resolve) => setTimeout(resolve, 500));
  stubs.events.push('resumed');
  await handle.executeUpdate(resumeCampaignUpdate);
  await handle.result();
  return handle;
}
