import { ConfigError, type UsageEventCodec } from '@burnrate/core';
import type { Kafka } from 'kafkajs';
import type { ProduceError } from '../errors.js';
import { COMPRESSION_TYPES, type Compression, isCompressionAvailable } from '../kafka/kafka-sender.js';
import type { Logger } from '../logger.js';

/** What onError receives: events that will not reach Kafka, and why. */
export interface DeliveryFailure {
  error: ProduceError;
  eventIds: string[];
}

export interface RetryOptions {
  /** First backoff after a failed send, in ms. Default 100. */
  initialMs?: number;
  /** Backoff ceiling, in ms. Default 10_000. */
  maxMs?: number;
  /**
   * Sends of one in-memory batch before its events are reported failed. Default Infinity: a
   * retriable error (broker down) is retried until close(). Ignored for spooled events, which are
   * retried until delivered or refused with a non-retriable error.
   */
  maxAttempts?: number;
}

export interface SpoolOptions {
  /** Directory for the segment files; one emitter (process) at a time. */
  dir: string;
  /** Disk budget in bytes. Default 512 MiB. When it is used up, events wait in memory. */
  maxBytes?: number;
  /** Size at which a new segment file starts, in bytes. Default 16 MiB. */
  segmentBytes?: number;
}

export interface EmitterOptions {
  /** Bootstrap brokers, e.g. ['127.0.0.1:9092']. Required unless `kafka` is given. */
  brokers?: string[];
  /** An existing KafkaJS client to produce with (its retry/ssl/sasl settings apply). */
  kafka?: Kafka;
  /** Default 'usage.events'. */
  topic?: string;
  /** Default 'burnrate-sdk'. */
  clientId?: string;
  /** The `service` written into events that do not name one. Required. */
  service: string;
  /** The `environment` written into events that do not name one (schema v2). Default null. */
  environment?: string;
  /** How long a batch may wait to fill up before it is sent, in ms. Default 20. */
  lingerMs?: number;
  /** Most events in one produce request. Default 5000. */
  maxBatchEvents?: number;
  /**
   * Most key+value bytes in one produce request. Default 900_000, under the broker's default
   * message.max.bytes (1 MiB), which bounds each partition's record batch.
   */
  maxBatchBytes?: number;
  /** Most events held in memory (queued or being sent). Default 100_000. */
  maxQueueEvents?: number;
  /**
   * What emitAsync() does when the queue is full: 'reject' rejects with QueueFullError, 'block'
   * waits for room. emit() is synchronous and always throws QueueFullError when full.
   * Default 'reject'.
   */
  overflow?: 'reject' | 'block';
  retry?: RetryOptions;
  spool?: SpoolOptions;
  /** Default 'none'. gzip is built in; snappy, lz4 and zstd need a KafkaJS codec registered first. */
  compression?: Compression;
  /** How long the broker may wait for all in-sync replicas to acknowledge, in ms. Default 30_000. */
  ackTimeoutMs?: number;
  /** Called with events that will not be delivered (non-retriable error or retries used up). */
  onError?: (failure: DeliveryFailure) => void;
  /** pino-compatible; silent when omitted. */
  logger?: Logger;
  /** Encoder for events; default createUsageEventCodec() (latest bundled schema, single-object). */
  codec?: UsageEventCodec;
}

export type ResolvedOptions = Required<
  Omit<
    EmitterOptions,
    'brokers' | 'kafka' | 'spool' | 'onError' | 'logger' | 'codec' | 'environment' | 'retry'
  >
> & {
  retry: Required<RetryOptions>;
  spool: Required<SpoolOptions> | undefined;
};

function positiveInt(value: number, setting: string, unit: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new ConfigError(setting, `${setting} must be a positive integer (${unit}), got ${value}.`);
  }
  return value;
}

/** Applies defaults and rejects settings that cannot work, naming the setting. */
export function resolveOptions(o: EmitterOptions): ResolvedOptions {
  if (!o.kafka && (!Array.isArray(o.brokers) || o.brokers.length === 0)) {
    throw new ConfigError(
      'brokers',
      'brokers must list at least one host:port (or pass a KafkaJS client as kafka).',
    );
  }
  if (typeof o.service !== 'string' || o.service === '') {
    throw new ConfigError(
      'service',
      'service must name the emitting service; it is written into every event.',
    );
  }
  const compression = o.compression ?? 'none';
  if (!(compression in COMPRESSION_TYPES)) {
    throw new ConfigError(
      'compression',
      `compression must be none, gzip, snappy, lz4 or zstd, got ${compression}.`,
    );
  }
  if (!isCompressionAvailable(compression)) {
    throw new ConfigError(
      'compression',
      `compression ${compression} needs a KafkaJS codec: register one in CompressionCodecs before creating the emitter.`,
    );
  }
  const overflow = o.overflow ?? 'reject';
  if (overflow !== 'reject' && overflow !== 'block') {
    throw new ConfigError('overflow', `overflow must be 'reject' or 'block', got ${overflow}.`);
  }
  const maxBatchEvents = positiveInt(o.maxBatchEvents ?? 5000, 'maxBatchEvents', 'events');
  const maxQueueEvents = positiveInt(o.maxQueueEvents ?? 100_000, 'maxQueueEvents', 'events');
  const lingerMs = o.lingerMs ?? 20;
  if (!Number.isFinite(lingerMs) || lingerMs < 0) {
    throw new ConfigError('lingerMs', `lingerMs must be ≥ 0 milliseconds, got ${lingerMs}.`);
  }
  const maxAttempts = o.retry?.maxAttempts ?? Number.POSITIVE_INFINITY;
  if (!(maxAttempts >= 1)) throw new ConfigError('retry.maxAttempts', 'retry.maxAttempts must be ≥ 1.');
  const spool = o.spool && {
    dir: o.spool.dir,
    maxBytes: positiveInt(o.spool.maxBytes ?? 512 * 1024 * 1024, 'spool.maxBytes', 'bytes'),
    segmentBytes: positiveInt(o.spool.segmentBytes ?? 16 * 1024 * 1024, 'spool.segmentBytes', 'bytes'),
  };
  if (spool && (typeof spool.dir !== 'string' || spool.dir === '')) {
    throw new ConfigError('spool.dir', 'spool.dir must be a directory path.');
  }
  return {
    topic: o.topic ?? 'usage.events',
    clientId: o.clientId ?? 'burnrate-sdk',
    service: o.service,
    lingerMs,
    maxBatchEvents,
    maxBatchBytes: positiveInt(o.maxBatchBytes ?? 900_000, 'maxBatchBytes', 'bytes'),
    maxQueueEvents,
    overflow,
    compression,
    ackTimeoutMs: positiveInt(o.ackTimeoutMs ?? 30_000, 'ackTimeoutMs', 'milliseconds'),
    retry: {
      initialMs: positiveInt(o.retry?.initialMs ?? 100, 'retry.initialMs', 'milliseconds'),
      maxMs: positiveInt(o.retry?.maxMs ?? 10_000, 'retry.maxMs', 'milliseconds'),
      maxAttempts,
    },
    spool,
  };
}
