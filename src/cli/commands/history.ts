import { readFile, writeFile } from 'node:fs/promises';
import { type Client, isGrpcServiceError, WorkflowNotFoundError } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils';
import { CliError } from '../errors';

/**
 * `upgrades export-history`: a run's event history in the JSON format every Temporal tool reads (`temporal workflow
 * show --output json`, the Web UI's download, `Worker.runReplayHistory`). The replay suite keeps such files under
 * test/replay/histories/.
 */
export type History = temporal.api.history.v1.IHistory;

export async function fetchUpgradeHistory(client: Client, upgradeId: string, runId?: string): Promise<History> {
  try {
    return await client.workflow.getHandle(upgradeId, runId).fetchHistory();
  } catch (error) {
    // fetchHistory surfaces the raw gRPC NOT_FOUND (code 5) rather than WorkflowNotFoundError.
    if (error instanceof WorkflowNotFoundError || (isGrpcServiceError(error) && error.code === 5)) {
      throw new CliError(`no workflow ${upgradeId}${runId ? ` run ${runId}` : ''} in Temporal (wrong namespace or TEMPORAL_ADDRESS, or past retention)`);
    }
    throw new CliError(`could not fetch the history of ${upgradeId}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

export function historyAsJson(history: History): string {
  return `${historyToJSON(history)}\n`;
}

export async function exportHistory(options: {
  client: Client;
  upgradeId: string;
  runId?: string;
  out?: string;
}): Promise<{ json: string; eventCount: number }> {
  const history = await fetchUpgradeHistory(options.client, options.upgradeId, options.runId);
  const json = historyAsJson(history);
  if (options.out) await writeFile(options.out, json);
  return { json, eventCount: history.events?.length ?? 0 };
}

/** Reads a history file (ours, the Web UI's download or `temporal workflow show --output json`). */
export async function readHistoryFile(path: string): Promise<History> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String(error)}`);
  }
  try {
    return historyFromJSON(JSON.parse(text));
  } catch (error) {
    throw new CliError(`${path} is not a Temporal history in JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** The workflow id a history belongs to is not in the history itself; the start event's input names the upgrade. */
export function upgradeIdOfHistory(history: History): string | undefined {
  const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  if (!payload?.data) return undefined;
  try {
    const input = JSON.parse(Buffer.from(payload.data).toString('utf8')) as { upgradeId?: unknown };
    return typeof input.upgradeId === 'string' ? input.upgradeId : undefined;
  } catch {
    return undefined;
  }
}
