import { ApplicationFailure } from '@temporalio/activity';
import { LicenseShortageError, VendorBusinessRejectionError, VendorError, VendorThrottledError } from '../src/partner-center/errors';

/**
 * Partner Center client errors → what Temporal should do with the activity, the one mapping every activity uses. The
 * failure's type is the error class's name (listed in workflows/failure-types.ts). A business rejection is final and
 * carries the vendor's code and description (the workflow records them); throttling retries after exactly the
 * vendor's Retry-After; every other vendor error is final or not as its class says. Anything else is rethrown as is.
 *
 * `licenseShortageIsTemporary`: seat reassignment right after a conversion often finds the new seats not visible yet,
 * so there a shortage is retried with backoff (the workflow then falls back to manual reassignment).
 */
export function vendorFailure(error: unknown, options: { licenseShortageIsTemporary?: boolean } = {}): unknown {
  if (!(error instanceof VendorError)) return error;
  if (error instanceof VendorBusinessRejectionError) {
    return ApplicationFailure.create({
      type: error.name,
      message: error.message,
      nonRetryable: true,
      details: [{ code: String(error.code ?? ''), description: error.description }],
    });
  }
  if (error instanceof VendorThrottledError) {
    return ApplicationFailure.create({ type: error.name, message: error.message, nonRetryable: false, nextRetryDelay: error.retryAfterMs ?? undefined });
  }
  const retryable = error.retryable || (error instanceof LicenseShortageError && options.licenseShortageIsTemporary === true);
  return ApplicationFailure.create({ type: error.name, message: error.message, nonRetryable: !retryable });
}
