import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';

/**
 * Every error the API returns has one shape, `{ error: { code, message, details? } }`, and comes from an `ApiError`.
 * The central handler maps everything else (body-parser failures, unexpected exceptions) onto it: no stack trace
 * ever leaves the process, and no input can produce a 5xx.
 */
export const ERROR_CODES = [
  'VALIDATION_FAILED',
  'INVALID_JSON',
  'UNSUPPORTED_MEDIA_TYPE',
  'PAYLOAD_TOO_LARGE',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'NOT_ELIGIBLE',
  'IDEMPOTENCY_KEY_REUSED',
  'UPGRADE_IN_PROGRESS',
  'UPGRADE_NOT_FAILED',
  'RETRY_NOT_POSSIBLE',
  'NOTHING_AWAITING_CONFIRMATION',
  'CAMPAIGN_STATE_CONFLICT',
  'NOT_AWAITING_RESOLUTION',
  'INVALID_SCHEDULE',
  'UPGRADE_ALREADY_SCHEDULED',
  'NOT_SCHEDULED',
  'SUBSCRIPTION_LOCKED',
  'DELIVERY_NOT_FAILED',
  'RATE_LIMITED',
  'VENDOR_NOT_CONFIGURED',
  'VENDOR_UNAVAILABLE',
  'TEMPORAL_UNAVAILABLE',
  'SERVICE_UNAVAILABLE',
  'INTERNAL_ERROR',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface FieldError {
  path: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const errorBodySchema = z
  .object({
    error: z.object({
      code: z.enum(ERROR_CODES),
      message: z.string(),
      details: z.record(z.string(), z.unknown()).optional(),
    }),
  })
  .meta({ id: 'Error' });

export function validationError(fields: FieldError[], message?: string): ApiError {
  const summary = fields
    .slice(0, 5)
    .map((f) => `${f.path || '(body)'}: ${f.message}`)
    .join('; ');
  return new ApiError(400, 'VALIDATION_FAILED', message ?? `Invalid request: ${summary}`, { fields });
}

export const notFound = (what: string): ApiError => new ApiError(404, 'NOT_FOUND', `${what} not found`);

/** Express 5 forwards rejected promises here; unknown routes end here too. */
export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new ApiError(404, 'NOT_FOUND', `No route for ${req.method} ${req.path}`));
};

interface BodyParserError {
  type?: string;
  status?: number;
  statusCode?: number;
  expose?: boolean;
}

function fromBodyParser(error: BodyParserError & Error): ApiError | undefined {
  switch (error.type) {
    case 'entity.too.large':
      return new ApiError(413, 'PAYLOAD_TOO_LARGE', 'Request body is too large');
    case 'entity.parse.failed':
      return new ApiError(400, 'INVALID_JSON', 'Request body is not valid JSON', { fields: [{ path: '', message: 'malformed JSON' }] });
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', error.message);
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
    case 'stream.not.readable':
      return new ApiError(400, 'VALIDATION_FAILED', 'Request body could not be read', { fields: [{ path: '', message: error.type }] });
    default:
      return undefined;
  }
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    let apiError: ApiError;
    if (error instanceof ApiError) {
      apiError = error;
    } else if (error instanceof Error && fromBodyParser(error as Error & BodyParserError)) {
      apiError = fromBodyParser(error as Error & BodyParserError)!;
    } else if (
      error instanceof Error &&
      typeof (error as BodyParserError).status === 'number' &&
      (error as BodyParserError).status! >= 400 &&
      (error as BodyParserError).status! < 500
    ) {
      // Any other client error raised by express internals (e.g. a malformed URI): keep it a 4xx.
      apiError = new ApiError(400, 'VALIDATION_FAILED', 'Malformed request', { fields: [{ path: '', message: error.message }] });
    } else {
      ((req as { log?: Logger }).log ?? logger).error({ err: error }, 'unhandled error');
      apiError = new ApiError(500, 'INTERNAL_ERROR', 'Internal error; the request id identifies it in the logs');
    }
    if (res.headersSent) return;
    res.status(apiError.status).json({
      error: { code: apiError.code, message: apiError.message, ...(apiError.details ? { details: apiError.details } : {}) },
    });
  };
}
