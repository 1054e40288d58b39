import { ApplicationFailure } from '@temporalio/common';
import {
  LicenseShortageError,
  VendorAuthError,
  VendorBusinessRejectionError,
  VendorConflictError,
  type VendorError,
  VendorNotFoundError,
  VendorPreconditionFailedError,
  VendorResponseInvalidError,
  VendorThrottledError,
  VendorUnavailableError,
} from '../../../src/partner-center';
import { vendorFailure } from '../../../activities/vendor-failures';
import { FAILURE_TYPES, NON_RETRYABLE_VENDOR_REQUEST_FAILURES } from '../../../workflows/failure-types';

/** One of each Partner Center client error, with the failure type the workflow's retry policies know it by. */
const errors: Array<[VendorError, string]> = [
  [new VendorBusinessRejectionError({ code: 3, description: 'conflicting services' }), FAILURE_TYPES.vendorBusinessRejection],
  [new VendorNotFoundError('no such subscription'), FAILURE_TYPES.vendorNotFound],
  [new VendorAuthError('token refused'), FAILURE_TYPES.vendorAuth],
  [new VendorResponseInvalidError('createTransition', 'events: expected array'), FAILURE_TYPES.vendorResponseInvalid],
  [new VendorThrottledError('slow down', 2_500), FAILURE_TYPES.vendorThrottled],
  [new VendorUnavailableError('HTTP 503'), FAILURE_TYPES.vendorUnavailable],
  [new VendorConflictError({ code: 409, description: 'another transition runs' }), FAILURE_TYPES.vendorConflict],
  [new VendorPreconditionFailedError('HTTP 412'), FAILURE_TYPES.vendorPreconditionFailed],
  [new LicenseShortageError('no free seats', undefined), FAILURE_TYPES.licenseShortage],
];

const asFailure = (error: unknown, options?: Parameters<typeof vendorFailure>[1]) => {
  const failure = vendorFailure(error, options);
  expect(failure).toBeInstanceOf(ApplicationFailure);
  return failure as ApplicationFailure;
};

test.each(errors)('%s becomes a failure of the type listed in workflows/failure-types.ts', (error, type) => {
  expect(error.name).toBe(type);
  expect(asFailure(error).type).toBe(type);
});

test('a vendor error is final exactly when its class says repeating cannot help', () => {
  for (const [error] of errors) expect([error.name, asFailure(error).nonRetryable]).toEqual([error.name, !error.retryable]);
});

test('every final vendor error but the licence shortage ends the transition request without retries', () => {
  const finalOnRequest = errors.filter(([error]) => !error.retryable && !(error instanceof LicenseShortageError)).map(([error]) => error.name);
  expect(NON_RETRYABLE_VENDOR_REQUEST_FAILURES).toEqual(expect.arrayContaining(finalOnRequest));
  expect(NON_RETRYABLE_VENDOR_REQUEST_FAILURES).not.toContain(FAILURE_TYPES.vendorThrottled);
  expect(NON_RETRYABLE_VENDOR_REQUEST_FAILURES).not.toContain(FAILURE_TYPES.vendorUnavailable);
});

test("a business rejection carries the vendor's code and description; throttling waits exactly Retry-After", () => {
  const rejection = asFailure(errors[0]![0]);
  expect(rejection.details).toEqual([{ code: '3', description: 'conflicting services' }]);
  expect(asFailure(new VendorThrottledError('slow down', 2_500)).nextRetryDelay).toBe(2_500);
  expect(asFailure(new VendorThrottledError('slow down', undefined)).nextRetryDelay).toBeUndefined();
});

test('a licence shortage is retried only where the seats may still appear (seat reassignment)', () => {
  const shortage = new LicenseShortageError('no free seats', undefined);
  expect(asFailure(shortage).nonRetryable).toBe(true);
  expect(asFailure(shortage, { licenseShortageIsTemporary: true }).nonRetryable).toBe(false);
});

test('anything that is not a vendor error is rethrown unchanged', () => {
  const bug = new TypeError('undefined is not a function');
  expect(vendorFailure(bug)).toBe(bug);
});
