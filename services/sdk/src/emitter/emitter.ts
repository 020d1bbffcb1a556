import { createUsageEventCodec, type UsageEvent } from '@burnrate/core';
import kafkajs from 'kafkajs';
import { EmitterClosedError, FlushTimeoutError, QueueFullError } from '../errors.js';
import { kafkaLogCreator } from '../kafka/kafka-logger.js';
import { createKafkaSender } from '../kafka/kafka-sender.js';
import { silentLogger } from '../logger.js';
import { openSpool, type Spool } from '../spool/spool.js';
import { Delivery, type DeliveryCounters } from './delivery.js';
import { buildEvent, type EmitInput, type EventDefaults } from './event-builder.js';
import { type EmitterOptions, resolveOptions } from './options.js';
import { RingQueue } from './ring-queue.js';

export interface EmitterStats {
  /** Events emit() took. */
  accepted: number;
  /** Events refused with QueueFullError. */
  rejected: number;
  /** Events Kafka acknowledged (acks=-1), including ones drained from the spool. */
  sent: number;
  /** Events reported to onError: refused by Kafka for good, or out of retry attempts. */
  failed: number;
  /** Events in memory now: queued or in the batch being sent. */
  queued: number;
  /** Events on disk in the spool now, waiting to be sent. */
  spooled: number;
  /** Sends repeated after a retriable failure. */
  retries: number;
  /** Produce requests Kafka acknowledged. */
  batches: number;
}

export interface CloseReport {
  /**
   * True when nothing was left in memory at the deadline: every accepted event was acknowledged by
   * Kafka, spooled while the emitter ran, or reported failed. False when close() had to spool or
   * give up events.
   */
  complete: boolean;
  stats: EmitterStats;
  /** Events this close() wrote to the spool; a later emitter on the same spool.dir sends them. */
  spooled: number;
  /** Events neither acknowledged nor spooled. They may still have reached Kafka; re-emit them (same event_id) to be sure. */
  undelivered: { count: number; eventIds: string[] };
}

export interface Emitter {
  /**
   * Validates, fills defaults and the workflow context, and queues the event; returns its event_id.
   * Synchronous and cheap; the event is encoded and sent in the background.
   * @throws ValidationError naming the field; QueueFullError when the queue is full (whatever
   *   `overflow` says — a synchronous call cannot wait); EmitterClosedError after close().
   */
  emit(input: EmitInput): string;
  /** Like emit(), but with overflow 'block' waits for room instead of failing. */
  emitAsync(input: EmitInput): Promise<string>;
  /**
   * Resolves when every event accepted before the call is acknowledged by Kafka, durably spooled
   * (fsynced), or reported failed through onError. Rejects with FlushTimeoutError after timeoutMs.
   */
  flush(options?: { timeoutMs?: number }): Promise<void>;
  /**
   * Stops accepting events, flushes for up to timeoutMs (default 30_000), then hands whatever is
   * still in memory to the spool (or reports it undelivered) and releases the producer and spool.
   * Never hangs on a broker outage; idempotent.
   */
  close(options?: { timeoutMs?: number }): Promise<CloseReport>;
  stats(): EmitterStats;
}

interface Waiter {
  target: number;
  resolve: () => void;
}

