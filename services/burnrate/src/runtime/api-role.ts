import { createAlertingSource } from '../alerting/alerting-file.js';
import type { Config } from '../config/load.js';
import { aggregateKeys } from '../redis/aggregate-keys.js';
import { createAggregateReader } from '../redis/aggregate-reader.js';
import { connectRedis } from '../redis/connect.js';
import { createBudgetHandler } from '../roles/api/budget.js';
import { createHistoryCache } from '../roles/api/history-cache.js';
import { createIngestSink } from '../roles/api/ingest-sink.js';
import { type KeyRing, parseKeysFile } from '../roles/api/keys.js';
import { createOtlpTraceMapper } from '../roles/api/otlp/mapper.js';
import { createRateLimiter } from '../roles/api/rate-limit.js';
import { createApiServer } from '../roles/api/server.js';
import { createReferenceData } from '../roles/enricher/reference-data.js';
import type { SharedClients } from './alerting-roles.js';
import type { Fatal } from './fatal.js';
import { createFollowedFile } from './followed-file.js';
import type { Health } from './health.js';
import type { Component } from './lifecycle.js';
import type { Metrics } from './metrics.js';

/**
 * The `api` role: HTTP and OTLP ingest, the budget guardrail and forecasts. It reads the keys file,
 * the customers topic (customer_ref → customer, budget), the alerting file (guardrail settings and
 * run caps), the rolling aggregates in Redis and the history in ClickHouse; it writes only to
 * `usage.events`, through the client library's emitter.
 */
export function apiRole(
  config: Config,
  deps: SharedClients & { metrics?: Metrics; health?: Health; fatal?: Fatal },
): Component[] & { server?: ReturnType<typeof createApiServer> } {
  const logger = deps.logger.child({ role: 'api' });
  // The guardrail's reads: one connection that sends the commands of concurrent requests together.
  // Fails within a second while Redis is away (the answer is then 503 with Retry-After) instead of
  // holding the request until it is back.
  const redis = deps.redis.duplicate({
    enableAutoPipelining: true,
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    commandTimeout: 1_000,
  });
  redis.on('error', (error) => logger.debug({ err: error }, 'guardrail Redis connection error'));
  const clock = deps.clock ?? Date.now;
  const keysFile = config.BURNRATE_KEYS_FILE
    ? createFollowedFile<KeyRing>(
        {
          setting: 'BURNRATE_KEYS_FILE',
          label: 'API keys',
          file: config.BURNRATE_KEYS_FILE,
          pollMs: config.BURNRATE_RULES_POLL_MS,
          parse: parseKeysFile,
          describe: (ring) => ({ keys: [...ring.keys()] }),
        },
        { logger },
      )
    : undefined;
  const rules = createAlertingSource(
    { file: config.BURNRATE_RULES_FILE, pollMs: config.BURNRATE_RULES_POLL_MS },
    { env: deps.env ?? {}, logger },
  );
  const reference = createReferenceData(
    { topic: deps.topics.customers, pricesFile: config.BURNRATE_PRICES_FILE },
    // A customers follower that crashes for good stops the process rather than serve a stale table.
    { kafka: deps.kafka, logger, fatal: deps.fatal },
  );
  const history = createHistoryCache(
    {
      database: config.CLICKHOUSE_DATABASE,
      refreshMs: config.FORECAST_REFRESH_MS,
      windowDays: config.FORECAST_WINDOW_DAYS,
      minSample: config.FORECAST_MIN_SAMPLE,
      routingMinCalls: config.ROUTING_MIN_CALLS,
      routingQualityTolerance: config.ROUTING_QUALITY_TOLERANCE,
    },
    { clickhouse: deps.clickhouse, logger, clock },
  );
  const sink = createIngestSink(
    {
      topic: deps.topics.events,
      ackTimeoutMs: config.INGEST_ACK_TIMEOUT_MS,
      maxQueueEvents: config.INGEST_MAX_QUEUE_EVENTS,
      lingerMs: 5,
    },
    { kafka: deps.kafka, logger },
  );
  const server = createApiServer(
    {
      host: config.API_HOST,
      port: config.API_PORT,
      maxBodyBytes: config.INGEST_MAX_BODY_BYTES,
      maxBatchEvents: config.INGEST_MAX_BATCH_EVENTS,
    },
    {
      keys: () => keysFile?.current() ?? null,
      sink,
      history,
      budget: createBudgetHandler({
        customers: reference.customers,
        reader: createAggregateReader(redis, aggregateKeys(config.BURNRATE_TOPIC_PREFIX)),
        rules: () => rules.current().rules,
        history,
        clock,
      }),
      otlp: createOtlpTraceMapper({
        customerAttributes: config.OTLP_CUSTOMER_ATTRIBUTES,
        workflowAttributes: config.OTLP_WORKFLOW_ATTRIBUTES,
      }),
      limiter: createRateLimiter(config.INGEST_RATE_LIMIT_EVENTS_PER_SECOND, config.INGEST_MAX_BATCH_EVENTS),
      logger,
      health: deps.health,
      metrics: deps.metrics,
    },
  );
  if (!keysFile) logger.warn('no BURNRATE_KEYS_FILE: every API request is refused until keys are configured');
  const components: Component[] & { server?: typeof server } = [
    ...(keysFile ? [keysFile] : []),
    {
      name: 'api-redis',
      start: () => connectRedis(redis, config.REDIS_URL),
      stop: async () => void (await redis.quit().catch(() => redis.disconnect())),
    },
    rules,
    reference,
    history,
    sink,
    server,
  ];
  components.server = server;
  return components;
}
