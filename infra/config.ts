// Configuration comes from environment variables only, validated once at startup.
// Secrets have development defaults so `npm start` works on a fresh clone; production
// refuses both a missing secret and a development default.
import { z } from 'zod';
import { DEFAULT_DATABASE_URL } from './database-url';

export const DEV_SECRETS = {
  KEY_ENCRYPTION_KEY: Buffer.alloc(32, 'dev-key-encryption-key').toString('base64'),
  KEY_FINGERPRINT_SECRET: 'dev-key-fingerprint-secret-not-for-production',
  CLAIM_TOKEN_SECRET: 'dev-claim-token-secret-not-for-production',
  BOOTSTRAP_ADMIN_KEY: 'rp_dev_admin_key_not_for_production',
} as const;
type SecretName = keyof typeof DEV_SECRETS;

const port = z.coerce.number().int().min(1).max(65535);
const secret = z.string().min(32, 'must be at least 32 characters');
// A window's count is a PostgreSQL integer; Retry-After is in whole seconds.
const rateLimitRequests = z.coerce.number().int().min(0).max(1_000_000_000);
const rateLimitWindow = z.coerce.number().int().min(1_000).max(86_400_000);

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\/\S+$/, 'must be a postgresql:// URL')
    .default(DEFAULT_DATABASE_URL),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[\w.-]+:\d{1,5}$/, 'must be host:port')
    .default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('fulfillment'),
  /** Only `npm start` uses it: where the dev server's Web UI listens. */
  TEMPORAL_UI_PORT: port.default(8233),
  /** Only `npm start` uses it: where the supplier simulator (two demo suppliers) listens. */
  SUPPLIER_SIM_PORT: port.default(4100),
  /** Only `npm start` uses it: where stripe-mock listens when no STRIPE_API_KEY is set. */
  STRIPE_MOCK_PORT: port.default(12111),
  API_HOST: z.string().min(1).default('127.0.0.1'),
  API_PORT: port.default(3000),
  /** Base of the absolute URLs the API hands out (claim links); defaults to the API's own address. */
  PUBLIC_BASE_URL: z.url().optional(),
  KEY_ENCRYPTION_KEY: z
    .string()
    .refine((v) => Buffer.from(v, 'base64').length === 32, 'must be 32 bytes, base64-encoded')
    .optional(),
  /** Identifies KEY_ENCRYPTION_KEY in every ciphertext, so keys can be rotated. */
  KEY_ENCRYPTION_KEY_ID: z
    .string()
    .regex(/^[\w-]{1,32}$/, 'must be 1-32 letters, digits, _ or -')
    .default('k1'),
  KEY_FINGERPRINT_SECRET: secret.optional(),
  CLAIM_TOKEN_SECRET: secret.optional(),
  BOOTSTRAP_ADMIN_KEY: z.string().min(24, 'must be at least 24 characters').optional(),
  /** How often the catalog-sync schedule has every supplier quote its routes. */
  CATALOG_SYNC_INTERVAL_MS: z.coerce.number().int().min(10_000).max(86_400_000).default(300_000),
  /** How often the supplier-reconciliation schedule matches suppliers' records of sales to the platform's units. */
  SUPPLIER_RECONCILIATION_INTERVAL_MS: z.coerce.number().int().min(60_000).max(86_400_000).default(3_600_000),
  /**
   * An order's workflow starts right after its 202 (api/order-starts.ts); what a crash or a
   * Temporal outage left unstarted, each API process sweeps this often: orders still
   * `received` ORDER_START_SWEEP_IDLE_MS after intake get their (idempotent) start again.
   */
  ORDER_START_SWEEP_EVERY_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(10_000),
  ORDER_START_SWEEP_IDLE_MS: z.coerce.number().int().min(0).max(86_400_000).default(30_000),
  /**
   * How an order's failing step is retried and when the order parks (`StepBounds` in
   * workflows/order-messages.ts; docs/architecture.md, "Bounded retries"). Unset: production's
   * bounds, which live in the workflow. Set: carried in the input of orders started from then on.
   */
  ORDER_RETRY_MAX_MS: z.coerce.number().int().min(1).max(3_600_000).optional(),
  ORDER_RETRY_SLOW_AFTER_MS: z.coerce.number().int().min(0).max(86_400_000).optional(),
  ORDER_RETRY_SLOW_MAX_MS: z.coerce.number().int().min(1).max(3_600_000).optional(),
  ORDER_PARK_AFTER_MS: z.coerce.number().int().min(0).max(2_592_000_000).optional(), // ≤ 30 days
  ORDER_PARK_HISTORY_EVENTS: z.coerce.number().int().min(50).max(40_000).optional(),
  /**
   * Subscriptions (workflows/subscription-messages.ts): the renewal notice's lead, the dunning
   * retries after a failed renewal (seconds after its first attempt, increasing), and the hold
   * before a suspended subscription expires. Carried in the input of subscriptions started from then on.
   */
  SUBSCRIPTION_NOTICE_SECONDS: z.coerce.number().int().min(1).max(2_592_000).default(432_000), // 5 days
  SUBSCRIPTION_RETRY_OFFSETS_SECONDS: z
    .string()
    .regex(/^(\d{1,8}(,\d{1,8}){0,19})?$/, 'must be up to 20 comma-separated whole seconds')
    .transform((v) => (v === '' ? [] : v.split(',').map(Number)))
    .refine((offsets) => offsets.every((o, i) => o > (offsets[i - 1] ?? 0)), 'must be positive and increasing')
    .default([86_400, 259_200, 432_000, 604_800]), // 1, 3, 5 and 7 days
  SUBSCRIPTION_HOLD_SECONDS: z.coerce.number().int().min(1).max(31_536_000).default(2_592_000), // 30 days
  /** Periods a renewal run charges before it continues as new. */
  SUBSCRIPTION_PERIODS_PER_RUN: z.coerce.number().int().min(1).max(1_000).default(12),
  /** Tests only: a month lasts this many seconds (a quarter 3×, a year 12×) instead of the calendar's. */
  SUBSCRIPTION_SECONDS_PER_MONTH: z.coerce.number().int().min(1).max(86_400).optional(),
  /** Card payments through Stripe; unset, orders can pay from their prepaid balance only. */
  STRIPE_API_KEY: z
    .string()
    .regex(/^(sk|rk)_(test|live)_\w+$/, 'must be a Stripe secret or restricted key')
    .optional(),
  /** Where the Stripe API is (tests and `npm start` point it at stripe-mock). */
  STRIPE_API_BASE: z.url({ protocol: /^https?$/ }).default('https://api.stripe.com'),
  /** The signing secret of the Stripe webhook endpoint; unset, Stripe webhooks are refused. */
  STRIPE_WEBHOOK_SECRET: z.string().min(8).optional(),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
  /** Requests per API key per window, counted over every API process; 0 turns the limit off. */
  RATE_LIMIT_CLIENT_REQUESTS: rateLimitRequests.default(6_000),
  RATE_LIMIT_CLIENT_WINDOW_MS: rateLimitWindow.default(60_000),
  /** Claim-link requests per client IP per window (a buyer guessing tokens); 0 turns the limit off. */
  RATE_LIMIT_CLAIM_IP_REQUESTS: rateLimitRequests.default(30),
  RATE_LIMIT_CLAIM_IP_WINDOW_MS: rateLimitWindow.default(60_000),
  /** Bad keys (voided with a reason after delivery) of one import batch that quarantine it. */
  QUARANTINE_BATCH_VOIDS: z.coerce.number().int().min(1).max(1_000_000).default(3),
  /** Bad keys of one supplier for one product within QUARANTINE_SUPPLIER_WINDOW_MS that pause its route. */
  QUARANTINE_SUPPLIER_VOIDS: z.coerce.number().int().min(1).max(1_000_000).default(3),
  QUARANTINE_SUPPLIER_WINDOW_MS: z.coerce.number().int().min(60_000).max(7_776_000_000).default(86_400_000), // ≤ 90 days
  /**
   * Hosts and networks webhooks and callbacks may reach although they are not public
   * (comma-separated names, addresses, CIDRs). Unset: loopback in development and tests (so
   * local receivers work), nothing in production. `none` allows nothing anywhere.
   */
  OUTBOUND_URL_ALLOWLIST: z
    .string()
    .regex(/^[\w.:/,\s-]*$/, 'must be comma-separated host names, addresses or CIDR networks')
    .optional(),
});

