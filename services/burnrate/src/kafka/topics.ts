import { BurnrateError } from '@burnrate/core';
import kafkajs, { type Admin, type Kafka } from 'kafkajs';

// kafkajs is CommonJS: Node's ESM loader cannot see these two as named exports (tsx, `burnrate run`).
const { ConfigResourceTypes, ConfigSource } = kafkajs;

import type { Logger } from 'pino';
import { chain } from './errors.js';

export interface TopicNames {
  events: string;
  enriched: string;
  dlq: string;
  customers: string;
  /**
   * Kept forever, never compacted: the published price catalog and overrides every enricher applies,
   * in a permanent order (docs/pricing.md).
   */
  prices: string;
}

export function topicNames(prefix: string): TopicNames {
  return {
    events: `${prefix}usage.events`,
    enriched: `${prefix}usage.enriched`,
    dlq: `${prefix}usage.dlq`,
    customers: `${prefix}customers`,
    prices: `${prefix}prices`,
  };
}

export interface TopicOptions {
  partitions: number;
  /** Replicas per partition; unset = min(3, the brokers the cluster lists now). */
  replicationFactor?: number | undefined;
  /**
   * min.insync.replicas of each topic: an acks=all write succeeds once this many replicas have it.
   * Unset = replicas - 1, at least 1 and at most 2 (2 of 3: one broker may die, none is lost).
   */
  minInsyncReplicas?: number | undefined;
}

/** The replication a topic gets: explicit settings, else derived from the number of brokers. */
export function replicationFor(
  options: Pick<TopicOptions, 'replicationFactor' | 'minInsyncReplicas'>,
  brokers: number,
): { replicationFactor: number; minInsyncReplicas: number } {
  const replicationFactor = options.replicationFactor ?? Math.max(1, Math.min(3, brokers));
  const minInsyncReplicas = options.minInsyncReplicas ?? Math.max(1, Math.min(2, replicationFactor - 1));
  return { replicationFactor, minInsyncReplicas };
}

/**
 * The prices topic's retention: nothing is ever deleted or compacted, so topic order is permanent and
 * "the first record of a version owns it" holds for every reader forever. Publications are rare and
 * small (one gzip record per catalog change).
 */
export const PRICES_TOPIC_RETENTION: Readonly<Record<string, string>> = {
  'cleanup.policy': 'delete',
  'retention.ms': '-1',
  'retention.bytes': '-1',
};

/**
 * Creates burnrate's topics when missing (`customers` compacted, latest record per key; `prices`
 * kept forever; with more than one replica, min.insync.replicas so that acks=all — every burnrate
 * producer — means "on at least that many brokers"), and brings an existing prices topic — compacted, as older versions created it — to
 * PRICES_TOPIC_RETENTION (logged once when it changes anything).
 */
export async function ensureTopics(
  kafka: Kafka,
  names: TopicNames,
  options: TopicOptions & { logger?: Logger | undefined },
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await createMissing(admin, names, options);
    await ensurePricesRetention(admin, names.prices, options.logger);
  } finally {
    await admin.disconnect();
  }
}

async function createMissing(admin: Admin, names: TopicNames, options: TopicOptions): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const wanted = [
    {
      topic: names.events,
      numPartitions: options.partitions,
      // The broker's clock stamps each record: ingested_at and the late-horizon check use it, so
      // they cannot be skewed by a client's clock and a replay sees the same timestamps.
      configEntries: [{ name: 'message.timestamp.type', value: 'LogAppendTime' }],
    },
    { topic: names.enriched, numPartitions: options.partitions },
    { topic: names.dlq, numPartitions: 1 },
    {
      topic: names.customers,
      numPartitions: 1,
      configEntries: [
        { name: 'cleanup.policy', value: 'compact' },
        { name: 'min.compaction.lag.ms', value: '0' },
      ],
    },
    {
      topic: names.prices,
      numPartitions: 1,
      configEntries: [
        ...Object.entries(PRICES_TOPIC_RETENTION).map(([name, value]) => ({ name, value })),
        // A published catalog and overrides (gzip) may be a few MB before compression.
        { name: 'max.message.bytes', value: String(16 * 1024 * 1024) },
      ],
    },
  ].filter((t) => !existing.has(t.topic));
  if (wanted.length === 0) return;
  const brokers =
    options.replicationFactor === undefined ? (await admin.describeCluster()).brokers.length : 1;
  const { replicationFactor, minInsyncReplicas } = replicationFor(options, brokers);
  const isr =
    replicationFactor > 1 ? [{ name: 'min.insync.replicas', value: String(minInsyncReplicas) }] : [];
  try {
    await admin.createTopics({
      topics: wanted.map((t) => ({
        ...t,
        replicationFactor,
        configEntries: [...(t.configEntries ?? []), ...isr],
      })),
      waitForLeaders: true,
    });
  } catch (error) {
    // Roles starting together race to create the topics, and a broker that has just started can
    // answer "does not host this topic-partition" while leaders are elected: wait for the topics.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const now = new Set(await admin.listTopics());
      if (wanted.every((t) => now.has(t.topic))) break;
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 500));
    }
    await whileTopicPropagates(() => admin.fetchTopicMetadata({ topics: wanted.map((t) => t.topic) }));
  }
}

