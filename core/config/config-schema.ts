import { z } from 'zod';
import { DEFAULT_SIGNAL_THRESHOLDS, SignalThresholdsSchema } from '../signals/early-signal.js';
import { DEFAULT_INSPECTION_CONFIG, InspectionConfigSchema } from '../inspection/inspection-policy.js';
import { SecretHostSchema } from './secret-hosts.js';

/** `true/false/1/0/yes/no/on/off` from env or YAML; `z.coerce.boolean` would read "false" as true. */
const flag = z.preprocess((v) => {
  if (typeof v !== 'string') return v;
  const s = v.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(s)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(s)) return false;
  return v;
}, z.boolean());

/** Monday 08:00 for last week, the first day of a quarter 08:00 for the quarter before. */
const DEFAULT_REPORT_SCHEDULES = [
  { id: 'weekly', kind: 'week' as const, cron: '0 8 * * 1', scope: 'unit', channelId: 'inapp', recipients: [] },
  { id: 'quarterly', kind: 'quarter' as const, cron: '0 8 1 1,4,7,10 *', scope: 'unit', channelId: 'inapp', recipients: [] },
];

/** Every role reads the same schema; env overrides YAML, YAML overrides these defaults. */
export const ConfigSchema = z.object({
  unit: z
    .object({
      name: z.string().min(1).default('青山县人民政府'),
      timezone: z.string().default('Asia/Shanghai'),
    })
    .default({ name: '青山县人民政府', timezone: 'Asia/Shanghai' }),
  api: z
    .object({
      host: z.string().min(1).default('127.0.0.1'),
      port: z.coerce.number().int().min(0).max(65535).default(8600),
      sessionTtlHours: z.coerce.number().positive().default(12),
      /** The dashboard's address as staff reach it; notifications link here. Defaults to http://host:port/. */
      publicUrl: z.string().url().optional(),
    })
    .default({ host: '127.0.0.1', port: 8600, sessionTtlHours: 12 }),
  redis: z
    .object({
      url: z.string().url().default('redis://127.0.0.1:6379'),
      /** Key prefix for every queue and key this deployment writes. */
      prefix: z.string().regex(/^[a-zA-Z0-9:_-]+$/).default('qs'),
      /** How often each process reads the sentinel `<prefix>:epoch` to notice that Redis lost its data (and re-create its job schedulers). */
      epochCheckSeconds: z.coerce.number().positive().default(5),
    })
    .default({ url: 'redis://127.0.0.1:6379', prefix: 'qs', epochCheckSeconds: 5 }),
  elasticsearch: z
    .object({
      url: z.string().url().default('http://127.0.0.1:9200'),
      username: z.string().optional(),
      password: z.string().optional(),
      /** Every index name starts with this; tests use a random one. */
      indexPrefix: z.string().regex(/^[a-z0-9_-]+$/).default('qianshao'),
    })
    .default({ url: 'http://127.0.0.1:9200', indexPrefix: 'qianshao' }),
  crawl: z
    .object({
      /** Default schedule for a source without its own. */
      everySeconds: z.coerce.number().int().min(5).default(60),
      maxRequestsPerRun: z.coerce.number().int().positive().default(200),
      requestTimeoutSeconds: z.coerce.number().int().positive().default(15),
      /** Failed runs in a row before a source-health alert (one blip raises nothing). */
      alertAfterFailures: z.coerce.number().int().positive().default(3),
      /** While a source keeps failing, its alert is repeated this often. */
      remindEveryMinutes: z.coerce.number().int().positive().default(60),
      /** Days without a new post before a position is flagged zombie (some localities use 10). */
      zombieDays: z.coerce.number().int().positive().default(14),
      /** A position collected on an interval whose runs stop coming for three intervals, and at least this long, raises a 采集停滞 alert. */
      stallAfterMinutes: z.coerce.number().int().positive().default(15),
      /** Where raw page snapshots and screenshots are kept (relative to the repository). */
      evidenceDir: z.string().min(1).default('.data/evidence'),
    })
    .default({ everySeconds: 60, maxRequestsPerRun: 200, requestTimeoutSeconds: 15, alertAfterFailures: 3, remindEveryMinutes: 60, zombieDays: 14, stallAfterMinutes: 15, evidenceDir: '.data/evidence' }),
  pipeline: z
    .object({
      /** Ingest items in flight per worker process, over one-item and batch jobs; their Elasticsearch writes share bulk requests. */
      ingestConcurrency: z.coerce.number().int().positive().max(1000).default(128),
      /** A bulk request is sent this long after its first write, or when 500 writes wait. */
      bulkFlushMs: z.coerce.number().int().min(1).max(5000).default(15),
      /** Near-duplicate posts further apart than this never join one event. */
      eventWindowHours: z.coerce.number().positive().max(24 * 90).default(72),
      /** A post's seen record (dedupe) is kept this long after the post last reached ingest; a post met again later is recovered from its indexed document. */
      seenRetentionDays: z.coerce.number().positive().max(3650).default(30),
      signals: SignalThresholdsSchema.default(DEFAULT_SIGNAL_THRESHOLDS),
    })
    .default({ ingestConcurrency: 128, bulkFlushMs: 15, eventWindowHours: 72, seenRetentionDays: 30, signals: DEFAULT_SIGNAL_THRESHOLDS }),
  /** Website self-inspection (网站自查): the inspector's numbers and the availability prober. */
  inspection: InspectionConfigSchema.default(DEFAULT_INSPECTION_CONFIG),
  demo: z
    .object({
      enabled: flag.default(false),
      /** Port of the local demo website that stands in for the unit's positions. */
      sitePort: z.coerce.number().int().min(0).max(65535).default(8601),
      /** A new citizen comment or message appears on the demo site this often. */
      liveIntervalSeconds: z.coerce.number().int().positive().default(20),
    })
    .default({ enabled: false, sitePort: 8601, liveIntervalSeconds: 20 }),
  secrets: z
    .object({
      /**
       * A secret's env var named through the API (a source's credentials, a channel's URL, key or
       * password) must start with one of these (and `DEMO_` while the demo runs), so that nobody who
       * may edit positions or channels can have the host's own secrets (`ES_PASSWORD`,
       * `AUDIT_CHECKPOINT_KEY`) sent to a host of their choosing. YAML written on the server names any.
       */
      envPrefixes: z.array(z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'upper-case letters, digits, underscores')).min(1).default(['QS_']),
      /**
       * Per secret's env var, the hosts (`host[:port]`, as `URL.host`) its value may be sent to. A
       * secret named through the API needs one that covers the position's or channel's hosts; every
       * sender and crawler refuses a bound secret bound elsewhere. File only: no env var sets it.
       */
      hosts: z.record(z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'the NAME of an environment variable'), z.array(SecretHostSchema).min(1)).default({}),
    })
    .default({ envPrefixes: ['QS_'], hosts: {} }),
  auth: z
    .object({
      /** Lock-out: this many failed log-ins within the window lock the account for `lockMinutes`. */
      maxFailures: z.coerce.number().int().min(1).default(5),
      windowMinutes: z.coerce.number().positive().default(15),
      lockMinutes: z.coerce.number().positive().default(15),
      /**
       * Log-in attempts one client address may make a minute, whatever usernames it tries (a duty
       * room behind one NAT address signs in a few times a day; a guesser spraying usernames would
       * otherwise only be held back by each account's lock-out).
       */
      loginsPerAddressPerMinute: z.coerce.number().int().min(1).default(30),
    })
    .default({ maxFailures: 5, windowMinutes: 15, lockMinutes: 15, loginsPerAddressPerMinute: 30 }),
  ledger: z
    .object({
      /** How often the worker looks for ledger items coming due or overdue. */
      checkEverySeconds: z.coerce.number().positive().default(60),
      /** Warn the responsible person at this fraction of the time allowed. */
      dueSoonFraction: z.coerce.number().min(0).max(1).default(0.8),
      /** Escalate to the leaders when an item stays overdue this long. */
      escalateAfterMinutes: z.coerce.number().min(0).default(1440),
      /** Notification channel ids ledger reminders go through. */
      channels: z.array(z.string().min(1)).default(['inapp']),
    })
    .default({ checkEverySeconds: 60, dueSoonFraction: 0.8, escalateAfterMinutes: 1440, channels: ['inapp'] }),
  audit: z
    .object({
      /** HMAC key for audit checkpoints (≥ 32 chars); when absent, the key file is used (and created). */
      checkpointKey: z.string().min(32).optional(),
      checkpointKeyFile: z.string().min(1).default('.data/audit-checkpoint.key'),
      checkpointEveryMinutes: z.coerce.number().positive().default(10),
    })
    .default({ checkpointKeyFile: '.data/audit-checkpoint.key', checkpointEveryMinutes: 10 }),
  reports: z
    .object({
      /** Periodic reports generated on a schedule (cron in the unit's time zone) and announced with a link. */
      schedules: z
        .array(
          z.object({
            id: z.string().regex(/^[a-z0-9-]+$/),
            kind: z.enum(['week', 'month', 'quarter', 'year']),
            cron: z.string().min(9),
            scope: z.string().default('unit'),
            channelId: z.string().default('inapp'),
            recipients: z.array(z.string()).default([]),
          }),
        )
        .default(DEFAULT_REPORT_SCHEDULES),
    })
    .default({ schedules: DEFAULT_REPORT_SCHEDULES }),
  alerting: z
    .object({
      /** How often the reconciler re-arms escalation clocks Redis lost. */
      reconcileEverySeconds: z.coerce.number().positive().default(60),
      escalateConcurrency: z.coerce.number().int().positive().default(8),
    })
    .default({ reconcileEverySeconds: 60, escalateConcurrency: 8 }),
  log: z
    .object({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    })
    .default({ level: 'info' }),
});
export type Config = z.infer<typeof ConfigSchema>;

