import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { stopOnCrash } from '../../kafka/crash.js';
import { KafkaReadTimeoutError } from '../../kafka/errors.js';
import type { Fatal } from '../../runtime/fatal.js';
import { sleep } from '../../runtime/retry.js';

/**
 * Reads a reference-data topic (customers: compacted; prices: kept forever) from the beginning into
 * memory and keeps following it. `start()` resolves once everything present at start time has been
 * applied, so enrichment never runs on a partial customer table. Every instance reads every partition
 * (its own throwaway group, no commits).
 *
 * Each offset is applied at most once, in order. KafkaJS forgets its position when the group
 * rebalances or a crashed consumer restarts, and with nothing committed it reads the topic from the
 * beginning again: those records were applied already and are skipped, so a follower never goes
 * back to an older state, not even for a moment.
 */
export function createCompactedFeed(o: {
  kafka: Kafka;
  topic: string;
  apply: (key: string, value: Buffer | null, offset: string) => void;
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
  const groupId = `burnrate-refdata-${randomUUID()}`;
  const consumer = o.kafka.consumer({ groupId, maxWaitTimeInMs: 200 });
  if (o.fatal) stopOnCrash(consumer, o.role ?? `${o.topic} follower`, o.fatal);
  /** The last offset applied per partition. */
  const applied = new Map<number, bigint>();
  /** Partitions being re-read after a rebalance or restart (logged once per re-read). */
  const rereading = new Set<number>();
  let targets = new Map<number, bigint>();
  let caughtUp: () => void = () => {};

  const isCaughtUp = () => [...targets].every(([p, high]) => (applied.get(p) ?? -1n) + 1n >= high);

  const timeout = (timeoutMs: number, cause?: unknown) =>
    new KafkaReadTimeoutError(
      o.topic,
      `Reading the ${o.topic} topic did not catch up within ${timeoutMs} ms: check that Kafka is up and the topic can be read, then start again.`,
      cause,
    );

  /** The end offsets at start; a broker still electing the leader answers with a retriable error. */
  async function endOffsets(deadline: number, timeoutMs: number): Promise<Map<number, bigint>> {
    const admin = o.kafka.admin();
    await admin.connect();
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          const offsets = await admin.fetchTopicOffsets(o.topic);
          return new Map(offsets.map((p) => [p.partition, BigInt(p.high)]));
        } catch (error) {
          if ((error as { retriable?: boolean }).retriable !== true) throw error;
          if (Date.now() >= deadline) throw timeout(timeoutMs, error);
          await sleep(Math.min(1_000, 100 * 2 ** attempt));
        }
      }
    } finally {
      await admin.disconnect();
    }
  }

  return {
    /** The consumer group of this follower (throwaway, never committed). */
    groupId,
    async start(): Promise<void> {
      const timeoutMs = o.catchUpTimeoutMs ?? 60_000;
      const deadline = Date.now() + timeoutMs;
      targets = await endOffsets(deadline, timeoutMs);
      const ready = new Promise<void>((resolve) => {
        caughtUp = resolve;
      });
      await consumer.connect();
      await consumer.subscribe({ topic: o.topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          const offset = BigInt(message.offset);
          const last = applied.get(partition);
          if (last !== undefined && offset <= last) {
            if (!rereading.has(partition)) {
              rereading.add(partition);
              o.logger.info(
                { topic: o.topic, partition, from: message.offset, applied: String(last) },
                'reference data re-read after a rebalance or restart: records already applied are skipped',
              );
            }
            return;
          }
          rereading.delete(partition);
          o.apply(message.key?.toString('utf8') ?? '', message.value, message.offset);
          applied.set(partition, offset);
          if (isCaughtUp()) caughtUp();
        },
      });
      if (isCaughtUp()) caughtUp();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        ready,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(timeout(timeoutMs)), Math.max(0, deadline - Date.now()));
        }),
      ]).finally(() => clearTimeout(timer));
      o.logger.info({ topic: o.topic, groupId, partitions: applied.size }, 'reference data loaded');
    },
    async stop(): Promise<void> {
      await consumer.disconnect();
    },
  };
}
