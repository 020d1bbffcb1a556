import type { ClickHouseClient } from '@clickhouse/client';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { createAlertingSource } from '../alerting/alerting-file.js';
import type { Config } from '../config/load.js';
import { createAddressGuard } from '../delivery/address-guard.js';
import { createHttpTransport } from '../delivery/http-transport.js';
import type { TopicNames } from '../kafka/topics.js';
import { aggregateKeys } from '../redis/aggregate-keys.js';
import { createAggregateReader } from '../redis/aggregate-reader.js';
import { createAlertStore } from '../redis/alert-store.js';
import { createAggregator } from '../roles/aggregator/aggregator.js';
import { type AlertJob, createAlertRelay, requeueUnfinished } from '../roles/aggregator/alert-relay.js';
import { createEvaluator } from '../roles/aggregator/evaluator.js';
import { createDeliveryRecorder } from '../roles/notifier/delivery-record.js';
import { createNotifier, type DeliveryJob } from '../roles/notifier/notifier.js';
import type { Fatal } from './fatal.js';
import type { Component } from './lifecycle.js';
import type { Metrics } from './metrics.js';

const THIRTY_DAYS_S = 30 * 86_400;
const RETRY_LOG_INTERVAL_MS = 10_000;
/** How far back a rebuild looks for alerts whose delivery Redis lost. */
const REQUEUE_LOOKBACK_MS = 7 * 86_400_000;

/** Where BullMQ keeps burnrate's queues (a topic prefix keeps environments apart in one Redis). */
export const bullPrefix = (topicPrefix: string) => `${topicPrefix}burnrate:bull`;

/**
 * The second half of the pipeline: the aggregator (rolling aggregates, rules, the alert outbox and
 * its relay to ClickHouse and BullMQ) and the notifier (routing and delivery to on-call). Both read
 * the same alerting file.
 */
/** The clients createApp makes once and hands to the roles that use them. */
export interface SharedClients {
  kafka: Kafka;
  redis: Redis;
  clickhouse: ClickHouseClient;
  topics: TopicNames;
  logger: Logger;
  /** For `${NAME}` in the alerting file. */
  env?: Readonly<Record<string, string | undefined>>;
  clock?: () => number;
}

export function alertingRoles(
  config: Config,
  deps: SharedClients & { fatal: Fatal; metrics?: Metrics },
): Component[] {
  const { redis, clickhouse, metrics } = deps;
  const roles = new Set(config.BURNRATE_ROLES);
  // Every line carries its role; the aggregator and the notifier add theirs themselves.
  const logger = deps.logger.child({ role: roles.has('aggregator') ? 'aggregator' : 'notifier' });
  const clock = deps.clock ?? Date.now;
  const keys = aggregateKeys(config.BURNRATE_TOPIC_PREFIX);
  const prefix = bullPrefix(config.BURNRATE_TOPIC_PREFIX);
  const database = config.CLICKHOUSE_DATABASE;
  const source = createAlertingSource(
    { file: config.BURNRATE_RULES_FILE, pollMs: config.BURNRATE_RULES_POLL_MS },
    { env: deps.env ?? {}, logger },
  );
  const alerting = () => source.current();
  const components: Component[] = [source];
  if (roles.has('aggregator')) {
    const alerts = createAlertStore(redis, keys);
    const evaluator = createEvaluator(
      { database, retryLogIntervalMs: RETRY_LOG_INTERVAL_MS },
      { redis, keys, reader: createAggregateReader(redis, keys), alerts, alerting, clock, logger, metrics },
    );
    const queue = new Queue<AlertJob>('alerts', {
      connection: redis,
      prefix,
      defaultJobOptions: {
        attempts: 10,
        backoff: { type: 'exponential', delay: 1_000 },
        // Kept a month: the jobId (= message id) then deduplicates a relay's repeat for that long.
        removeOnComplete: { age: THIRTY_DAYS_S },
        removeOnFail: { age: THIRTY_DAYS_S },
      },
    });
    // Stopped in reverse: the aggregator first (no new alerts), then the relay, then the queue.
    components.push(
      { name: 'alerts-queue', start: async () => {}, stop: () => queue.close() },
      createAlertRelay(
        { database, retryLogIntervalMs: RETRY_LOG_INTERVAL_MS, claimIdleMs: config.RELAY_CLAIM_MS },
        { redis, keys, clickhouse, queue, logger },
      ),
      createAggregator(
        {
          topic: deps.topics.enriched,
          groupId: `${config.BURNRATE_TOPIC_PREFIX}burnrate-aggregator`,
          ledgerGroupId: `${config.BURNRATE_TOPIC_PREFIX}burnrate-ledger`,
          database,
          fetchWaitMs: config.AGGREGATOR_FETCH_WAIT_MS,
          minBatchBytes: config.AGGREGATOR_MIN_BATCH_BYTES,
          sessionTimeoutMs: config.AGGREGATOR_SESSION_TIMEOUT_MS,
          rowsPerApply: config.AGGREGATOR_ROWS_PER_APPLY,
          sweepMs: config.AGGREGATOR_SWEEP_MS,
          watermark: config.AGGREGATOR_WATERMARK,
          commitDelayMs: config.AGGREGATOR_COMMIT_DELAY_MS,
          retryLogIntervalMs: RETRY_LOG_INTERVAL_MS,
        },
        {
          alerting,
          kafka: deps.kafka,
          redis,
          clickhouse,
          keys,
          alerts,
          evaluator,
          clock,
          logger: deps.logger,
          fatal: deps.fatal,
          metrics,
          afterRebuild: async () => {
            const queued = await requeueUnfinished(
              { database, sinceMs: clock() - REQUEUE_LOOKBACK_MS },
              { clickhouse, queue, alerting },
            );
            if (queued > 0) logger.warn({ queued }, 'alerts whose delivery Redis lost are queued again');
          },
        },
      ),
    );
  }
  if (roles.has('notifier')) {
    const deliveries = new Queue<DeliveryJob>('deliveries', {
      connection: redis,
      prefix,
      defaultJobOptions: {
        attempts: config.NOTIFIER_ATTEMPTS,
        backoff: { type: 'custom' },
        removeOnComplete: { age: THIRTY_DAYS_S },
        removeOnFail: { age: THIRTY_DAYS_S },
      },
    });
    const transport = createHttpTransport({
      guard: createAddressGuard({ allowNetworks: config.NOTIFIER_ALLOWED_NETWORKS }),
      timeoutMs: config.NOTIFIER_TIMEOUT_MS,
      userAgent: 'burnrate-notifier',
    });
    // Stopped in reverse: the workers first, then the recorder, then the queue.
    components.push(
      { name: 'deliveries-queue', start: async () => {}, stop: () => deliveries.close() },
      createDeliveryRecorder(
        { database, retryLogIntervalMs: RETRY_LOG_INTERVAL_MS, claimIdleMs: config.RELAY_CLAIM_MS },
        { redis, keys, clickhouse, logger: deps.logger.child({ role: 'notifier' }) },
      ),
      createNotifier(
        {
          concurrency: config.NOTIFIER_CONCURRENCY,
          backoffBaseMs: config.NOTIFIER_BACKOFF_BASE_MS,
          backoffMaxMs: config.NOTIFIER_BACKOFF_MAX_MS,
          lockMs: config.NOTIFIER_LOCK_MS,
          prefix,
        },
        {
          redis,
          keys,
          deliveries,
          transport,
          alerting,
          clock,
          logger: deps.logger,
          fatal: deps.fatal,
          metrics,
        },
      ),
    );
  }
  return components;
}
