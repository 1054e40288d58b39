import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * Every setting comes from the environment and is validated here once, at start-up, with one clear message per bad
 * variable. Unset service addresses mean "start the embedded one" (dev and tests); production must set them all.
 */
const port = z.coerce.number().int().min(1).max(65_535);
const optionalUrl = z.string().url().optional();

const TASK_QUEUE_DEFAULT = 'nce-upgrades';

/** The points of an upgrade's start a crash can fall between (src/upgrades/start.ts), for `FAULT_API_CRASH_AT`. */
export const START_CRASH_POINTS = ['after_locks', 'after_record', 'after_start'] as const;
export type StartCrashPoint = (typeof START_CRASH_POINTS)[number];

export const configSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    PORT: port.default(3000),
    HOST: z.string().min(1).default('0.0.0.0'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    TEMPORAL_ADDRESS: z
      .string()
      .regex(/^[^\s:]+:\d+$/, 'must be host:port, e.g. temporal:7233')
      .optional(),
    TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
    /** Temporal Cloud API key (or TEMPORAL_API_KEY_FILE); TLS is then on. Read with the other TEMPORAL_* variables by envconfig. */
    TEMPORAL_API_KEY: z.string().min(1).optional(),
    /** A TOML file of Temporal connection profiles (Temporal's environment configuration), and the profile to use. */
    TEMPORAL_CONFIG_FILE: z.string().min(1).optional(),
    TEMPORAL_PROFILE: z.string().min(1).optional(),
    TEMPORAL_TASK_QUEUE: z.string().min(1).default(TASK_QUEUE_DEFAULT),
    MONGODB_URI: z
      .string()
      .regex(/^mongodb(\+srv)?:\/\//, 'must be a mongodb:// or mongodb+srv:// URI')
      .optional(),
    /** Kept out of MONGODB_URI so the URI can sit in a ConfigMap; usually given as MONGODB_PASSWORD_FILE. */
    MONGODB_PASSWORD: z.string().min(1).optional(),
    MONGODB_DATABASE: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,63}$/, 'letters, digits, _ and - only')
      .default('nce_upgrades'),
    OPERATOR_API_KEY: z.string().min(24, 'must be at least 24 characters').optional(),
    /** Requests per client IP per minute, every route (public ones too), counted before the API key is looked at. */
    RATE_LIMIT_PER_IP_PER_MINUTE: z.coerce.number().int().min(1).default(1_200),
    /** Requests with a bad API key per client IP per 15 minutes; beyond it the IP gets 429 before any key lookup. */
    AUTH_FAILURES_PER_IP_PER_15_MINUTES: z.coerce.number().int().min(1).default(20),
    /** Proxy hops in front of the API whose X-Forwarded-For is trusted for the client IP (0: the socket's address). */
    TRUST_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(0),
    /** A separate port serving the API's /metrics without a key (for a scraper inside the cluster; 0: any free port); unset: /metrics needs the operator key. */
    METRICS_PORT: z.coerce.number().int().min(0).max(65_535).optional(),
    VENDOR_BASE_URL: optionalUrl,
    /** Static bearer token for the vendor (the simulator accepts any); production uses the client-credentials flow. */
    VENDOR_TOKEN: z.string().min(1).optional(),
    VENDOR_TENANT_ID: z.string().min(1).optional(),
    VENDOR_CLIENT_ID: z.string().min(1).optional(),
    VENDOR_CLIENT_SECRET: z.string().min(1).optional(),
    /** How long the API reuses Microsoft's transition-eligibility verdict on a source subscription. */
    VENDOR_ELIGIBILITY_CACHE_SECONDS: z.coerce.number().int().min(0).max(3_600).default(60),
    /** `X-Locale` on every Partner Center call. */
    VENDOR_LOCALE: z
      .string()
      .regex(/^[a-z]{2,3}-[A-Z]{2}$/, 'must be a locale like en-US')
      .default('en-US'),
    /**
     * Microsoft Graph (seat reassignment in the customer's tenant). Default: Microsoft's when the partner's app
     * credentials are set, the simulator's `/graph` when the vendor is the simulator (static token).
     */
    GRAPH_BASE_URL: optionalUrl,
    /** The partner's multi-tenant app consented in each customer's tenant; default: VENDOR_CLIENT_ID / VENDOR_CLIENT_SECRET. */
    GRAPH_CLIENT_ID: z.string().min(1).optional(),
    GRAPH_CLIENT_SECRET: z.string().min(1).optional(),
    /** Country of Partner Center's catalog and market of the price sheet the catalog sync reads. */
    CATALOG_COUNTRY: z
      .string()
      .regex(/^[A-Z]{2}$/, 'must be a two-letter country code, e.g. US')
      .default('US'),
    /** The pricing API's host; its price sheet needs an app + user token (PRICE_SHEET_TOKEN). */
    PRICE_SHEET_BASE_URL: optionalUrl,
    PRICE_SHEET_TOKEN: z.string().min(1).optional(),
    ELIGIBILITY_POLICY: z.enum(['microsoft', 'interworks', 'infinigate']).default('microsoft'),
    WEBHOOK_SIGNING_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
    /**
     * Encrypts each account's own webhook signing secret at rest (src/webhooks/account-secrets.ts): the API encrypts it
     * at creation and rotation, the worker decrypts it to sign, so both need the same value.
     */
    WEBHOOK_SECRETS_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
    /** How long a rotated-out account secret keeps signing beside the new one. */
    WEBHOOK_SECRET_OVERLAP_HOURS: z.coerce.number().int().min(1).max(720).default(24),
    /** Deliver webhooks to loopback and private addresses too (dev stack, tests); never in production. */
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: z
      .enum(['true', 'false'], { message: 'must be true or false' })
      .default('false')
      .transform((value) => value === 'true'),
    /** How often undeliverable webhooks are retried (the schedule's interval and the first backoff), and for how many days. */
    WEBHOOK_REDELIVERY_INTERVAL_MINUTES: z.coerce.number().int().min(1).max(1_440).default(15),
    WEBHOOK_REDELIVERY_DAYS: z.coerce.number().int().min(1).max(30).default(3),
    /**
     * The sweeper (src/upgrades/sweeper.ts): how often it looks for upgrades and locks left behind by a process that died
     * mid-start, and how old they must be (longer than any start takes).
     */
    UPGRADE_SWEEPER_INTERVAL_MINUTES: z.coerce.number().int().min(1).max(1_440).default(5),
    /** Fault suite only: SIGKILL the API at this point of an upgrade's start (after_locks, after_record, after_start). */
    FAULT_API_CRASH_AT: z.enum(START_CRASH_POINTS).optional(),
    UPGRADE_SWEEPER_GRACE_MINUTES: z.coerce.number().int().min(1).max(1_440).default(10),
    /** First and longest interval between polls of an asynchronous Partner Center transition (the interval doubles). */
    VENDOR_POLL_INITIAL_MS: z.coerce.number().int().min(10).default(2_000),
    VENDOR_POLL_MAX_MS: z.coerce.number().int().min(10).default(60_000),
    /** How long Partner Center is given to show a transition whose answer was lost (activities/vendor-transition.ts). */
    VENDOR_SETTLING_DELAY_MS: z.coerce.number().int().min(0).default(20_000),
    /**
     * Partner Center's transition POSTs per interval, per partner tenant, every upgrade and process together
     * (src/partner-center/transition-limit.ts). Read from CAMPAIGN_STARTS_PER_INTERVAL / CAMPAIGN_INTERVAL_SECONDS
     * when unset (their names before the limit moved from campaign starts to the POSTs themselves).
     */
    VENDOR_TRANSITIONS_PER_INTERVAL: z.coerce.number().int().min(1).default(100),
    VENDOR_TRANSITIONS_INTERVAL_SECONDS: z.coerce.number().int().min(1).default(300),
    /** Items a campaign keeps started but not yet sent to Partner Center (waiting for their slot of the limit). */
    CAMPAIGN_MAX_QUEUED_ITEMS: z.coerce.number().int().min(1).max(10_000).default(50),
    /** How often a waiting manual seat reassignment is reminded, and after how many days it is escalated. */
    SEAT_REMINDER_INTERVAL_HOURS: z.coerce.number().int().min(1).default(24),
    SEAT_ESCALATION_DAYS: z.coerce.number().int().min(1).default(7),
    /** How long an API process reuses the catalog it read for eligibility checks; an import through it drops it. 0 = off. */
    CATALOG_CACHE_SECONDS: z.coerce.number().int().min(0).max(3_600).default(5),
    /** The worker's own HTTP port: /livez, /readyz and /metrics (the Temporal SDK's series and ours). 0 = off. */
    WORKER_HTTP_PORT: port.optional(),
    /** How long a stopping worker lets running activities finish; keep it longer than the longest heartbeat timeout (30 s). */
    WORKER_SHUTDOWN_GRACE_SECONDS: z.coerce.number().int().min(1).max(3_600).default(45),
    /** Build id of this worker's code (the git commit); enables Worker Deployment versioning when set. */
    WORKER_BUILD_ID: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,255}$/, 'letters, digits, ., _ and - only')
      .optional(),
    /** Worker Deployment name the build id belongs to (Temporal's Worker Versioning). */
    WORKER_DEPLOYMENT_NAME: z.string().min(1).default('nce-upgrade-orchestrator'),
  })
  .superRefine((env, ctx) => {
    if (env.NODE_ENV !== 'production') return;
    if (env.FAULT_API_CRASH_AT) ctx.addIssue({ code: 'custom', path: ['FAULT_API_CRASH_AT'], message: 'is for the fault suite, never in production' });
    for (const key of ['MONGODB_URI', 'VENDOR_BASE_URL'] as const) {
      if (!env[key]) ctx.addIssue({ code: 'custom', path: [key], message: 'is required in production' });
    }
    if (!env.TEMPORAL_ADDRESS && !env.TEMPORAL_CONFIG_FILE) {
      ctx.addIssue({ code: 'custom', path: ['TEMPORAL_ADDRESS'], message: 'is required in production (or TEMPORAL_CONFIG_FILE with a profile)' });
    }
    const hasClientCredentials = env.VENDOR_TENANT_ID && env.VENDOR_CLIENT_ID && env.VENDOR_CLIENT_SECRET;
    if (!env.VENDOR_TOKEN && !hasClientCredentials) {
      ctx.addIssue({
        code: 'custom',
        path: ['VENDOR_CLIENT_SECRET'],
        message: 'production needs VENDOR_TENANT_ID, VENDOR_CLIENT_ID and VENDOR_CLIENT_SECRET (or VENDOR_TOKEN)',
      });
    }
  });

