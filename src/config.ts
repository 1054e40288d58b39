import { randomBytes } from 'node:crypto';
import { z } from 'zod';

/**
 * Every setting comes from the environment and is validated here once, at start-up, with one clear message per bad
 * variable. Unset service addresses mean "start the embedded one" (dev and tests); production must set them all.
 */
const port = z.coerce.number().int().min(1).max(65_535);
const optionalUrl = z.string().url().optional();

export const TASK_QUEUE_DEFAULT = 'nce-upgrades';

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
    TEMPORAL_TASK_QUEUE: z.string().min(1).default(TASK_QUEUE_DEFAULT),
    MONGODB_URI: z
      .string()
      .regex(/^mongodb(\+srv)?:\/\//, 'must be a mongodb:// or mongodb+srv:// URI')
      .optional(),
    MONGODB_DATABASE: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,63}$/, 'letters, digits, _ and - only')
      .default('nce_upgrades'),
    OPERATOR_API_KEY: z.string().min(24, 'must be at least 24 characters').optional(),
    VENDOR_BASE_URL: optionalUrl,
    /** Static bearer token for the vendor (the simulator accepts any); production uses the client-credentials flow. */
    VENDOR_TOKEN: z.string().min(1).optional(),
    VENDOR_TENANT_ID: z.string().min(1).optional(),
    VENDOR_CLIENT_ID: z.string().min(1).optional(),
    VENDOR_CLIENT_SECRET: z.string().min(1).optional(),
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
    /** First and longest interval between polls of an asynchronous Partner Center transition (the interval doubles). */
    VENDOR_POLL_INITIAL_MS: z.coerce.number().int().min(10).default(2_000),
    VENDOR_POLL_MAX_MS: z.coerce.number().int().min(10).default(60_000),
    /** How often a waiting manual seat reassignment is reminded, and after how many days it is escalated. */
    SEAT_REMINDER_INTERVAL_HOURS: z.coerce.number().int().min(1).default(24),
    SEAT_ESCALATION_DAYS: z.coerce.number().int().min(1).default(7),
    /** How long an API process reuses the catalog it read for eligibility checks; an import through it drops it. 0 = off. */
    CATALOG_CACHE_SECONDS: z.coerce.number().int().min(0).max(3_600).default(5),
  })
  .superRefine((env, ctx) => {
    if (env.NODE_ENV !== 'production') return;
    for (const key of ['TEMPORAL_ADDRESS', 'MONGODB_URI', 'OPERATOR_API_KEY', 'VENDOR_BASE_URL', 'WEBHOOK_SIGNING_SECRET'] as const) {
      if (!env[key]) ctx.addIssue({ code: 'custom', path: [key], message: 'is required in production' });
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
  /** True when the operator key was generated for this dev run (printed once at start). */
  operatorKeyGenerated: boolean;
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Reads and validates the environment; in dev, fills the secrets nobody set with random ones. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable (`VENDOR_TOKEN=` in a compose file) means "not set", not "set to nothing".
  const parsed = configSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, value]) => value !== '')));
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`));
  }
  const operatorKeyGenerated = !parsed.data.OPERATOR_API_KEY;
  return {
    ...parsed.data,
    OPERATOR_API_KEY: parsed.data.OPERATOR_API_KEY ?? `dev-operator-${randomBytes(18).toString('base64url')}`,
    WEBHOOK_SIGNING_SECRET: parsed.data.WEBHOOK_SIGNING_SECRET ?? randomBytes(24).toString('base64url'),
    operatorKeyGenerated,
  };
}
