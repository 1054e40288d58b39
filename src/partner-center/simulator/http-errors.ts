/** Errors a simulator handler throws; the app's error middleware renders them with their status. */
export class SimulatedHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: object,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(`simulated HTTP ${status}`);
  }
}

/** Partner Center error body (https://learn.microsoft.com/en-us/partner-center/developer/error-codes). */
export function partnerCenterError(status: number, code: number | string, description: string, data?: readonly unknown[]): SimulatedHttpError {
  return new SimulatedHttpError(status, {
    code,
    description,
    ...(data === undefined ? {} : { data }),
    source: 'PartnerFD',
  });
}

/** Graph error body (`{ error: { code, message } }`), used by the licence endpoints. */
export function graphError(status: number, code: string, message: string): SimulatedHttpError {
  return new SimulatedHttpError(status, { error: { code, message, innerError: { date: new Date().toISOString() } } });
}

/** Order error codes Partner Center documents for purchase-like failures (https://learn.microsoft.com/en-us/partner-center/developer/cart-resources). */
export const ORDER_ERROR = {
  invalidInput: 800002,
  serviceException: 800003,
  invalidOfferId: 800004,
  subscriptionIsNotActive: 800012,
  invalidQuantity: 800017,
} as const;