export type Config = z.infer<typeof configSchema> & {
  OPERATOR_API_KEY: string;
  WEBHOOK_SIGNING_SECRET: string;
  WEBHOOK_SECRETS_KEY: string;
  /** True when the operator key was generated for this dev run (printed once at start). */
  operatorKeyGenerated: boolean;
};

class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Which process reads the configuration: each needs only its own secrets in production (the API signs no webhooks,
 * the worker checks no API keys). `all` is `npm start`, which runs both.
 */
export type ProcessRole = 'api' | 'worker' | 'cli' | 'all';

const SECRETS_REQUIRED_IN_PRODUCTION: Record<ProcessRole, readonly ('OPERATOR_API_KEY' | 'WEBHOOK_SIGNING_SECRET' | 'WEBHOOK_SECRETS_KEY')[]> = {
  api: ['OPERATOR_API_KEY', 'WEBHOOK_SECRETS_KEY'],
  worker: ['WEBHOOK_SIGNING_SECRET', 'WEBHOOK_SECRETS_KEY'],
  cli: [],
  all: ['OPERATOR_API_KEY', 'WEBHOOK_SIGNING_SECRET', 'WEBHOOK_SECRETS_KEY'],
};

/**
 * `<NAME>_FILE` holds the path of a file whose content is the value of `<NAME>` (Docker and Kubernetes secrets are
 * files). A variable given both ways is refused: which one wins would be a guess.
 */
