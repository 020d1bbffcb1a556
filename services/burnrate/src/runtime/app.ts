import { resolve } from 'node:path';
import { BurnrateError } from '@burnrate/core';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import {
  type ClickHouseClient,
  type ClickHouseTarget,
  createClickHouseClient,
} from '../clickhouse/client.js';
import { classifyClickHouseError } from '../clickhouse/errors.js';
import { migrate } from '../clickhouse/migrate.js';
import type { Config } from '../config/load.js';
import { createKafka } from '../kafka/client.js';
import { ensureTopics, topicNames } from '../kafka/topics.js';
import { connectRedis } from '../redis/connect.js';
import { createClickHouseRole } from '../roles/clickhouse-role.js';
import { createDemo } from '../roles/demo.js';
import { EventDeduper } from '../roles/enricher/dedup.js';
import { createEnricher } from '../roles/enricher/enricher.js';
import { createReferenceData } from '../roles/enricher/reference-data.js';
import { createLedger } from '../roles/ledger/ledger.js';
import { createOverview } from '../roles/overview/server.js';
import { alertingRoles } from './alerting-roles.js';
import { apiRole } from './api-role.js';
import type { Fatal } from './fatal.js';
import { Health } from './health.js';
import { httpUrl } from './http-url.js';
import type { Component } from './lifecycle.js';
import { Metrics } from './metrics.js';
import { createOpsServer } from './ops-server.js';
import { createProbes, type WatchedGroup } from './probes.js';

/** Where this process reaches ClickHouse: a server, the chDB it owns, or the owner's HTTP endpoint. */
export function clickHouseTarget(config: Config): ClickHouseTarget {
  if (config.CLICKHOUSE_URL) {
    return {
      kind: 'server',
      url: config.CLICKHOUSE_URL,
      username: config.CLICKHOUSE_USER,
      password: config.CLICKHOUSE_PASSWORD,
    };
  }
  if (config.BURNRATE_ROLES.includes('clickhouse'))
    return { kind: 'embedded', path: resolve(config.BURNRATE_DATA_DIR) };
  return {
    kind: 'server',
    url: httpUrl(config.CLICKHOUSE_HTTP_HOST, config.CLICKHOUSE_HTTP_PORT),
    username: config.CLICKHOUSE_USER,
    password: config.CLICKHOUSE_PASSWORD,
  };
}

/** Where to connect to a listener bound to `host`: a wildcard address is reached on loopback. */
function loopbackFor(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '[::]') return '127.0.0.1';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** A ClickHouse that cannot be reached or refuses at start-up, in one sentence naming the setting. */
function clickHouseBootError(error: unknown, target: ClickHouseTarget): BurnrateError {
  const e = classifyClickHouseError(error, 'the start-up migrations');
  const where =
    target.kind === 'server'
      ? `ClickHouse at ${new URL(target.url).host} (CLICKHOUSE_URL, or the clickhouse role's CLICKHOUSE_HTTP_HOST/PORT)`
      : `the embedded ClickHouse in ${target.path} (BURNRATE_DATA_DIR)`;
  return new BurnrateError(e.code, `${where} could not be used: ${e.message}`, {
    retriable: e.retriable,
    field: target.kind === 'server' ? 'CLICKHOUSE_URL' : 'BURNRATE_DATA_DIR',
    cause: error,
  });
}

export interface AppDeps {
  logger: Logger;
  /** Where roles report a failure they cannot recover from; the process then stops non-zero. */
  fatal: Fatal;
  /** For `${NAME}` in the alerting file (secrets kept out of it); nothing else reads the environment. */
  env?: Readonly<Record<string, string | undefined>>;
  clock?: () => number;
}

export interface App {
  /** In start order; the lifecycle stops them in reverse, so clients close after their roles. */
  components: Component[];
  /** The ClickHouse client roles share, when one of them needs it. */
  clickhouse: ClickHouseClient | undefined;
  /** This process's metrics registry, health model and /metrics /healthz /readyz server. */
  metrics: Metrics;
  health: Health;
  ops: ReturnType<typeof createOpsServer>;
}

/**
 * Wires the roles this process runs, explicitly: every client (Kafka, ClickHouse, Redis) is created
 * here, once, and handed to the roles that use it. Creating connects nothing; components connect
 * in start() and close in stop().
 */
