import { randomUUID } from 'node:crypto';
import { decodeUsageEvent, type UsageEvent } from '@burnrate/core';
import kafkajs, { type Kafka } from 'kafkajs';
import { waitFor } from '../../devstack/src/index.js';
import type { EmitInput } from '../src/index.js';

const { Kafka: KafkaClient, logLevel } = kafkajs;

export function kafkaClient(brokers: string): Kafka {
  return new KafkaClient({ brokers: [brokers], clientId: 'sdk-test', logLevel: logLevel.NOTHING });
}

/** Creates a fresh topic (auto-creation is off on the test broker) and returns its name. */
export async function createTopic(
  brokers: string,
  options: { partitions?: number; configEntries?: Array<{ name: string; value: string }> } = {},
): Promise<string> {
  const topic = `sdk-${randomUUID()}`;
  const partitions = options.partitions ?? 3;
  const admin = kafkaClient(brokers).admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [{ topic, numPartitions: partitions, configEntries: options.configEntries }],
      waitForLeaders: false,
    });
    // KafkaJS's own waitForLeaders gives up on a transient UNKNOWN_TOPIC_OR_PARTITION from a broker
    // that has just started; poll the metadata instead.
    await waitFor(
      async () => {
        const metadata = await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => undefined);
        const found = metadata?.topics[0]?.partitions ?? [];
        return found.length === partitions && found.every((p) => p.leader >= 0);
      },
      30_000,
      () => new Error(`topic ${topic} has no leaders after 30 s`),
      100,
    );
  } finally {
    await admin.disconnect();
  }
  return topic;
}

export interface Consumed {
  key: string;
  partition: number;
  event: UsageEvent;
}

/** Messages in the topic now: the sum of its partitions' high watermarks (no transactions, no compaction). */
export async function topicSize(brokers: string, topic: string): Promise<number> {
  const admin = kafkaClient(brokers).admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, p) => sum + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Reads every message the topic holds (as many as its high watermarks say, so duplicates are read
 * too), decoding each. Call it after the producer is done.
 */
export async function consumeAll(brokers: string, topic: string, timeoutMs = 60_000): Promise<Consumed[]> {
  const total = await topicSize(brokers, topic);
  const consumer = kafkaClient(brokers).consumer({ groupId: `g-${randomUUID()}`, maxWaitTimeInMs: 100 });
  const seen: Consumed[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          seen.push({
            key: m.key!.toString(),
            partition: batch.partition,
            event: decodeUsageEvent(m.value!).event,
          });
        }
      },
    });
    await waitFor(
      () => seen.length >= total,
      timeoutMs,
      () => new Error(`consumed ${seen.length} of ${total} messages from ${topic} within ${timeoutMs} ms`),
      50,
    );
  } finally {
    await consumer.disconnect();
  }
  return seen;
}

let n = 0;

/** A valid emit() input; `overrides` win. */
export function usage(overrides: Partial<EmitInput> = {}): EmitInput {
  n++;
  return {
    customer_ref: `cust-${n % 7}`,
    provider: 'openai',
    model: 'gpt-4o-mini-2024-07-18',
    tokens: { input: 120, cached_input: 880, output: 40, reasoning: 16 },
    ...overrides,
  };
}

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  obj: object;
  msg: string;
}

/** A pino-shaped logger that keeps what it is told (debug lines dropped: KafkaJS is chatty). */
export function captureLogger(): { lines: LogLine[]; debug(): void } & Record<
  'info' | 'warn' | 'error',
  (obj: object, msg: string) => void
> {
  const lines: LogLine[] = [];
  return {
    lines,
    debug() {},
    info: (obj, msg) => lines.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => lines.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => lines.push({ level: 'error', obj, msg }),
  };
}