/** Env vars, by concern, and the config path each one sets. */
export const ENV_BINDINGS: ReadonlyArray<readonly [env: string, path: readonly string[]]> = [
  ['API_HOST', ['api', 'host']],
  ['API_PORT', ['api', 'port']],
  ['PUBLIC_URL', ['api', 'publicUrl']],
  ['REDIS_URL', ['redis', 'url']],
  ['REDIS_PREFIX', ['redis', 'prefix']],
  ['REDIS_EPOCH_CHECK_SECONDS', ['redis', 'epochCheckSeconds']],
  ['ES_URL', ['elasticsearch', 'url']],
  ['ES_USERNAME', ['elasticsearch', 'username']],
  ['ES_PASSWORD', ['elasticsearch', 'password']],
  ['ES_INDEX_PREFIX', ['elasticsearch', 'indexPrefix']],
  ['CRAWL_EVERY_SECONDS', ['crawl', 'everySeconds']],
  ['CRAWL_STALL_AFTER_MINUTES', ['crawl', 'stallAfterMinutes']],
  ['CRAWL_ALERT_AFTER_FAILURES', ['crawl', 'alertAfterFailures']],
  ['CRAWL_ZOMBIE_DAYS', ['crawl', 'zombieDays']],
  ['EVIDENCE_DIR', ['crawl', 'evidenceDir']],
  ['INGEST_CONCURRENCY', ['pipeline', 'ingestConcurrency']],
  ['BULK_FLUSH_MS', ['pipeline', 'bulkFlushMs']],
  ['EVENT_WINDOW_HOURS', ['pipeline', 'eventWindowHours']],
  ['SEEN_RETENTION_DAYS', ['pipeline', 'seenRetentionDays']],
  ['PROBE_EVERY_MINUTES', ['inspection', 'prober', 'everyMinutes']],
  ['DEMO', ['demo', 'enabled']],
  ['DEMO_SITE_PORT', ['demo', 'sitePort']],
  ['DEMO_LIVE_INTERVAL_SECONDS', ['demo', 'liveIntervalSeconds']],
  ['AUTH_MAX_FAILURES', ['auth', 'maxFailures']],
  ['AUTH_LOCK_MINUTES', ['auth', 'lockMinutes']],
  ['AUTH_LOGINS_PER_ADDRESS_PER_MINUTE', ['auth', 'loginsPerAddressPerMinute']],
  ['LEDGER_CHECK_EVERY_SECONDS', ['ledger', 'checkEverySeconds']],
  ['LEDGER_ESCALATE_AFTER_MINUTES', ['ledger', 'escalateAfterMinutes']],
  ['AUDIT_CHECKPOINT_KEY', ['audit', 'checkpointKey']],
  ['AUDIT_CHECKPOINT_KEY_FILE', ['audit', 'checkpointKeyFile']],
  ['AUDIT_CHECKPOINT_EVERY_MINUTES', ['audit', 'checkpointEveryMinutes']],
  ['ALERT_RECONCILE_EVERY_SECONDS', ['alerting', 'reconcileEverySeconds']],
  ['LOG_LEVEL', ['log', 'level']],
];
