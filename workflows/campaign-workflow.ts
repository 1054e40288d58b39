import {
  allHandlersFinished,
  condition,
  continueAsNew,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { PATCHES } from './patches';
import {
  CAMPAIGN_ITEMS_DONE,
  CAMPAIGN_ITEMS_FAILED,
  CAMPAIGN_ITEMS_TOTAL,
  CAMPAIGN_STATUS,
  cancelCampaignUpdate,
  getCampaignProgressQuery,
  pauseCampaignUpdate,
  resumeCampaignUpdate,
  type CampaignActivities,
  type CampaignCounts,
  type CampaignProgress,
  type CampaignRunStatus,
  type CampaignWorkflowInput,
} from './campaign-messages';

/** Database bookkeeping and starts: retried until they succeed (a start is idempotent by its upgrade id). */
const campaign = proxyActivities<CampaignActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes: ['CampaignNotFound'] },
});

/** Webhooks: a few tries, then the outbox entries are left to the redelivery schedule, so the run can end. */
const notification = proxyActivities<CampaignActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 6 },
});

/** Items read per batch of starts. */
const BATCH = 100;
/**
 * Events after which the run continues as new (an item costs about 6 events: the room, its start, their results).
 * Well under Temporal's 10 240-event warning, so a campaign of any size keeps a short history.
 */
const DEFAULT_EVENTS_BEFORE_CONTINUE = 2_000;

/**
 * An upgrade campaign's run (docs/campaigns.md): starts each pending eligible item as an ordinary UpgradeWorkflow
 * (through the start use case, keeping at most a bounded queue waiting for Partner Center's request limit), follows the started upgrades to
 * their end, then records the campaign's end and sends `campaign_completed`. Pause, resume and cancel are updates;
 * the counts are a query and search attributes.
 */
export async function CampaignWorkflow(input: CampaignWorkflowInput): Promise<CampaignCounts> {
  const { campaignId } = input;
  const followIntervalMs = input.followIntervalMs ?? 5_000;
  const startsInParallel = input.startsInParallel ?? 10;
  const eventsBeforeContinue = input.eventsBeforeContinueAsNew ?? DEFAULT_EVENTS_BEFORE_CONTINUE;
  let paused = input.carried?.paused ?? false;
  let cancelled = input.carried?.cancelled ?? false;
  let counts: CampaignCounts = input.carried?.counts ?? (await campaign.countCampaign(campaignId));
  // A scheduled campaign waits for its day first (only the first run: a carried-over one is past it).
  const startAtMs = input.startAt !== undefined && !input.carried && patched(PATCHES.CAMPAIGN_SCHEDULED_START) ? Date.parse(input.startAt) : undefined;
  let waitingForDay = startAtMs !== undefined && startAtMs > Date.now();
  let status: CampaignRunStatus = cancelled ? 'cancelled' : paused ? 'paused' : waitingForDay ? 'scheduled' : 'running';

  const progress = (): CampaignProgress => ({ campaignId, status, counts });
  const publish = () =>
    upsertSearchAttributes([
      { key: CAMPAIGN_STATUS, value: status },
      { key: CAMPAIGN_ITEMS_TOTAL, value: counts.total },
      { key: CAMPAIGN_ITEMS_DONE, value: counts.completed + counts.failed + counts.skipped },
      { key: CAMPAIGN_ITEMS_FAILED, value: counts.failed },
    ]);
  const changeStatus = async (next: CampaignRunStatus) => {
    if (status === next) return;
    status = next;
    publish();
    await campaign.recordCampaignStatus(campaignId, next);
  };

  setHandler(getCampaignProgressQuery, progress);
  setHandler(pauseCampaignUpdate, async () => {
    if (!cancelled && status !== 'completed') {
      paused = true;
      await changeStatus('paused');
    }
    return progress();
  });
  setHandler(resumeCampaignUpdate, async () => {
    if (!cancelled && status !== 'completed') {
      paused = false;
      await changeStatus(waitingForDay ? 'scheduled' : 'running');
    }
    return progress();
  });
  setHandler(cancelCampaignUpdate, async () => {
    if (status !== 'completed') {
      cancelled = true;
      await changeStatus('cancelled');
    }
    return progress();
  });

  const continueIfLong = async () => {
    if (workflowInfo().historyLength < eventsBeforeContinue && !workflowInfo().continueAsNewSuggested) return;
    await condition(allHandlersFinished);
    await continueAsNew<typeof CampaignWorkflow>({ ...input, carried: { paused, cancelled, counts } });
  };

  if (!input.carried) {
    await campaign.recordCampaignStatus(campaignId, status);
    publish();
  }

  if (waitingForDay) {
    // A durable timer until the day; a cancel ends the wait at once (and the run, with nothing started).
    await condition(() => cancelled, startAtMs! - Date.now());
    waitingForDay = false;
    if (!cancelled && !paused) await changeStatus('running');
  }

  // Start every pending item, a few at a time, as the throttle allows.
  for (;;) {
    await condition(() => !paused || cancelled);
    if (cancelled) break;
    const itemIds = await campaign.nextPendingCampaignItems(campaignId, BATCH);
    if (itemIds.length === 0) break;
    let next = 0;
    while (next < itemIds.length) {
      await condition(() => !paused || cancelled);
      if (cancelled) break;
      // Room in the campaign's queue for Partner Center (the request limit itself is applied at each POST).
      const grant = await campaign.takeCampaignStartSlots(Math.min(startsInParallel, itemIds.length - next), campaignId);
      if (grant.granted === 0) {
        // Wait for queued items to be sent; a cancel ends the wait at once.
        await condition(() => cancelled, grant.retryAfterMs);
        continue;
      }
      // A pause or cancel taken while the room was asked for: none of this chunk starts (the room is just not used).
      if ((paused || cancelled) && patched(PATCHES.CAMPAIGN_PAUSE_RECHECKED_BEFORE_STARTS)) continue;
      const chunk = itemIds.slice(next, next + grant.granted);
      next += chunk.length;
      const started = await Promise.all(chunk.map((itemId) => campaign.startCampaignItem(campaignId, itemId)));
      for (const start of started) {
        counts.pending -= 1;
        counts[start.outcome] += 1;
      }
      publish();
    }
    await continueIfLong();
  }

  // Follow the started upgrades to their end (a cancelled campaign too: they go on, and the report must say how).
  counts = await campaign.refreshCampaignItems(campaignId);
  publish();
  while (counts.running > 0) {
    await sleep(followIntervalMs);
    counts = await campaign.refreshCampaignItems(campaignId);
    publish();
    await continueIfLong();
  }

  await condition(allHandlersFinished);
  await changeStatus(cancelled ? 'cancelled' : 'completed');
  try {
    await notification.notifyCampaignCompleted(campaignId, status);
  } catch {
    await campaign.markCampaignNotificationsUndeliverable(campaignId);
  }
  return counts;
}
