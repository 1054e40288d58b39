import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { CAMPAIGN_SEARCH_ATTRIBUTES } from '../../workflows/campaign-messages';
import { UPGRADE_SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';
import { dataRootDir, installedTool } from './tools';
import { findFreePort, startManagedProcess, waitUntilReady, type ManagedProcess } from './managed-process';

export interface TemporalDevServer {
  /** gRPC front-end, e.g. 127.0.0.1:7233 */
  readonly address: string;
  readonly uiUrl: string;
  readonly namespace: string;
  readonly process: ManagedProcess;
  stop(): Promise<void>;
}

/** CLI `--search-attribute` values for our custom attributes, from their single definition. */
function searchAttributeFlags(): string[] {
  const cliTypeName: Record<string, string> = {
    KEYWORD: 'Keyword',
    TEXT: 'Text',
    INT: 'Int',
    DOUBLE: 'Double',
    BOOL: 'Bool',
    DATETIME: 'Datetime',
    KEYWORD_LIST: 'KeywordList',
  };
  return [...UPGRADE_SEARCH_ATTRIBUTES, ...CAMPAIGN_SEARCH_ATTRIBUTES].flatMap((key) => [
    '--search-attribute',
    `${key.name}=${cliTypeName[key.type] ?? 'Keyword'}`,
  ]);
}

export interface StartTemporalOptions {
  port?: number;
  uiPort?: number;
  namespace?: string;
  /** Persist workflow state to this SQLite file (default: in memory, lost at stop). */
  dbFile?: string;
  headless?: boolean;
  logFile?: string;
}

/** Starts `temporal server start-dev` (installed by `npm run setup`) and waits until its gRPC front-end answers. */
export async function startTemporalDevServer(options: StartTemporalOptions = {}): Promise<TemporalDevServer> {
  const binary = installedTool('temporal');
  if (!binary) throw new Error('Temporal CLI not installed: run `npm run setup` (or set TEMPORAL_ADDRESS to a cluster)');
  const port = options.port ?? (await findFreePort());
  const uiPort = options.uiPort ?? (await findFreePort());
  const namespace = options.namespace ?? 'default';
  const logFile = options.logFile ?? join(dataRootDir, 'logs', `temporal-${port}.log`);
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--ui-port',
    String(uiPort),
    '--namespace',
    namespace,
    '--log-level',
    'warn',
    ...searchAttributeFlags(),
    ...(options.dbFile ? ['--db-filename', options.dbFile] : []),
    ...(options.headless ? ['--headless'] : []),
  ];
  const service = startManagedProcess({ name: 'temporal dev server', command: binary, args, logFile });
  const address = `127.0.0.1:${port}`;
  await waitUntilReady(service, () => temporalAnswers(address, namespace), { timeoutMs: 60_000, logFile });
  return {
    address,
    uiUrl: `http://127.0.0.1:${uiPort}`,
    namespace,
    process: service,
    stop: () => service.stop(),
  };
}

/** True once the front-end serves requests for the namespace (not just accepts TCP). */
async function temporalAnswers(address: string, namespace: string): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: 1_000 });
    await connection.workflowService.describeNamespace({ namespace });
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}
