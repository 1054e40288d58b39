import type { Resolver, WebhookDestinationRules } from './webhook-destination';
import type { RedeliveryPolicy } from './webhook-redelivery';
import type { SweeperSettings } from './upgrade-sweeper';
import type { Logger } from 'pino';
import type { Models } from '../src/db/models';
import type { EligibilityPolicy } from '../src/domain/eligibility-policies';
import type { GraphClient } from '../src/microsoft-graph/graph-client';
import type { PartnerCenterClient } from '../src/partner-center/partner-center-client';
import type { TransitionLimit } from '../src/partner-center/transition-limit';

/** Everything the upgrade activities touch, injected by the worker (real) or by tests (real DB + simulator). */
export interface UpgradeActivityDeps {
  models: Models;
  vendor: PartnerCenterClient;
  /**
   * The partner tenant's limit on transition POSTs, shared by every process (src/partner-center/transition-limit.ts):
   * each POST waits for its slot. Absent: POSTs go at once (tests of other concerns that build their own deps).
   */
  transitionLimit?: TransitionLimit;
  /** Microsoft Graph in the customer's tenant: our own seat reassignment. */
  graph: GraphClient;
  clock: () => Date;
  logger: Logger;
  policy: EligibilityPolicy;
  webhooks: {
    /** HMAC-SHA256 key of the Standard Webhooks signature and the deprecated `X-NCE-Signature` header. */
    signingSecret: string;
    /** `WEBHOOK_SECRETS_KEY`: decrypts the accounts' own secrets (src/webhooks/account-secrets.ts); without it, the shared one signs. */
    secretsKey?: string;
    timeoutMs: number;
    /** Where deliveries may go (`WEBHOOK_ALLOW_PRIVATE_NETWORKS`, https in production): see webhook-destination.ts. */
    destinations: WebhookDestinationRules;
    /** Host name → addresses; default: the system resolver. */
    resolve?: Resolver;
    /** The redelivery schedule's interval and window (`WEBHOOK_REDELIVERY_*`); default every 15 minutes for 3 days. */
    redelivery?: RedeliveryPolicy;
  };
  /** The sweeper's grace period and the start's configuration (activities/upgrade-sweeper.ts); absent = no sweeper. */
  sweeper?: SweeperSettings;
  /**
   * How the vendor's asynchronous transition is followed: one long-running, heartbeating activity polls with a
   * growing interval, so a conversion that takes 24 h costs a handful of history events, not thousands.
   */
  vendorPolling: {
    initialIntervalMs: number;
    maxIntervalMs: number;
    /** How long Microsoft is given to show a transition whose answer was lost, or that vanished from its list (default 20 s). */
    settlingDelayMs?: number;
  };
}
