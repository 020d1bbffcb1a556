import { z } from 'zod';

/** Roles one burnrate process can run; `all` runs every role in one process (laptops, tests). */
export const ROLES = [
  'clickhouse',
  'enricher',
  'ledger',
  'aggregator',
  'notifier',
  'api',
  'overview',
  'demo',
] as const;
export type Role = (typeof ROLES)[number];

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'])
  .transform((v) => ['true', '1', 'yes', 'on'].includes(v));
const list = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((s) =>
      s
        .split(',')
        .map((n) => n.trim())
        .filter(Boolean),
    );
const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);

/**
 * Every setting a burnrate process reads, by environment variable name. Defaults suit the local stack
 * started by `npm start`; docker-compose.yml and production override them.
 */
export const configSchema = z.object({
  BURNRATE_ROLES: z
    .string()
    .default('all')
    .transform((s, ctx) => {
      const names = s
        .split(',')
        .map((r) => r.trim())
        .filter(Boolean);
      if (names.includes('all')) return [...ROLES];
      for (const n of names) {
        if (!(ROLES as readonly string[]).includes(n)) {
          ctx.addIssue({ code: 'custom', message: `unknown role "${n}" (known: all, ${ROLES.join(', ')})` });
          return z.NEVER;
        }
      }
      return names as Role[];
    }),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  KAFKA_BROKERS: z
    .string()
    .min(1)
    .default('127.0.0.1:9092')
    .transform((s) => s.split(',').map((b) => b.trim())),
  KAFKA_CLIENT_ID: z.string().min(1).default('burnrate'),
  BURNRATE_TOPIC_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9._-]*$/, 'letters, digits, ".", "_" and "-" only')
    .default(''),
  KAFKA_TOPIC_PARTITIONS: int(1, 1024).default(4),
  /** Replicas of the topics burnrate creates; unset = min(3, brokers in the cluster). */
  KAFKA_REPLICATION_FACTOR: int(1, 10).optional(),
  /** min.insync.replicas of those topics; unset = replicas - 1, at least 1 and at most 2. */
  KAFKA_MIN_INSYNC_REPLICAS: int(1, 10).optional(),
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  CLICKHOUSE_URL: z.string().url().optional(),
  CLICKHOUSE_USER: z.string().default('default'),
  CLICKHOUSE_PASSWORD: z.string().default(''),
  CLICKHOUSE_DATABASE: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a plain identifier')
    .default('burnrate'),
  BURNRATE_DATA_DIR: z.string().min(1).default('.burnrate/dev/chdb'),
  CLICKHOUSE_HTTP_HOST: z.string().default('127.0.0.1'),
  CLICKHOUSE_HTTP_PORT: int(0, 65_535).default(8123),
  CLICKHOUSE_ANALYST_USER: z.string().min(1).default('analyst'),
  CLICKHOUSE_ANALYST_PASSWORD: z.string().default('analyst'),
  BURNRATE_PRICES_FILE: z.string().optional(),
  /** Per-customer price overrides (YAML or JSON, docs/pricing.md); unset = none. */
  BURNRATE_OVERRIDES_FILE: z.string().min(1).optional(),
  BURNRATE_LATE_HORIZON_HOURS: int(1).default(24 * 35),
  BURNRATE_MAX_FUTURE_SKEW_SECONDS: int(0).default(300),
  ENRICHER_TRANSACTIONAL_ID_PREFIX: z.string().min(1).optional(),
  ENRICHER_CONCURRENCY: int(1, 64).default(4),
  ENRICHER_DEDUP_WINDOW_SECONDS: int(0).default(900),
  /** How long a dead or frozen enricher keeps its partitions before the group moves them. */
  ENRICHER_SESSION_TIMEOUT_MS: int(6_000, 300_000).default(30_000),
  /** Testing only: `false` writes outputs and commits offsets without a transaction (the zombie negative control). */
  ENRICHER_TRANSACTIONAL: bool.default(true),
  /** Testing only: a pause between a batch's writes and its commit, widening the window a fault must hit. */
  ENRICHER_COMMIT_DELAY_MS: int(0, 60_000).default(0),
  LEDGER_FETCH_WAIT_MS: int(10, 60_000).default(500),
  /** How long a dead ledger keeps its partitions before the group moves them (broker minimum 6000). */
  LEDGER_SESSION_TIMEOUT_MS: int(6_000, 300_000).default(30_000),
  LEDGER_MAX_BATCH_BYTES: int(1024).default(8 * 1024 * 1024),
  /**
   * The broker holds a fetch until this many bytes are ready (or LEDGER_FETCH_WAIT_MS passes): every
   * INSERT costs ClickHouse a fixed part-write and merge overhead, so few large inserts beat many small.
   */
  LEDGER_MIN_BATCH_BYTES: int(1).default(4 * 1024 * 1024),
  /** Testing only: `false` turns off the replay guard and insert dedup (the negative control). */
  LEDGER_DEDUP: bool.default(true),
  /** Testing only: a pause between a stored batch and its offset commit, widening the crash window. */
  LEDGER_COMMIT_DELAY_MS: int(0, 60_000).default(0),
  /** Testing only: `false` skips the group check right before each insert (the zombie negative control). */
  LEDGER_FENCE: bool.default(true),
  /** Testing only: a pause between reading a batch and storing it, widening the window a freeze must hit. */
  LEDGER_INSERT_DELAY_MS: int(0, 60_000).default(0),
  LEDGER_RETRY_LOG_INTERVAL_MS: int(100).default(10_000),
  /** The alerting file: rule overrides and destinations (YAML or JSON); unset = built-in rules, no destinations. */
  BURNRATE_RULES_FILE: z.string().min(1).optional(),
  /** How often the alerting file is checked for changes. */
  BURNRATE_RULES_POLL_MS: int(100, 3_600_000).default(1_000),
  AGGREGATOR_FETCH_WAIT_MS: int(10, 60_000).default(250),
  /**
   * The broker holds the aggregator's fetch until this much is ready (or the wait passes): a batch
   * sums many events of one customer into one update, so larger batches cost Redis far less per event.
   */
  AGGREGATOR_MIN_BATCH_BYTES: int(1).default(1024 * 1024),
  AGGREGATOR_SESSION_TIMEOUT_MS: int(6_000, 300_000).default(30_000),
  /** Rows applied in one atomic Redis script: bounds how long one call keeps Redis busy. */
  AGGREGATOR_ROWS_PER_APPLY: int(1, 200_000).default(20_000),
  /** How often firing alerts that can resolve are re-judged (and a lost Redis is noticed while idle). */
  AGGREGATOR_SWEEP_MS: int(100, 600_000).default(5_000),
  /** Testing only: `false` turns off the watermark (the negative control of the crash test). */
  AGGREGATOR_WATERMARK: bool.default(true),
  /** Testing only: a pause between the Redis update and the offset commit. */
  AGGREGATOR_COMMIT_DELAY_MS: int(0, 60_000).default(0),
  /**
   * Networks webhook destinations may resolve to besides public addresses (comma-separated CIDRs,
   * e.g. 127.0.0.1/32 for a receiver on the same host). Everything private is refused otherwise.
   */
  NOTIFIER_ALLOWED_NETWORKS: z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((n) => n.trim())
        .filter(Boolean),
    ),
  /** One delivery request, connect to last byte. */
  NOTIFIER_TIMEOUT_MS: int(100, 120_000).default(10_000),
  NOTIFIER_CONCURRENCY: int(1, 256).default(8),
  /** Attempts per message and destination before it fails for good (then listed for replay). */
  NOTIFIER_ATTEMPTS: int(1, 1_000).default(15),
  NOTIFIER_BACKOFF_BASE_MS: int(10, 3_600_000).default(2_000),
  NOTIFIER_BACKOFF_MAX_MS: int(10, 86_400_000).default(300_000),
  /** A notifier that dies mid-send loses its job after this long, and another sends it. */
  NOTIFIER_LOCK_MS: int(1_000, 600_000).default(30_000),
  /**
   * An aggregator or notifier that dies after reading alerts or delivery records from its Redis
   * outbox, before handing them on, leaves them to another instance (or itself, restarted) after this long.
   */
  RELAY_CLAIM_MS: int(1_000, 600_000).default(30_000),
  /** The api role: where it listens (127.0.0.1 keeps it on this machine). */
  API_HOST: z.string().min(1).default('127.0.0.1'),
  API_PORT: int(0, 65_535).default(8787),
  /** The overview role: the read-only page for people without Grafana (docs/dashboards.md). */
  OVERVIEW_HOST: z.string().min(1).default('127.0.0.1'),
  OVERVIEW_PORT: int(0, 65_535).default(8788),
  /** Required when OVERVIEW_HOST is beyond loopback: the page then asks for it (docs/dashboards.md). */
  OVERVIEW_TOKEN: z.string().default(''),
  /** Host names the page may be reached under besides localhost, IP addresses and OVERVIEW_HOST. */
  OVERVIEW_ALLOWED_HOSTS: list(''),
  /** API keys (YAML or JSON, SHA-256 hashes only; `burnrate keys create`); unset = every request refused. */
  BURNRATE_KEYS_FILE: z.string().min(1).optional(),
  /** Largest POST /v1/events or /v1/traces body, after decompression. */
  INGEST_MAX_BODY_BYTES: int(1_024, 256 * 1024 * 1024).default(4 * 1024 * 1024),
  /** Most events in one POST /v1/events. */
  INGEST_MAX_BATCH_EVENTS: int(1, 100_000).default(1_000),
  /** Events per second per API key (token bucket); 0 = no limit. */
  INGEST_RATE_LIMIT_EVENTS_PER_SECOND: int(0).default(50_000),
  /** How long a request waits for Kafka's acknowledgement before it is answered 503. */
  INGEST_ACK_TIMEOUT_MS: int(100, 120_000).default(10_000),
  /** Events the api role holds for Kafka at once; past it requests get 429. */
  INGEST_MAX_QUEUE_EVENTS: int(1_000, 10_000_000).default(100_000),
  /** Span or resource attributes that name the customer_ref of an OTLP span, first found wins. */
  OTLP_CUSTOMER_ATTRIBUTES: list('burnrate.customer_ref'),
  /** Span or resource attributes that name the workflow (else the resource's service.name). */
  OTLP_WORKFLOW_ATTRIBUTES: list('burnrate.workflow,gen_ai.agent.name'),
  /** How often forecasts and the routing policy are recomputed from ClickHouse. */
  FORECAST_REFRESH_MS: int(1_000, 86_400_000).default(60_000),
  /** How much history they are computed from. */
  FORECAST_WINDOW_DAYS: int(1, 3_650).default(30),
  /** Fewer runs or steps than this: no forecast (too few to mean anything). */
  FORECAST_MIN_SAMPLE: int(1, 1_000_000).default(30),
  /** Calls a model needs in a workflow before the routing policy suggests it. */
  ROUTING_MIN_CALLS: int(1, 1_000_000).default(20),
  /** How much lower a cheaper model's mean quality_score may be and still be suggested. */
  ROUTING_QUALITY_TOLERANCE: z.coerce.number().min(0).max(1).default(0.02),
  DEMO_EVENTS_PER_SECOND: z.coerce.number().min(0).max(100_000).default(20),
  /** Demo role: also emit usage from earlier in the billing period (`npm start` does, once per state directory). */
  DEMO_BACKLOG: bool.default(false),
  /** Demo role: start one looping agent run this many ms after start (-1: none). */
  DEMO_LOOP_AFTER_MS: z.coerce.number().int().min(-1).max(3_600_000).default(10_000),
  SHUTDOWN_TIMEOUT_MS: int(100).default(30_000),
  /** Every process: /metrics, /healthz and /readyz (docs/operations.md); port 0 = any free port. */
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  METRICS_PORT: int(0, 65_535).default(9464),
  /** Readiness: a consumer group with no progress this long while its lag grows is stalled. */
  READY_STALL_MS: int(1_000, 86_400_000).default(60_000),
  /** Readiness: ClickHouse, Redis or Kafka failing this long turns it red. */
  READY_DEPENDENCY_GRACE_MS: int(0, 3_600_000).default(15_000),
  /** How often offsets, ClickHouse and Redis are probed. */
  READY_PROBE_INTERVAL_MS: int(100, 600_000).default(5_000),
});

export type Config = z.output<typeof configSchema>;
