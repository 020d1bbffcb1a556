import { resolve } from 'node:path';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import {
  type ClickHouseClient,
  type ClickHouseTarget,
  createClickHouseClient,
} from '../clickhouse/client.js';
import { migrate } from '../clickhouse/migrate.js';
import type { Config } from '../config/load.js';
import { createKafka } from '../kafka/client.js';
import { ensureTopics, topicNames } from '../kafka/topics.js';
import { createClickHouseRole } from '../roles/clickhouse-role.js';
import { createDemo } from '../roles/demo.js';
import { EventDeduper } from '../roles/enricher/dedup.js';
import { createEnricher } from '../roles/enricher/enricher.js';
import { createReferenceData } from '../roles/enricher/reference-data.js';
import { createLedger } from '../roles/ledger/ledger.js';

export interface Component {
  name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

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
    url: `http://${config.CLICKHOUSE_HTTP_HOST}:${config.CLICKHOUSE_HTTP_PORT}`,
    username: config.CLICKHOUSE_USER,
    password: config.CLICKHOUSE_PASSWORD,
  };
}

/**
 * Wires the roles this process runs, explicitly, in start order. Shared clients (Kafka, ClickHouse,
 * Redis) are components too, so shutdown closes them after the roles that use them.
 */
export function createApp(
  config: Config,
  logger: Logger,
): { components: Component[]; clickhouse: () => ClickHouseClient | undefined } {
  const roles = new Set(config.BURNRATE_ROLES);
  const topics = topicNames(config.BURNRATE_TOPIC_PREFIX);
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: config.KAFKA_CLIENT_ID, logger });
  const components: Component[] = [];
  const needsClickHouse = roles.has('clickhouse') || roles.has('ledger');
  let clickhouse: ClickHouseClient | undefined;

  components.push({
    name: 'kafka-topics',
    start: () =>
      ensureTopics(kafka, topics, {
        partitions: config.KAFKA_TOPIC_PARTITIONS,
        replicationFactor: config.KAFKA_REPLICATION_FACTOR,
      }),
    stop: async () => {},
  });
  if (needsClickHouse) {
    components.push({
      name: 'clickhouse-client',
      start: async () => {
        clickhouse = createClickHouseClient(clickHouseTarget(config));
        await migrate(clickhouse, config.CLICKHOUSE_DATABASE);
      },
      stop: async () => {
        await clickhouse?.close();
      },
    });
  }
  if (roles.has('clickhouse') && !config.CLICKHOUSE_URL) {
    components.push(createClickHouseRole(config, () => clickhouse!, logger));
  }
  if (roles.has('ledger')) {
    let ledger: ReturnType<typeof createLedger> | undefined;
    components.push({
      name: 'ledger',
      start: () => {
        ledger = createLedger({
          kafka,
          clickhouse: clickhouse!,
          database: config.CLICKHOUSE_DATABASE,
          topics,
          groupId: `${config.BURNRATE_TOPIC_PREFIX}burnrate-ledger`,
          fetchWaitMs: config.LEDGER_FETCH_WAIT_MS,
          maxBatchBytes: config.LEDGER_MAX_BATCH_BYTES,
          minBatchBytes: config.LEDGER_MIN_BATCH_BYTES,
          dedup: config.LEDGER_DEDUP,
          commitDelayMs: config.LEDGER_COMMIT_DELAY_MS,
          sessionTimeoutMs: config.LEDGER_SESSION_TIMEOUT_MS,
          retryLogIntervalMs: config.LEDGER_RETRY_LOG_INTERVAL_MS,
          logger,
        });
        return ledger.start();
      },
      stop: async () => ledger?.stop(),
    });
  }
  if (roles.has('enricher')) {
    const redis = new Redis(config.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: null });
    const reference = createReferenceData({
      kafka,
      topic: topics.customers,
      pricesFile: config.BURNRATE_PRICES_FILE,
      logger,
    });
    const enricher = createEnricher({
      kafka,
      topics,
      groupId: `${config.BURNRATE_TOPIC_PREFIX}burnrate-enricher`,
      transactionalIdPrefix:
        config.ENRICHER_TRANSACTIONAL_ID_PREFIX ?? `${config.BURNRATE_TOPIC_PREFIX}burnrate-enricher`,
      concurrency: config.ENRICHER_CONCURRENCY,
      stage: reference.stage({
        lateHorizonMs: config.BURNRATE_LATE_HORIZON_HOURS * 3_600_000,
        maxFutureSkewMs: config.BURNRATE_MAX_FUTURE_SKEW_SECONDS * 1_000,
      }),
      deduper:
        config.ENRICHER_DEDUP_WINDOW_SECONDS > 0
          ? new EventDeduper(
              redis,
              `${config.BURNRATE_TOPIC_PREFIX}burnrate:dedup:`,
              config.ENRICHER_DEDUP_WINDOW_SECONDS,
            )
          : undefined,
      logger,
    });
    components.push({
      name: 'redis',
      start: () => redis.connect(),
      stop: async () => void (await redis.quit().catch(() => redis.disconnect())),
    });
    components.push({ name: 'reference-data', start: reference.start, stop: reference.stop });
    components.push({ name: 'enricher', start: enricher.start, stop: enricher.stop });
  }
  if (roles.has('demo')) {
    components.push(
      createDemo({
        kafka,
        topics,
        eventsPerSecond: config.DEMO_EVENTS_PER_SECOND,
        brokers: config.KAFKA_BROKERS,
        logger,
      }),
    );
  }
  return { components, clickhouse: () => clickhouse };
}
