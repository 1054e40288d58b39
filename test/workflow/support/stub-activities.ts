import { Context } from '@temporalio/activity';
import type { UpgradeActivities, UpgradeRecordProgress, VendorOutcome, VendorRecord } from '../../../workflows/activity-contract';
import type { UpgradeWorkflowInput } from '../../../workflows/messages';

/**
 * Stub activities for the workflow's branches: each answers what the real one would for a healthy upgrade, records
 * the call (with the test server's time, so intervals of days can be checked), and any of them can be replaced.
 */
export interface ActivityCall {
  name: keyof UpgradeActivities;
  args: unknown[];
  /** When the test server scheduled this attempt (its clock, which time skipping advances). */
  atMs: number;
  attempt: number;
}

export type StubOverrides = Partial<{ [K in keyof UpgradeActivities]: (...args: Parameters<UpgradeActivities[K]>) => ReturnType<UpgradeActivities[K]> }>;

export const completedOutcome = (overrides: Partial<VendorOutcome> = {}): VendorOutcome => ({
  conversion: 'completed',
  licenseReassignment: 'completed',
  errors: [],
  completedAt: '2026-03-02T10:00:00.000Z',
  ...overrides,
});

export const vendorRecord = (upgradeId: string, attempt = 0): VendorRecord => ({
  attempt,
  requestId: `request-${upgradeId}-${attempt}`,
  customerTenantId: 'tenant-1',
  vendorSubscriptionId: 'vendor-source-1',
  transition: { toCatalogItemId: 'CFQ7TTC0LDPB:0001', quantity: 10, events: [] },
  requestedAt: '2026-03-02T09:59:00.000Z',
});

const healthy = (manual: boolean): UpgradeActivities => ({
  recordUpgradeAccepted: async () => undefined,
  recordUpgradeProgress: async () => undefined,
  validateAndLockUpgrade: async (input: UpgradeWorkflowInput) => ({
    ok: true,
    kind: manual ? 'partial' : 'full',
    destinationType: input.request.destination.type,
    seatReassignment: manual
      ? { mode: 'manual', reason: 'partial upgrade: the customer chooses the users' }
      : { mode: 'automatic', reason: 'full upgrade: Microsoft transfers the licences' },
    summary: `${manual ? 'Partial' : 'Full'} upgrade of ${input.request.quantity} seats`,
    upgradeDate: input.acceptedAt.slice(0, 10),
  }),
  requestVendorTransition: async (upgradeId, runAttempt) => vendorRecord(upgradeId, runAttempt),
  // The run decided first: its request never left (the activity decides `send` right before it does).
  withdrawVendorRequest: async () => true,
  awaitVendorTransition: async () => completedOutcome(manual ? { licenseReassignment: 'not_requested', toSubscriptionId: 'vendor-new-1' } : {}),
  applySubscriptionChanges: async (upgradeId) => ({ destinationSubscriptionId: manual ? `sub-new-${upgradeId}` : 'sub-source' }),
  issueInvoices: async (upgradeId) => ({ creditInvoiceId: `${upgradeId}:credit`, debitInvoiceId: `${upgradeId}:debit` }),
  // Replaced in stubActivities by the two steps it is made of, as the real activity is.
  applySubscriptionChangesAndIssueInvoices: async () => {
    throw new Error('composed in stubActivities');
  },
  reassignSeatsAutomatically: async () => ({ movedUsers: 10, by: 'vendor' }),
  recordSeatReassignmentState: async () => undefined,
  sendUpgradeNotification: async () => 'no_webhook',
  markNotificationUndeliverable: async () => undefined,
  failUpgrade: async () => undefined,
  completeUpgrade: async () => undefined,
});

export interface StubActivities {
  activities: UpgradeActivities;
  calls: ActivityCall[];
  /** The calls of one activity, in order. */
  callsOf(name: keyof UpgradeActivities): ActivityCall[];
  /** Every record write the workflow made (progress and the ending), in order. */
  recordWrites(): UpgradeRecordProgress[];
}

export function stubActivities(options: { manualSeats?: boolean; overrides?: StubOverrides } = {}): StubActivities {
  const base = healthy(options.manualSeats ?? false);
  const calls: ActivityCall[] = [];
  /**
   * The lean shape's combined step runs the stubs (or overrides) of its two parts, each recorded as a call of its
   * own after the combined one, so a test states which steps ran and what they were given in either shape.
   */
  const applyAndInvoice: UpgradeActivities['applySubscriptionChangesAndIssueInvoices'] = async (upgradeId, outcome, lockClaim) => {
    const { destinationSubscriptionId } = await activities.applySubscriptionChanges(upgradeId, outcome, lockClaim);
    return { destinationSubscriptionId, ...(await activities.issueInvoices(upgradeId, destinationSubscriptionId)) };
  };
  const activities: UpgradeActivities = Object.fromEntries(
    (Object.keys(base) as Array<keyof UpgradeActivities>).map((name) => {
      const implementation = (options.overrides?.[name] ?? (name === 'applySubscriptionChangesAndIssueInvoices' ? applyAndInvoice : base[name])) as (
        ...args: unknown[]
      ) => Promise<unknown>;
      const recorded = async (...args: unknown[]) => {
        const { info } = Context.current();
        calls.push({ name, args, atMs: info.currentAttemptScheduledTimestampMs, attempt: info.attempt });
        return implementation(...args);
      };
      return [name, recorded];
    }),
  ) as unknown as UpgradeActivities;
  const callsOf = (name: keyof UpgradeActivities) => calls.filter((call) => call.name === name);
  return {
    activities,
    calls,
    callsOf,
    recordWrites: () =>
      calls.flatMap((call) => {
        if (call.name === 'recordUpgradeProgress') return [call.args[1] as UpgradeRecordProgress];
        if (call.name === 'failUpgrade' && call.args[3]) return [call.args[3] as UpgradeRecordProgress];
        if (call.name === 'completeUpgrade' && call.args[2]) return [call.args[2] as UpgradeRecordProgress];
        return [];
      }),
  };
}
