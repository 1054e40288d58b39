import pino, { type Logger } from 'pino';

/** Structured JSON logs (one line per event), the level from LOG_LEVEL. */
export function createLogger(level: string, name: string): Logger {
  return pino({ name, level, base: { service: name }, timestamp: pino.stdTimeFunctions.isoTime });
}