export function createApp(config: Config, deps: AppDeps): App {
  const { logger } = deps;
  const clock = deps.clock ?? Date.now;
  const runtimeLog = logger.child({ role: 'runtime' });
  const metrics = new Metrics();
  const health = new Health(clock());
  // A role that cannot go on turns /healthz and /readyz red while the process stops.
  const fatal: Fatal = (error) => {
    health.crashed(clock(), error.message);
    deps.fatal(error);
  };
  const ops = createOpsServer(
    { host: config.METRICS_HOST, port: config.METRICS_PORT },
    { health, metrics, logger: runtimeLog, clock },
  );
  const watched: WatchedGroup[] = [];
  const roles = new Set(config.BURNRATE_ROLES);
  const topics = topicNames(config.BURNRATE_TOPIC_PREFIX);
  const kafka = createKafka({
    brokers: config.KAFKA_BROKERS,
    clientId: config.KAFKA_CLIENT_ID,
    logger: runtimeLog,
  });
  const alerting = roles.has('aggregator') || roles.has('notifier');
  const api = roles.has('api');
  const clickhouse =
    roles.has('clickhouse') || roles.has('ledger') || alerting || api || roles.has('overview')
      ? createClickHouseClient(clickHouseTarget(config))
      : undefined;
  // One connection for commands; BullMQ workers and the outbox relays make their own blocking ones.
  const redis =
    roles.has('enricher') || alerting || api
      ? new Redis(config.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: null })
      : undefined;
  const components: Component[] = [
    ops,
    {
      name: 'kafka-topics',
      start: () =>
        ensureTopics(kafka, topics, {
          partitions: config.KAFKA_TOPIC_PARTITIONS,
          replicationFactor: config.KAFKA_REPLICATION_FACTOR,
          logger: runtimeLog,
          minInsyncReplicas: config.KAFKA_MIN_INSYNC_REPLICAS,
        }),
      stop: async () => {},
    },
  ];
  if (clickhouse) {
    components.push({
      name: 'clickhouse-client',
      start: async () => {
        try {
          await migrate(clickhouse, config.CLICKHOUSE_DATABASE);
        } catch (error) {
          throw clickHouseBootError(error, clickHouseTarget(config));
        }
      },
      stop: () => clickhouse.close(),
    });
    if (roles.has('clickhouse') && !config.CLICKHOUSE_URL) {
      components.push(createClickHouseRole(config, { clickhouse, logger: runtimeLog }));
    }
  }
  if (redis) {
    // Through pino with the others (ioredis would print to stderr); the redis check reports outages.
    redis.on('error', (error) => runtimeLog.debug({ err: error }, 'Redis connection error'));
    components.push({
      name: 'redis',
      start: () => connectRedis(redis, config.REDIS_URL),
      stop: async () => void (await redis.quit().catch(() => redis.disconnect())),
    });
  }
  if (clickhouse && roles.has('ledger')) {
    const groupId = `${config.BURNRATE_TOPIC_PREFIX}burnrate-ledger`;
    watched.push({ role: 'ledger', groupId, topics: [topics.enriched, topics.dlq] });
    components.push(
      createLedger(
        {
          database: config.CLICKHOUSE_DATABASE,
          topics,
          groupId,
          fetchWaitMs: config.LEDGER_FETCH_WAIT_MS,
          maxBatchBytes: config.LEDGER_MAX_BATCH_BYTES,
          minBatchBytes: config.LEDGER_MIN_BATCH_BYTES,
          dedup: config.LEDGER_DEDUP,
          commitDelayMs: config.LEDGER_COMMIT_DELAY_MS,
          fence: config.LEDGER_FENCE,
          insertDelayMs: config.LEDGER_INSERT_DELAY_MS,
          sessionTimeoutMs: config.LEDGER_SESSION_TIMEOUT_MS,
          retryLogIntervalMs: config.LEDGER_RETRY_LOG_INTERVAL_MS,
        },
        { kafka, clickhouse, logger, fatal, metrics },
      ),
    );
  }
  if (redis && roles.has('enricher')) {
    const reference = createReferenceData(
      {
        topic: topics.customers,
        pricesTopic: topics.prices,
        pricesFile: config.BURNRATE_PRICES_FILE,
        overridesFile: config.BURNRATE_OVERRIDES_FILE,
      },
      { kafka, logger: logger.child({ role: 'enricher' }), fatal },
    );
    watched.push({
      role: 'enricher',
      groupId: `${config.BURNRATE_TOPIC_PREFIX}burnrate-enricher`,
      topics: [topics.events],
    });
    const deduper =
      config.ENRICHER_DEDUP_WINDOW_SECONDS > 0
        ? new EventDeduper(
            redis,
            `${config.BURNRATE_TOPIC_PREFIX}burnrate:dedup:`,
            config.ENRICHER_DEDUP_WINDOW_SECONDS,
          )
        : undefined;
    const stage = reference.stage({
      lateHorizonMs: config.BURNRATE_LATE_HORIZON_HOURS * 3_600_000,
      maxFutureSkewMs: config.BURNRATE_MAX_FUTURE_SKEW_SECONDS * 1_000,
    });
    components.push(
      reference,
      createEnricher(
        {
          topics,
          groupId: `${config.BURNRATE_TOPIC_PREFIX}burnrate-enricher`,
          transactionalIdPrefix:
            config.ENRICHER_TRANSACTIONAL_ID_PREFIX ?? `${config.BURNRATE_TOPIC_PREFIX}burnrate-enricher`,
          concurrency: config.ENRICHER_CONCURRENCY,
          sessionTimeoutMs: config.ENRICHER_SESSION_TIMEOUT_MS,
          transactional: config.ENRICHER_TRANSACTIONAL,
          commitDelayMs: config.ENRICHER_COMMIT_DELAY_MS,
        },
        { kafka, stage, deduper, logger, fatal, metrics },
      ),
    );
  }
  if (redis && clickhouse && alerting) {
    if (roles.has('aggregator')) {
      const groupId = `${config.BURNRATE_TOPIC_PREFIX}burnrate-aggregator`;
      watched.push({ role: 'aggregator', groupId, topics: [topics.enriched] });
    }
    const [source, ...rest] = alertingRoles(config, {
      ...deps,
      fatal,
      metrics,
      kafka,
      redis,
      clickhouse,
      topics,
    });
    // The alerting file is validated first: a typo in it should not wait for connections to fail.
    components.unshift(source!);
    components.push(...rest);
  }
  if (redis && clickhouse && api) {
    components.push(...apiRole(config, { ...deps, metrics, health, kafka, redis, clickhouse, topics }));
  }
  if (clickhouse && roles.has('overview')) {
    // The page reads as the read-only analyst: through the embedded HTTP interface (this process's
    // or the clickhouse role's), which enforces readonly per session. A ClickHouse server
    // (CLICKHOUSE_URL) is read as CLICKHOUSE_USER with readonly=2 on every query.
    const overviewClient = config.CLICKHOUSE_URL
      ? clickhouse
      : createClickHouseClient({
          kind: 'server',
          url: `http://${loopbackFor(config.CLICKHOUSE_HTTP_HOST)}:${config.CLICKHOUSE_HTTP_PORT}`,
          username: config.CLICKHOUSE_ANALYST_USER,
          password: config.CLICKHOUSE_ANALYST_PASSWORD,
        });
    if (overviewClient !== clickhouse)
      components.push({
        name: 'overview-clickhouse',
        start: async () => {},
        stop: () => overviewClient.close(),
      });
    components.push(
      createOverview(
        {
          host: config.OVERVIEW_HOST,
          port: config.OVERVIEW_PORT,
          token: config.OVERVIEW_TOKEN,
          allowedHosts: config.OVERVIEW_ALLOWED_HOSTS,
          database: config.CLICKHOUSE_DATABASE,
          routing: { minCalls: config.ROUTING_MIN_CALLS, qualityTolerance: config.ROUTING_QUALITY_TOLERANCE },
        },
        {
          clickhouse: overviewClient,
          ...(config.CLICKHOUSE_URL ? { settings: { readonly: 2 } } : {}),
          logger: logger.child({ role: 'overview' }),
          // The health panel shows this process's own /readyz: every check that is not ok, by name.
          readiness: async () => {
            const { ok, checks } = health.readiness(clock());
            const failing = checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.reason}`);
            return { ready: ok, detail: failing.join('; ') };
          },
        },
      ),
    );
  }
  if (roles.has('demo')) {
    components.push(
      createDemo(
        {
          topics,
          eventsPerSecond: config.DEMO_EVENTS_PER_SECOND,
          brokers: config.KAFKA_BROKERS,
          backlog: config.DEMO_BACKLOG,
          loopAfterMs: config.DEMO_LOOP_AFTER_MS >= 0 ? config.DEMO_LOOP_AFTER_MS : undefined,
        },
        { kafka, logger },
      ),
    );
  }
  components.push(
    createProbes(
      {
        intervalMs: config.READY_PROBE_INTERVAL_MS,
        stallMs: config.READY_STALL_MS,
        dependencyGraceMs: config.READY_DEPENDENCY_GRACE_MS,
        groups: watched,
      },
      { kafka, clickhouse, redis, health, metrics, logger: runtimeLog, clock },
    ),
    // Last: ready once everything has started; not ready again as soon as stopping begins.
    { name: 'ready', start: async () => health.started(clock()), stop: async () => health.stopping(clock()) },
  );
  return { components, clickhouse, metrics, health, ops };
}
