import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { stopOnCrash } from '../../kafka/crash.js';
import type { Fatal } from '../../runtime/fatal.js';

/**
 * Reads a compacted topic from the beginning into memory and keeps following it. `start()` resolves
 * once everything present at start time has been applied, so enrichment never runs on a partial
 * customer table. Every instance reads every partition (its own throwaway group, no commits).
 */
export function createCompactedFeed(o: {
  kafka: Kafka;
  topic: string;
  apply: (key: string, value: Buffer | null) => void;
  logger: Logger;
  catchUpTimeoutMs?: number;
  /**
   * Called when the consumer crashes and KafkaJS will not restart it: the process must not keep
   * running on reference data that silently stopped following the topic.
   */
  fatal?: Fatal | undefined;
  /** Names the follower in the fatal error. */
  role?: string;
}) {
  const consumer = o.kafka.consumer({ groupId: `burnrate-refdata-${randomUUID()}`, maxWaitTimeInMs: 200 });
  if (o.fatal) stopOnCrash(consumer, o.role ?? `${o.topic} follower`, o.fatal);
  const seen = new Map<number, bigint>();
  let targets = new Map<number, bigint>();
  let caughtUp: () => void = () => {};

  const isCaughtUp = () => [...targets].every(([p, high]) => (seen.get(p) ?? -1n) + 1n >= high);

  return {
    async start(): Promise<void> {
      const admin = o.kafka.admin();
      await admin.connect();
      try {
        const offsets = await admin.fetchTopicOffsets(o.topic);
        targets = new Map(offsets.map((p) => [p.partition, BigInt(p.high)]));
      } finally {
        await admin.disconnect();
      }
      const ready = new Promise<void>((resolve) => {
        caughtUp = resolve;
      });
      await consumer.connect();
      await consumer.subscribe({ topic: o.topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          o.apply(message.key?.toString('utf8') ?? '', message.value);
          seen.set(partition, BigInt(message.offset));
          if (isCaughtUp()) caughtUp();
        },
      });
      if (isCaughtUp()) caughtUp();
      const timeoutMs = o.catchUpTimeoutMs ?? 60_000;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        ready,
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`Reading the ${o.topic} topic did not catch up within ${timeoutMs} ms.`)),
            timeoutMs,
          );
        }),
      ]).finally(() => clearTimeout(timer));
      o.logger.info({ topic: o.topic, records: [...seen.values()].length }, 'reference data loaded');
    },
    async stop(): Promise<void> {
      await consumer.disconnect();
    },
  };
}