function resolveSecretFiles(env: NodeJS.ProcessEnv, problems: string[]): Record<string, string> {
  const resolved: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined || value === '') continue;
    if (!key.endsWith('_FILE') || !(key.slice(0, -'_FILE'.length) in configSchema.shape)) {
      resolved[key] ??= value;
      continue;
    }
    const name = key.slice(0, -'_FILE'.length);
    if (env[name]) {
      problems.push(`${key}: ${name} is set too; give one of them`);
      continue;
    }
    try {
      const content = readFileSync(value, 'utf8').trim();
      if (content !== '') resolved[name] = content;
    } catch (error) {
      problems.push(`${key}: cannot read ${value} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    }
  }
  return resolved;
}

/** MONGODB_URI with MONGODB_PASSWORD put in as the URI's password (percent-encoded). */
function withPassword(uri: string, password: string): string {
  const match = /^(mongodb(?:\+srv)?:\/\/)([^:@/]+)@/.exec(uri);
  if (!match) throw new ConfigError(['MONGODB_PASSWORD: MONGODB_URI must name the user (mongodb://user@host/…) and no password']);
  return `${match[1]}${match[2]}:${encodeURIComponent(password)}@${uri.slice(match[0].length)}`;
}

/** Variables read under their former names when the new one is unset. */
const RENAMED_VARIABLES: ReadonlyArray<[string, string]> = [
  ['VENDOR_TRANSITIONS_PER_INTERVAL', 'CAMPAIGN_STARTS_PER_INTERVAL'],
  ['VENDOR_TRANSITIONS_INTERVAL_SECONDS', 'CAMPAIGN_INTERVAL_SECONDS'],
];

/** Reads and validates the environment; in dev, fills the secrets nobody set with random ones. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, role: ProcessRole = 'all'): Config {
  const problems: string[] = [];
  // An empty variable (`VENDOR_TOKEN=` in a compose file) means "not set", not "set to nothing".
  const given = resolveSecretFiles(env, problems);
  for (const [name, formerName] of RENAMED_VARIABLES) if (given[name] === undefined && given[formerName] !== undefined) given[name] = given[formerName];
  const parsed = configSchema.safeParse(given);
  if (!parsed.success) problems.push(...parsed.error.issues.map((issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`));
  if (parsed.success && parsed.data.NODE_ENV === 'production') {
    for (const key of SECRETS_REQUIRED_IN_PRODUCTION[role]) if (!parsed.data[key]) problems.push(`${key}: is required in production`);
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  if (parsed.data.MONGODB_PASSWORD && parsed.data.MONGODB_URI) parsed.data.MONGODB_URI = withPassword(parsed.data.MONGODB_URI, parsed.data.MONGODB_PASSWORD);
  const operatorKeyGenerated = !parsed.data.OPERATOR_API_KEY;
  return {
    ...parsed.data,
    OPERATOR_API_KEY: parsed.data.OPERATOR_API_KEY ?? `dev-operator-${randomBytes(18).toString('base64url')}`,
    WEBHOOK_SIGNING_SECRET: parsed.data.WEBHOOK_SIGNING_SECRET ?? randomBytes(24).toString('base64url'),
    WEBHOOK_SECRETS_KEY: parsed.data.WEBHOOK_SECRETS_KEY ?? randomBytes(32).toString('base64url'),
    operatorKeyGenerated,
  };
}