/**
 * Older versions created the prices topic compacted; compaction honours tombstones (which followers
 * ignore) and drops earlier records with a repeated key, so a follower started later could read
 * another first record of a version. Sets PRICES_TOPIC_RETENTION when any of it differs. The legacy
 * AlterConfigs call KafkaJS offers replaces a topic's whole set of overrides, so the topic's other
 * overrides are sent along unchanged. What compaction already removed is not restored: from now on
 * the order on the topic is final.
 * @throws BurnrateError (prices_topic_config) with the one-line command when the broker refuses.
 */
async function ensurePricesRetention(admin: Admin, topic: string, logger: Logger | undefined): Promise<void> {
  let differs: [string, string | null][];
  try {
    const described = await whileTopicPropagates(() =>
      admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }],
      }),
    );
    const entries = described.resources[0]?.configEntries ?? [];
    const current = new Map(entries.map((e) => [e.configName, e.configValue]));
    differs = Object.entries(PRICES_TOPIC_RETENTION)
      .filter(([name, value]) => current.get(name) !== value)
      .map(([name]) => [name, current.get(name) ?? null]);
    if (differs.length === 0) return;
    const overrides = new Map(
      entries
        .filter((e) => e.configSource === ConfigSource.TOPIC_CONFIG && !e.isSensitive && !e.readOnly)
        .map((e) => [e.configName, e.configValue]),
    );
    for (const [name, value] of Object.entries(PRICES_TOPIC_RETENTION)) overrides.set(name, value);
    await whileTopicPropagates(() =>
      admin.alterConfigs({
        validateOnly: false,
        resources: [
          {
            type: ConfigResourceTypes.TOPIC,
            name: topic,
            configEntries: [...overrides].map(([name, value]) => ({ name, value })),
          },
        ],
      }),
    );
  } catch (error) {
    const settings = Object.entries(PRICES_TOPIC_RETENTION)
      .map(([name, value]) => `${name}=${value}`)
      .join(',');
    throw new BurnrateError(
      'prices_topic_config',
      `The ${topic} topic must keep every record (never compacted or expired), and Kafka refused to read or change its configuration (${(error as Error).message}): run kafka-configs.sh --bootstrap-server <broker> --alter --entity-type topics --entity-name ${topic} --add-config ${settings} once, then start again.`,
      { cause: error },
    );
  }
  logger?.info(
    { topic, was: Object.fromEntries(differs), now: PRICES_TOPIC_RETENTION },
    'prices topic set to keep every record forever (an older version created it compacted)',
  );
}

/**
 * Runs a config call again while the broker it reached answers UNKNOWN_TOPIC_OR_PARTITION: a topic
 * just created by this or another process reaches each broker's metadata a moment later (seen on a
 * 3-node cluster with several pipelines starting at once). Gives up after 30 s.
 */
export async function whileTopicPropagates<T>(call: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      // KafkaJS throws the protocol error itself, or wraps it (as `cause`) once its own retries ran out.
      const unknownTopic = chain(error).some((e) => e.type === 'UNKNOWN_TOPIC_OR_PARTITION');
      if (!unknownTopic || Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
