import { NativeConnection, Worker } from '@temporalio/worker';
import type { BaselineActivities } from './baseline-workflow';

/**
 * The baseline's worker process (`node --import tsx scripts/bench/baseline-worker.ts`, env TEMPORAL_ADDRESS,
 * TEMPORAL_TASK_QUEUE): the no-op workflow with the same concurrency settings as our upgrade worker
 * (src/worker-factory.ts: 100 activity tasks, 40 workflow tasks), so the ratio compares like with like.
 */
export const BASELINE_WORKER_READY_TEXT = 'baseline worker running';

async function main(): Promise<void> {
  const address = process.env.TEMPORAL_ADDRESS;
  const taskQueue = process.env.TEMPORAL_TASK_QUEUE;
  if (!address || !taskQueue) throw new Error('TEMPORAL_ADDRESS and TEMPORAL_TASK_QUEUE are required');
  const connection = await NativeConnection.connect({ address });
  const activities: BaselineActivities = { noop: async (step) => step };
  const worker = await Worker.create({
    connection,
    namespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
    taskQueue,
    workflowsPath: require.resolve('./baseline-workflow'),
    activities,
    maxConcurrentActivityTaskExecutions: 100,
    maxConcurrentWorkflowTaskExecutions: 40,
    shutdownGraceTime: '10 seconds',
  });
  process.stdout.write(`${BASELINE_WORKER_READY_TEXT} on ${taskQueue}\n`);
  await worker.run(); // the SDK runtime shuts the worker down on SIGINT/SIGTERM
  await connection.close();
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
