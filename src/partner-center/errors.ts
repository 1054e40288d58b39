/**
 * Errors the Partner Center client throws. Each class has a stable `name` (activities/vendor-failures.ts turns a
 * thrown error into an ApplicationFailure whose `type` is that name, listed in workflows/failure-types.ts) and a
 * `retryable` flag saying whether repeating the same call later can succeed. The client itself never retries:
 * retries belong to Temporal activities.
 */

export interface VendorErrorContext {
  /** HTTP status, when the vendor answered. */
  readonly status?: number;
  /** MS-RequestId sent with the failed call. */
  readonly requestId?: string;
  /** MS-CorrelationId sent with the failed call. */
  readonly correlationId?: string;
  readonly cause?: unknown;
}

export abstract class VendorError extends Error {
  abstract override readonly name: string;
  abstract readonly retryable: boolean;
  readonly status: number | undefined;
  readonly requestId: string | undefined;
  readonly correlationId: string | undefined;

  constructor(message: string, context: VendorErrorContext = {}) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause });
    this.status = context.status;
    this.requestId = context.requestId;
    this.correlationId = context.correlationId;
  }
}

/** 429. Wait `retryAfterMs` (from the Retry-After header) before calling again. */
export class VendorThrottledError extends VendorError {
  override readonly name = 'VendorThrottledError';
  readonly retryable = true;
  constructor(
    message: string,
    readonly retryAfterMs: number | undefined,
    context: VendorErrorContext = {},
  ) {
    super(message, context);
  }
}

/** 5xx, 408, timeouts and network failures: transient by nature. */
export class VendorUnavailableError extends VendorError {
  override readonly name = 'VendorUnavailableError';
  readonly retryable = true;
}

/** A vendor error body: `{ code, description, data? }` (Partner Center) or Graph's `{ error: { code, message } }`. */
export interface VendorErrorDetails {
  readonly code: string | number | undefined;
  readonly description: string;
  readonly data?: readonly unknown[] | undefined;
}

/**
 * 400 with a business reason (destination codes 1–4, conflicting services code 3, inactive source,
 * quantity increase, target not on the upgrade path, invalid input). Repeating the call cannot help.
 */
export class VendorBusinessRejectionError extends VendorError {
  override readonly name = 'VendorBusinessRejectionError';
  readonly retryable = false;
  readonly code: string | number | undefined;
  readonly description: string;
  readonly data: readonly unknown[] | undefined;
  constructor(details: VendorErrorDetails, context: VendorErrorContext = {}) {
    super(`Partner Center rejected the request (code ${String(details.code)}): ${details.description}`, context);
    this.code = details.code;
    this.description = details.description;
    this.data = details.data;
  }
}

/**
 * 409: another transition on the same subscription is still running. Retryable: that transition
 * finishes on its own (minutes to hours), so the caller should retry with backoff using the SAME
 * MS-RequestId. Callers that must not wait (e.g. a pre-flight check) can treat it as a rejection.
 */
export class VendorConflictError extends VendorError {
  override readonly name = 'VendorConflictError';
  readonly retryable = true;
  readonly code: string | number | undefined;
  constructor(details: VendorErrorDetails, context: VendorErrorContext = {}) {
    super(`Partner Center reported a conflict: ${details.description}`, context);
    this.code = details.code;
  }
}

/**
 * 412: the resource changed since it was read (its ETag no longer matches `If-Match`). Retryable after reading it
 * again: the caller re-reads and decides afresh.
 */
export class VendorPreconditionFailedError extends VendorError {
  override readonly name = 'VendorPreconditionFailedError';
  readonly retryable = true;
}

/** 404: unknown customer or subscription (or user, for licence calls). */
export class VendorNotFoundError extends VendorError {
  override readonly name = 'VendorNotFoundError';
  readonly retryable = false;
}

/**
 * 401/403 and token acquisition failures. Not retryable: a missing role or bad secret needs a human.
 * On 401 the client also drops the cached token, so a later (human-triggered) re-run gets a new one.
 */
export class VendorAuthError extends VendorError {
  override readonly name = 'VendorAuthError';
  readonly retryable = false;
}

/**
 * Licence assignment failed because the SKU has no free seats (Graph 400 "does not have any
 * available licenses", Partner Center code 60012). Not retryable as a call: repeating it at once
 * fails the same way. The workflow may still try again later (e.g. once the conversion that adds the
 * seats has completed) or fall back to manual reassignment.
 */
export class LicenseShortageError extends VendorError {
  override readonly name = 'LicenseShortageError';
  readonly retryable = false;
  readonly skuId: string | undefined;
  constructor(message: string, skuId: string | undefined, context: VendorErrorContext = {}) {
    super(message, context);
    this.skuId = skuId;
  }
}

/**
 * A 2xx body that does not match the contract. Not retryable: it signals a vendor contract change or
 * a bug, and repeating the call returns the same shape.
 */
export class VendorResponseInvalidError extends VendorError {
  override readonly name = 'VendorResponseInvalidError';
  readonly retryable = false;
  readonly issues: string;
  constructor(message: string, issues: string, context: VendorErrorContext = {}) {
    super(`${message}: ${issues}`, context);
    this.issues = issues;
  }
}
