import { proxyActivities } from '@temporalio/workflow';

/**
 * The benchmark's baseline: the same engine doing nothing but scheduling `activityCount` activities one after
 * another — the ceiling a thin orchestration layer is measured against. Same timeouts class as our bookkeeping
 * activities; no search attributes, no queries, no I/O.
 */
export interface BaselineActivities {
  noop(step: number): Promise<number>;
}

const { noop } = proxyActivities<BaselineActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

export async function BaselineWorkflow(activityCount: number): Promise<number> {
  let done = 0;
  for (let step = 0; step < activityCount; step++) done += (await noop(step)) >= 0 ? 1 : 0;
  return done;
}
