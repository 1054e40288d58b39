import { Context as ActivityContext } from '@temporalio/activity';
import type { LogLevel, LogMetadata, Logger as SdkLogger } from '@temporalio/common';
import pino, { type Logger } from 'pino';

/**
 * Structured JSON logs (one line per event), the level from LOG_LEVEL. Inside an activity every line carries the
 * upgrade id (the workflow id), the workflow id, the run id and the activity, whichever logger the code used.
 */
export function createLogger(level: string, name: string): Logger {
  return pino({ name, level, base: { service: name }, timestamp: pino.stdTimeFunctions.isoTime, mixin: activityFields });
}

function activityFields(): Record<string, string> {
  let info: ActivityContext['info'];
  try {
    info = ActivityContext.current().info;
  } catch {
    return {}; // not inside an activity
  }
  const execution = info.workflowExecution;
  // Activities started outside a workflow (none today) have no execution to name.
  if (!execution) return { activityType: info.activityType };
  return { upgradeId: execution.workflowId, workflowId: execution.workflowId, runId: execution.runId, activityType: info.activityType };
}

const PINO_LEVEL: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/**
 * The Temporal SDK's logger (worker, workflow `log`, SDK core) routed into pino, so the worker writes one JSON format
 * like the API. Workflow lines carry the SDK's own workflowId, runId and workflowType metadata; the SDK drops workflow
 * log calls made during replay, so a replayed run does not log twice.
 */
export function sdkLoggerFor(logger: Logger): SdkLogger {
  const write = (level: LogLevel, message: string, meta?: LogMetadata) => {
    const fields: Record<string, unknown> = { ...meta };
    if (typeof fields.workflowId === 'string' && fields.upgradeId === undefined) fields.upgradeId = fields.workflowId;
    logger[PINO_LEVEL[level]](fields, message);
  };
  return {
    log: write,
    trace: (message, meta) => write('TRACE', message, meta),
    debug: (message, meta) => write('DEBUG', message, meta),
    info: (message, meta) => write('INFO', message, meta),
    warn: (message, meta) => write('WARN', message, meta),
    error: (message, meta) => write('ERROR', message, meta),
  };
}
