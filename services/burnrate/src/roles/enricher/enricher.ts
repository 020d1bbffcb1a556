import type { Kafka, KafkaMessage, Message, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { stopOnCrash } from '../../kafka/crash.js';
import { packRows } from '../../kafka/pack-rows.js';
import type { TopicNames } from '../../kafka/topics.js';
import type { Fatal } from '../../runtime/fatal.js';
import type { Component } from '../../runtime/lifecycle.js';
import type { Metrics } from '../../runtime/metrics.js';
import { sleep } from '../../runtime/retry.js';
import type { EventDeduper } from './dedup.js';
import { duplicateLetter, type EnrichOutcome, type EnrichStage, enrichMessage } from './enrich-message.js';

/** The enricher's settings (createApp maps ENRICHER_* onto them). */
export interface EnricherConfig {
  topics: TopicNames;
  groupId: string;
  /**
   * Prefix of the transactional ids. There is one transactional producer per input partition, with
   * id `<prefix>-<topic>-<partition>`: whichever instance owns a partition uses the same id, so a
   * new owner (or a restarted one) fences the previous one and aborts its open transaction at once.
   * This is Kafka Streams' exactly-once-v1 scheme; KafkaJS lacks the group-metadata fencing of KIP-447.
   */
  transactionalIdPrefix: string;
  /** Partitions processed at the same time (each with its own producer and transaction). */
  concurrency?: number;
  /** How long a dead or frozen instance keeps its partitions (default 30 s). */
  sessionTimeoutMs?: number;
  /**
   * Testing only: `false` sends the outputs with a plain idempotent producer and then commits the
   * offset, without a transaction — what a zombie's late writes then do is the negative control.
   */
  transactional?: boolean;
  /** Testing only: a pause between a batch's writes and its commit. */
  commitDelayMs?: number;
}

export interface EnricherDeps {
  kafka: Kafka;
  /** Decode, validate and price, bound to the current reference data. */
  stage: EnrichStage;
  /** Client-duplicate detection in Redis; undefined turns it off. */
  deduper: EventDeduper | undefined;
  logger: Logger;
  /** Called when the enricher cannot go on: its consumer will not restart, or its producer was fenced. */
  fatal: Fatal;
  metrics?: Metrics;
}

export interface EnricherStats {
  consumed: number;
  enriched: number;
  deadLettered: number;
  duplicates: number;
  unpriced: number;
  unmapped: number;
}

/**
 * usage.events → usage.enriched (+ usage.dlq), exactly once: each partition batch is decoded,
 * checked and priced, then its outputs (rows packed many to a message, see packRows) and its
 * consumer offset are committed in ONE Kafka transaction. A crash anywhere before the commit aborts everything, and the batch is redone.
 */
export function createEnricher(
  o: EnricherConfig,
  deps: EnricherDeps,
): Component & { stats(): EnricherStats } {
  const log = deps.logger.child({ role: 'enricher' });
  const consumer = deps.kafka.consumer({
    groupId: o.groupId,
    readUncommitted: false,
    maxWaitTimeInMs: 100,
    maxBytesPerPartition: 1024 * 1024,
    sessionTimeout: o.sessionTimeoutMs ?? 30_000,
    heartbeatInterval: Math.max(500, Math.floor((o.sessionTimeoutMs ?? 30_000) / 10)),
  });
  const producers = new Map<string, Promise<Producer>>();
  const producerFor = (topic: string, partition: number): Promise<Producer> => {
    const key = `${topic}-${partition}`;
    let producer = producers.get(key);
    if (!producer) {
      const p = deps.kafka.producer({
        ...(o.transactional === false ? {} : { transactionalId: `${o.transactionalIdPrefix}-${key}` }),
        idempotent: true,
        maxInFlightRequests: 1,
        transactionTimeout: 60_000,
      });
      producer = p.connect().then(() => p);
      producer.catch(() => producers.delete(key));
      producers.set(key, producer);
    }
    return producer;
  };
  const stats: EnricherStats = {
    consumed: 0,
    enriched: 0,
    deadLettered: 0,
    duplicates: 0,
    unpriced: 0,
    unmapped: 0,
  };
  let running = false;
  let partitions = { enriched: 1, dlq: 1 };

  /**
   * Partitions whose producer was made (InitProducerId) and whose committed offset was read after
   * that. A transaction whose commit failed on our side may still have committed on the broker (the
   * coordinator's broker died after writing it): its output and its offset are then in Kafka, while
   * KafkaJS hands us the same records again. InitProducerId completes whatever transaction a
   * previous producer of the partition left open, so the offset read after it is final, and records
   * below it are not enriched twice.
   */
  const verified = new Set<string>();
  async function committedOffset(topic: string, partition: number): Promise<bigint> {
    const admin = deps.kafka.admin();
    await admin.connect();
    try {
      const [offsets] = await admin.fetchOffsets({ groupId: o.groupId, topics: [topic] });
      const at = offsets?.partitions.find((p) => p.partition === partition)?.offset ?? '-1';
      return BigInt(at) < 0n ? 0n : BigInt(at);
    } finally {
      await admin.disconnect().catch(() => {});
    }
  }

  async function process(topic: string, partition: number, batch: KafkaMessage[]): Promise<void> {
    const key = `${topic}-${partition}`;
    const producer = await producerFor(topic, partition);
    let messages = batch;
    if (o.transactional !== false && !verified.has(key)) {
      const committed = await committedOffset(topic, partition);
      verified.add(key);
      messages = batch.filter((m) => BigInt(m.offset) >= committed);
      if (messages.length < batch.length) {
        log.warn(
          { topic, partition, committed: committed.toString(), skipped: batch.length - messages.length },
          'records below the committed offset were enriched already (a commit that failed here succeeded in Kafka): skipped',
        );
      }
      if (messages.length === 0) return;
    }
    try {
      await enrichAndSend(topic, partition, messages, producer);
    } catch (error) {
      // Whatever state the transaction is in, the next batch gets a new producer and re-reads the offset.
      verified.delete(key);
      const dropped = producers.get(key);
      producers.delete(key);
      void dropped?.then((p) => p.disconnect()).catch(() => {});
      throw error;
    }
  }

  async function enrichAndSend(
    topic: string,
    partition: number,
    messages: KafkaMessage[],
    producer: Producer,
  ): Promise<void> {
    const outcomes: EnrichOutcome[] = messages.map((m) => enrichMessage(deps.stage, m, topic, partition));
    if (deps.deduper) await markDuplicates(outcomes, messages, deps.deduper, topic, partition);
    const enrichedRows: Array<{ key: string; value: string }> = [];
    const deadRows: Array<{ key: string; value: string }> = [];
    for (const out of outcomes) {
      if (out.kind === 'enriched') {
        enrichedRows.push({ key: out.key, value: out.value });
        if (out.unpriced) stats.unpriced++;
        if (out.unmapped) stats.unmapped++;
      } else {
        deadRows.push({ key: out.key ?? '', value: out.value });
        if (out.reason === 'duplicate_event_id') stats.duplicates++;
      }
    }
    const enriched = packRows(enrichedRows, partitions.enriched);
    const dlq = packRows(deadRows, partitions.dlq);
    const last = messages.at(-1)!;
    const next = { topic, partitions: [{ partition, offset: (BigInt(last.offset) + 1n).toString() }] };
    if (o.transactional === false) {
      await sendAll(producer, enriched, dlq);
      if (o.commitDelayMs) await sleep(o.commitDelayMs);
      await consumer.commitOffsets(next.partitions.map((p) => ({ topic, ...p })));
    } else {
      const tx = await producer.transaction();
      try {
        await sendAll(tx, enriched, dlq);
        await tx.sendOffsets({ consumerGroupId: o.groupId, topics: [next] });
        if (o.commitDelayMs) await sleep(o.commitDelayMs);
        await tx.commit();
      } catch (error) {
        await tx.abort().catch(() => {});
        throw error;
      }
    }
    stats.consumed += messages.length;
    stats.enriched += enrichedRows.length;
    stats.deadLettered += deadRows.length;
    deps.metrics?.enricherBatch(messages.length, outcomes);
  }

  async function sendAll(to: Pick<Producer, 'send'>, enriched: Message[], dlq: Message[]) {
    for (const chunk of chunksOf(enriched))
      await to.send({ topic: o.topics.enriched, messages: chunk, acks: -1 });
    for (const chunk of chunksOf(dlq)) await to.send({ topic: o.topics.dlq, messages: chunk, acks: -1 });
  }

  /**
   * On every (re)join all producers are closed and made afresh on first use: between two
   * assignments another instance may have owned a partition and fenced our producer for it, even if
   * the partition came back to us. So a fenced producer met while processing can only mean this
   * instance is a zombie.
   */
  function dropProducers(): void {
    verified.clear();
    for (const [key, producer] of producers) {
      producers.delete(key);
      void producer.then((p) => p.disconnect()).catch(() => {});
    }
  }

  return {
    name: 'enricher',
    stats: (): EnricherStats => ({ ...stats }),
    async start(): Promise<void> {
      stopOnCrash(consumer, 'enricher', deps.fatal);
      consumer.on(consumer.events.GROUP_JOIN, () => dropProducers());
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) =>
        deps.metrics?.assignment('enricher', payload.memberAssignment),
      );
      partitions = await partitionCounts(deps.kafka, o.topics);
      await consumer.connect();
      await consumer.subscribe({ topic: o.topics.events, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: o.concurrency ?? 4,
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
          if (batch.messages.length === 0 || !isRunning() || isStale()) return;
          await process(batch.topic, batch.partition, batch.messages);
          resolveOffset(batch.lastOffset());
          await heartbeat();
        },
      });
      running = true;
      log.info({ topic: o.topics.events, groupId: o.groupId }, 'enricher started');
    },
    async stop(): Promise<void> {
      const wasRunning = running;
      running = false;
      await consumer.disconnect();
      if (!wasRunning && producers.size === 0) return;
      const all = await Promise.allSettled(producers.values());
      producers.clear();
      await Promise.all(all.map((r) => (r.status === 'fulfilled' ? r.value.disconnect() : undefined)));
      log.info(stats, 'enricher stopped');
    },
  };
}

