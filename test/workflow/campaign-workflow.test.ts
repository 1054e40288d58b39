import { Context } from '@temporalio/activity';
import type { WorkflowHandle } from '@temporalio/client';
import {
  CAMPAIGN_WORKFLOW_TYPE,
  cancelCampaignUpdate,
  getCampaignProgressQuery,
  type CampaignCounts,
  type CampaignRunStatus,
} from '../../workflows/campaign-messages';
import { inMemoryCampaignActivities, pauseRaceStubs, playPauseRace } from '../../scripts/support/campaign-pause-race';
import { useWorkflowTestBed } from './support/workflow-env';

/**
 * A scheduled CampaignWorkflow on the time-skipping test server (docs/campaigns.md, "Scheduled campaigns"): nothing
 * starts before the campaign's day, then its items start and it completes; cancelled while it waits, it starts
 * nothing. Its activities are stubs over three in-memory items; the days pass in milliseconds.
 */
const bed = useWorkflowTestBed();
jest.setTimeout(30_000);

/** Three pending items; every start and status is recorded with the (skipped) time it was asked at. */
function campaignStubs() {
  const startsAtMs: number[] = [];
  const statuses: CampaignRunStatus[] = [];
  const activities = inMemoryCampaignActivities(['item-1', 'item-2', 'item-3'], {
    onStart: () => startsAtMs.push(Context.current().info.currentAttemptScheduledTimestampMs),
    onStatus: (status) => statuses.push(status),
  });
  return { activities, startsAtMs, statuses };
}

/** A campaign whose day is three days ahead (on the test server's clock), once its run reports `scheduled`. */
async function startScheduledCampaign(taskQueue: string): Promise<{ handle: WorkflowHandle; startAt: Date }> {
  const startAt = new Date((await bed().env.currentTimeMs()) + 3 * 86_400_000);
  const handle = await bed().env.client.workflow.start(CAMPAIGN_WORKFLOW_TYPE, {
    taskQueue,
    workflowId: `campaign:${taskQueue}`,
    args: [{ campaignId: `cmp-${taskQueue}`, startAt: startAt.toISOString(), followIntervalMs: 1_000 }],
  });
  for (let tries = 0; tries < 100; tries += 1) {
    if ((await handle.query(getCampaignProgressQuery).catch(() => undefined))?.status === 'scheduled') return { handle, startAt };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the campaign never reported scheduled');
}

test('a scheduled campaign starts nothing before its day, then starts its items and completes', async () => {
  const stubs = campaignStubs();
  await bed().withWorker(stubs.activities, async (taskQueue) => {
    const { handle, startAt } = await startScheduledCampaign(taskQueue);
    expect(stubs.startsAtMs).toEqual([]);
    const counts = (await handle.result()) as CampaignCounts;
    expect(counts).toMatchObject({ total: 3, completed: 3, pending: 0 });
    expect(stubs.startsAtMs).toHaveLength(3);
    expect(Math.min(...stubs.startsAtMs)).toBeGreaterThanOrEqual(startAt.getTime());
    expect(stubs.statuses).toEqual(['scheduled', 'running', 'completed']);
  });
});

test('cancelled while it waits for its day, a scheduled campaign starts nothing', async () => {
  const stubs = campaignStubs();
  await bed().withWorker(stubs.activities, async (taskQueue) => {
    const { handle } = await startScheduledCampaign(taskQueue);
    expect((await handle.executeUpdate(cancelCampaignUpdate)).status).toBe('cancelled');
    expect(await handle.result()).toMatchObject({ pending: 3, running: 0 });
    expect(stubs.startsAtMs).toEqual([]);
    expect(stubs.statuses).toEqual(['scheduled', 'cancelled']);
  });
});

test('a pause taken while the run asks for room to start items starts none of them; after the resume they all start', async () => {
  const stubs = pauseRaceStubs();
  await bed().withWorker(stubs.activities, async (taskQueue) => {
    const handle = await playPauseRace(bed().env.client, taskQueue, stubs, `campaign:${taskQueue}`);
    expect(stubs.events.slice(0, 2)).toEqual(['paused', 'resumed']);
    expect(stubs.events.slice(2).sort()).toEqual(['start item-1', 'start item-2', 'start item-3', 'start item-4']);
    expect(await handle.result()).toMatchObject({ total: 4, completed: 4, pending: 0 });
  });
});