/** Creates an emitter. Opens (and recovers) the spool when one is configured; does not wait for Kafka. */
export async function createEmitter(options: EmitterOptions): Promise<Emitter> {
  const o = resolveOptions(options);
  const logger = options.logger ?? silentLogger;
  const defaults: EventDefaults = { service: o.service, environment: options.environment ?? null };
  const kafka =
    options.kafka ??
    new kafkajs.Kafka({
      brokers: options.brokers!,
      clientId: o.clientId,
      logCreator: kafkaLogCreator(logger),
      // Short client-level retries: reconnecting during an outage is the emitter's loop's job.
      retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1_000 },
    });
  const spool: Spool | undefined = o.spool && (await openSpool({ ...o.spool, logger }));
  const queue = new RingQueue<UsageEvent>(o.maxQueueEvents);
  const counters: DeliveryCounters = { sent: 0, failed: 0, retries: 0, batches: 0 };
  const sender = createKafkaSender({
    kafka,
    topic: o.topic,
    compression: o.compression,
    ackTimeoutMs: o.ackTimeoutMs,
    logger,
  });
  let accepted = 0;
  let rejected = 0;
  let settledCount = 0;
  let flushWaiters: Waiter[] = [];
  const blocked: Array<{ event: UsageEvent; resolve: (id: string) => void; reject: (e: Error) => void }> = [];
  let closing: Promise<CloseReport> | undefined;

  const delivery = new Delivery({
    options: o,
    queue,
    codec: options.codec ?? createUsageEventCodec(),
    sender,
    spool,
    logger,
    counters,
    onError: options.onError,
    settled(count) {
      settledCount += count;
      if (flushWaiters.length > 0 && flushWaiters[0]!.target <= settledCount) {
        const due = flushWaiters.filter((w) => w.target <= settledCount);
        flushWaiters = flushWaiters.filter((w) => w.target > settledCount);
        for (const w of due) w.resolve();
      }
      while (blocked.length > 0 && hasRoom()) {
        const next = blocked.shift()!;
        enqueue(next.event);
        next.resolve(next.event.event_id);
      }
    },
    urgent: () => flushWaiters.length > 0 || closing !== undefined,
  });
  delivery.start();

  function hasRoom(): boolean {
    return queue.length + delivery.held < o.maxQueueEvents;
  }

  function enqueue(event: UsageEvent): void {
    queue.push(event);
    accepted++;
    const length = queue.length;
    if (length === 1) {
      delivery.firstQueuedAtMs = Date.now();
      delivery.notify();
    } else if (length === o.maxBatchEvents) delivery.notify();
  }

  function emit(input: EmitInput): string {
    if (closing) throw new EmitterClosedError();
    const event = buildEvent(input, defaults);
    if (blocked.length > 0 || !hasRoom()) {
      rejected++;
      throw new QueueFullError(o.maxQueueEvents);
    }
    enqueue(event);
    return event.event_id;
  }

  async function emitAsync(input: EmitInput): Promise<string> {
    if (closing) throw new EmitterClosedError();
    const event = buildEvent(input, defaults);
    if (blocked.length === 0 && hasRoom()) {
      enqueue(event);
      return event.event_id;
    }
    if (o.overflow === 'reject') {
      rejected++;
      throw new QueueFullError(o.maxQueueEvents);
    }
    return new Promise<string>((resolve, reject) => blocked.push({ event, resolve, reject }));
  }

  function flush(flushOptions: { timeoutMs?: number } = {}): Promise<void> {
    if (settledCount >= accepted) return Promise.resolve();
    const target = accepted;
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter: Waiter = {
        target,
        resolve: () => {
          if (timer) clearTimeout(timer);
          resolve();
        },
      };
      flushWaiters.push(waiter);
      delivery.notify();
      const timeoutMs = flushOptions.timeoutMs;
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          flushWaiters = flushWaiters.filter((w) => w !== waiter);
          reject(new FlushTimeoutError(timeoutMs, target - settledCount));
        }, timeoutMs);
      }
    });
  }

  function stats(): EmitterStats {
    return {
      accepted,
      rejected,
      sent: counters.sent,
      failed: counters.failed,
      queued: queue.length + delivery.held,
      spooled: spool?.pendingRecords ?? 0,
      retries: counters.retries,
      batches: counters.batches,
    };
  }

  async function shutdown(timeoutMs: number): Promise<CloseReport> {
    const deadline = Date.now() + timeoutMs;
    for (const b of blocked.splice(0)) b.reject(new EmitterClosedError());
    let complete = true;
    try {
      await flush({ timeoutMs });
    } catch {
      complete = false;
    }
    const outcome = await delivery.stop();
    // KafkaJS waits for requests in flight before it disconnects; do not let that outlive the deadline.
    const left = Math.max(deadline - Date.now(), 100);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([sender.close(), new Promise((r) => (timer = setTimeout(r, left)))]);
    clearTimeout(timer);
    await spool?.close();
    const report: CloseReport = {
      complete: complete && outcome.spooled === 0 && outcome.undelivered.length === 0,
      stats: stats(),
      spooled: outcome.spooled,
      undelivered: { count: outcome.undelivered.length, eventIds: outcome.undelivered },
    };
    if (!report.complete) {
      logger.warn(
        { spooled: report.spooled, undelivered: report.undelivered.count },
        'Emitter closed before Kafka acknowledged every event',
      );
    }
    return report;
  }

  return {
    emit,
    emitAsync,
    flush,
    close(closeOptions = {}) {
      closing ??= shutdown(closeOptions.timeoutMs ?? 30_000);
      return closing;
    },
    stats,
  };
}