type Raw = z.infer<typeof schema>;
export type Config = Omit<Raw, SecretName | 'PUBLIC_BASE_URL' | 'OUTBOUND_URL_ALLOWLIST'> &
  Record<Exclude<SecretName, 'BOOTSTRAP_ADMIN_KEY'>, string> & {
    BOOTSTRAP_ADMIN_KEY?: string;
    PUBLIC_BASE_URL: string;
    OUTBOUND_URL_ALLOWLIST: string;
  };

const LOOPBACK_ONLY = '127.0.0.0/8,::1,localhost';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.join('\n')}`);
  }
}

/** Parses the environment; throws ConfigError listing one line per bad variable. */
export function parseConfig(env: NodeJS.ProcessEnv): Config {
  // An empty variable means "not set", as in most shells' `VAR= cmd`.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(present);
  const problems = new Map<string, string>();
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? 'environment');
      if (!problems.has(name)) problems.set(name, issue.message);
    }
  }
  const production = present.NODE_ENV === 'production';
  const secrets: Partial<Record<SecretName, string>> = {};
  for (const name of Object.keys(DEV_SECRETS) as SecretName[]) {
    if (problems.has(name)) continue;
    const value = present[name];
    if (!production) secrets[name] = value ?? DEV_SECRETS[name];
    else if (value === DEV_SECRETS[name]) problems.set(name, 'the development default is not allowed in production');
    // Without a bootstrap key production simply creates no admin at startup.
    else if (value === undefined && name !== 'BOOTSTRAP_ADMIN_KEY') problems.set(name, 'required in production');
    else secrets[name] = value;
  }
  if (production && present.SUBSCRIPTION_SECONDS_PER_MONTH !== undefined) {
    problems.set('SUBSCRIPTION_SECONDS_PER_MONTH', 'not allowed in production: periods follow the calendar');
  }
  if (!parsed.success || problems.size > 0) {
    throw new ConfigError([...problems].map(([name, message]) => `${name}: ${message}`));
  }
  const raw = parsed.data;
  return {
    ...raw,
    ...(secrets as Record<Exclude<SecretName, 'BOOTSTRAP_ADMIN_KEY'>, string>),
    BOOTSTRAP_ADMIN_KEY: secrets.BOOTSTRAP_ADMIN_KEY,
    PUBLIC_BASE_URL: (raw.PUBLIC_BASE_URL ?? `http://${raw.API_HOST}:${raw.API_PORT}`).replace(/\/+$/, ''),
    OUTBOUND_URL_ALLOWLIST:
      raw.OUTBOUND_URL_ALLOWLIST === 'none' ? '' : (raw.OUTBOUND_URL_ALLOWLIST ?? (production ? '' : LOOPBACK_ONLY)),
  };
}

/** For process entry points: exits 1 with one line per problem instead of a stack trace. */
export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env): Config {
  try {
    return parseConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const line of err.problems) process.stderr.write(`config error: ${line}\n`);
    process.exit(1);
  }
}