async function partitionCounts(kafka: Kafka, topics: TopicNames): Promise<{ enriched: number; dlq: number }> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { topics: meta } = await admin.fetchTopicMetadata({ topics: [topics.enriched, topics.dlq] });
    const count = (name: string) => meta.find((t) => t.name === name)?.partitions.length ?? 1;
    return { enriched: count(topics.enriched), dlq: count(topics.dlq) };
  } finally {
    await admin.disconnect();
  }
}

/**
 * KafkaJS packs one send() into a single record batch per partition, and the broker refuses batches
 * over message.max.bytes (1 MB by default): keep each send well under it.
 */
const MAX_SEND_BYTES = 512 * 1024;
function* chunksOf(messages: Message[]): Generator<Message[]> {
  let chunk: Message[] = [];
  let bytes = 0;
  for (const m of messages) {
    const size = (m.value as string).length + 64;
    if (chunk.length > 0 && bytes + size > MAX_SEND_BYTES) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(m);
    bytes += size;
  }
  if (chunk.length > 0) yield chunk;
}

async function markDuplicates(
  outcomes: EnrichOutcome[],
  messages: KafkaMessage[],
  deduper: EventDeduper,
  topic: string,
  partition: number,
) {
  const idx: number[] = [];
  const ids: string[] = [];
  const positions: string[] = [];
  outcomes.forEach((out, i) => {
    if (out.kind !== 'enriched') return;
    idx.push(i);
    ids.push(out.eventId);
    positions.push(`${topic}/${partition}/${out.offset}`);
  });
  const dups = await deduper.duplicates(ids, positions);
  for (const d of dups) {
    const i = idx[d]!;
    const out = outcomes[i] as Extract<EnrichOutcome, { kind: 'enriched' }>;
    outcomes[i] = duplicateLetter(messages[i]!, topic, partition, out.eventId);
  }
}
