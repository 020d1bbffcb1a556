import kafkajs, { type Kafka, type Message, type Producer } from 'kafkajs';
import type { ProduceError } from '../errors.js';
import type { Logger } from '../logger.js';
import { classifyKafkaError } from './classify.js';
import { keyHashPartitioner } from './partitioner.js';

const { CompressionCodecs, CompressionTypes } = kafkajs;

export type Compression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

export const COMPRESSION_TYPES: Record<Compression, number> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
};

/**
 * KafkaJS ships only gzip; for snappy, lz4 and zstd its codec table holds placeholders that throw
 * until the application registers a real codec, so asking the factory is the test.
 */
export function isCompressionAvailable(compression: Compression): boolean {
  const type = COMPRESSION_TYPES[compression];
  if (type === CompressionTypes.None) return true;
  try {
    return (CompressionCodecs as Record<number, (() => unknown) | undefined>)[type]?.() !== undefined;
  } catch {
    return false;
  }
}

/** Messages sent together in one producer.send(), with the ids of the events they carry. */
export interface OutgoingBatch {
  readonly messages: Message[];
  readonly eventIds: string[];
  /** Sum of key and value bytes, the measure maxBatchBytes bounds. */
  readonly bytes: number;
}

export interface KafkaSenderOptions {
  kafka: Kafka;
  topic: string;
  compression: Compression;
  /** How long the broker may wait for the in-sync replicas before answering (acks=-1). */
  ackTimeoutMs: number;
  logger: Logger;
}

export interface KafkaSender {
  /** Sends the batch with acks=-1; resolves with the classified error instead of throwing. */
  send(batch: OutgoingBatch): Promise<ProduceError | undefined>;
  close(): Promise<void>;
}

/**
 * One idempotent KafkaJS producer (acks=-1, one request in flight), replaced when its sequence
 * state can no longer be trusted.
 *
 * Why replace it: when a send fails, KafkaJS rolls its sequence numbers back, so the broker
 * recognises a resend of the SAME batch as a duplicate — but a different batch reusing those
 * sequence numbers could be taken for a duplicate and silently dropped. So after a failure the
 * next send must be the same batch object, or go through a new producer (new producer id, fresh
 * sequences). A resend through a new producer may write a duplicate; it carries the same
 * event_id, which the pipeline deduplicates.
 */
export function createKafkaSender(options: KafkaSenderOptions): KafkaSender {
  const { kafka, topic, logger } = options;
  const compression = COMPRESSION_TYPES[options.compression];
  let producer: Producer = newProducer();
  let connected = false;
  let failedBatch: OutgoingBatch | undefined;
  let mustReset = false;

  function newProducer(): Producer {
    return kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: keyHashPartitioner,
      allowAutoTopicCreation: false,
      // A few quick in-client retries ride out leader moves; longer outages are the emitter's
      // own retry loop (with backoff and the spool), which can see and report them.
      retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1_000 },
    });
  }

  async function reset(): Promise<void> {
    const old = producer;
    producer = newProducer();
    connected = false;
    mustReset = false;
    failedBatch = undefined;
    await old.disconnect().catch(() => {});
  }

  async function send(batch: OutgoingBatch): Promise<ProduceError | undefined> {
    try {
      if (mustReset || (failedBatch !== undefined && failedBatch !== batch)) await reset();
      if (!connected) {
        await producer.connect();
        connected = true;
      }
      await producer.send({
        topic,
        acks: -1,
        compression,
        timeout: options.ackTimeoutMs,
        messages: batch.messages,
      });
      failedBatch = undefined;
      return undefined;
    } catch (error) {
      const classified = classifyKafkaError(error, topic);
      failedBatch = batch;
      if (classified.resetProducer) mustReset = true;
      logger.debug({ err: error, code: classified.code, events: batch.messages.length }, 'Kafka send failed');
      return classified;
    }
  }

  async function close(): Promise<void> {
    await producer.disconnect().catch(() => {});
  }

  return { send, close };
}
