import type { Kafka } from 'kafkajs';

export interface TopicNames {
  events: string;
  enriched: string;
  dlq: string;
  customers: string;
  /** Compacted: the published price catalog and overrides every enricher applies (docs/pricing.md). */
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
 * Creates burnrate's topics when missing; `customers` and `prices` are compacted (latest record per
 * key). Topics with more than one replica carry min.insync.replicas, so that acks=all (every burnrate
 * producer) means "on at least that many brokers".
 */
export async function ensureTopics(kafka: Kafka, names: TopicNames, options: TopicOptions): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
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
          { name: 'cleanup.policy', value: 'compact' },
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
      await admin.fetchTopicMetadata({ topics: wanted.map((t) => t.topic) });
    }
  } finally {
    await admin.disconnect();
  }
}
