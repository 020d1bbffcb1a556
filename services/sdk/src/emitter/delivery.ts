import { setTimeout as sleep } from 'node:timers/promises';
import type { UsageEvent, UsageEventCodec } from '@burnrate/core';
import { ProduceError } from '../errors.js';
import type { KafkaSender, OutgoingBatch } from '../kafka/kafka-sender.js';
import type { Logger } from '../logger.js';
import type { SpoolRecord } from '../spool/record-format.js';
import type { Spool } from '../spool/spool.js';
import { FailureLog } from './failure-log.js';
import type { DeliveryFailure, ResolvedOptions } from './options.js';
import type { RingQueue } from './ring-queue.js';
import { backoffMs, Signal } from './signal.js';
import { SpoolDrainer } from './spool-drainer.js';

/** Counters the delivery side moves; the emitter adds accepted/rejected and the gauges. */
export interface DeliveryCounters {
  sent: number;
  failed: number;
  retries: number;
  batches: number;
}

export interface DeliveryDeps {
  options: ResolvedOptions;
  queue: RingQueue<UsageEvent>;
  codec: UsageEventCodec;
  sender: KafkaSender;
  spool: Spool | undefined;
  logger: Logger;
  counters: DeliveryCounters;
  onError: ((failure: DeliveryFailure) => void) | undefined;
  /** `count` more accepted events reached a final state, in acceptance order. */
  settled(count: number): void;
  /** Someone waits in flush()/close(): send what is queued without lingering. */
  urgent(): boolean;
}

/** A batch taken from memory. `settles` counts its messages plus events that failed to encode. */
interface MemoryBatch extends OutgoingBatch {
  settles: number;
  settled: boolean;
}

/** What stop() did with the events still in memory. */
export interface StopOutcome {
  spooled: number;
  undelivered: string[];
}

/**
 * Moves events from the in-memory queue to Kafka: one batch in flight at a time (the idempotent
 * producer allows no more), lingering up to lingerMs for a batch to fill. Without a spool a
 * failed batch is retried with backoff until it goes through, fails for good, or close() gives up.
 * With a spool, the first failure switches to spooling: batches are appended to disk in order and
 * the SpoolDrainer sends them back out, oldest first, until the spool is empty again.
 */
export class Delivery {
  /** Encoded events taken from the queue that wait for the next batch (oldest first). */
  private front: SpoolRecord[] = [];
  private frontAt = 0;
  /** Events that failed to encode and whose settlement waits for the batch they sat in. */
  private frontSkipped = 0;
  private current: MemoryBatch | undefined;
  private batchBytesLimit: number;
  private readonly wake = new Signal();
  private readonly stopper = new AbortController();
  private appending: Promise<void> | undefined;
  private readonly failures: FailureLog;
  private readonly drainer: SpoolDrainer | undefined;
  /** When the queue last went from empty to non-empty (Date.now()); the linger clock. */
  firstQueuedAtMs = 0;

  constructor(private readonly deps: DeliveryDeps) {
    this.batchBytesLimit = deps.options.maxBatchBytes;
    this.failures = new FailureLog(deps.logger, deps.options.topic);
    if (deps.spool) {
      this.drainer = new SpoolDrainer({
        ...deps,
        spool: deps.spool,
        failures: this.failures,
        stopSignal: this.stopper.signal,
        batchBytesLimit: () => this.batchBytesLimit,
        shrinkBatches: (bytes) => this.shrink(bytes),
        appendInProgress: () => this.appending !== undefined,
        drained: () => this.wake.fire(),
      });
    }
  }

  /** Events out of the queue but not settled: counted against maxQueueEvents. */
  get held(): number {
    return (
      this.front.length -
      this.frontAt +
      (this.current && !this.current.settled ? this.current.messages.length : 0)
    );
  }

  start(): void {
    void this.run();
    this.drainer?.start();
  }

  /** New work, a flush, or a full batch: cut the linger short. */
  notify(): void {
    this.wake.fire();
  }

  private async run(): Promise<void> {
    const { queue, options, logger } = this.deps;
    while (!this.stopper.signal.aborted) {
      try {
        const waiting = queue.length + this.front.length - this.frontAt;
        if (waiting === 0) {
          await this.wake.wait();
          continue;
        }
        const full = waiting >= options.maxBatchEvents;
        const lingerLeftMs =
          full || this.deps.urgent() ? 0 : options.lingerMs - (Date.now() - this.firstQueuedAtMs);
        if (lingerLeftMs > 0) {
          await this.wake.wait(lingerLeftMs);
          continue;
        }
        const batch = this.take();
        this.current = batch;
        if (batch.messages.length === 0) this.settle(batch);
        else if (this.drainer?.spooling) await this.spoolBatch(batch);
        else await this.sendBatch(batch);
      } catch (error) {
        // A bug, not a Kafka failure (those are values, not exceptions): keep the loop alive.
        logger.error({ err: error }, 'Usage event delivery loop failed; continuing');
        await this.pause(1);
      }
    }
  }

  private take(): MemoryBatch {
    const { queue, codec, options } = this.deps;
    const messages: OutgoingBatch['messages'] = [];
    const eventIds: string[] = [];
    let bytes = 0;
    let settles = this.frontSkipped;
    this.frontSkipped = 0;
    while (messages.length < options.maxBatchEvents) {
      let record: SpoolRecord | undefined;
      if (this.frontAt < this.front.length) {
        record = this.front[this.frontAt++];
      } else {
        const event = queue.shift();
        if (event === undefined) break;
        try {
          record = { eventId: event.event_id, key: event.customer_ref, value: codec.encode(event) };
        } catch (error) {
          settles++;
          this.fail([event.event_id], error);
          continue;
        }
      }
      const size = record!.value.length + Buffer.byteLength(record!.key);
      if (messages.length > 0 && bytes + size > this.batchBytesLimit) {
        // Put it back: it opens the next batch. A slot before frontAt is always free when frontAt > 0.
        if (this.frontAt > 0) this.front[--this.frontAt] = record!;
        else this.front.unshift(record!);
        break;
      }
      messages.push({ key: record!.key, value: record!.value });
      eventIds.push(record!.eventId);
      bytes += size;
      settles++;
    }
    if (this.frontAt === this.front.length) {
      this.front = [];
      this.frontAt = 0;
    }
    return { messages, eventIds, bytes, settles, settled: false };
  }

  private async sendBatch(batch: MemoryBatch): Promise<void> {
    const { sender, options, counters } = this.deps;
    for (let attempt = 1; !this.stopper.signal.aborted; attempt++) {
      const error = await sender.send(batch);
      if (batch.settled) return; // close() took the batch over while the send was out
      if (!error) {
        counters.sent += batch.messages.length;
        counters.batches++;
        this.failures.recovered();
        this.settle(batch);
        return;
      }
      if (error.tooLarge && batch.messages.length > 1) {
        this.requeue(batch, error);
        return;
      }
      if (!error.retriable || attempt >= options.retry.maxAttempts) {
        this.failBatch(batch, error);
        return;
      }
      this.failures.failed(error, attempt, this.drainer !== undefined);
      if (this.drainer) {
        this.drainer.spooling = true;
        await this.spoolBatch(batch);
        return;
      }
      counters.retries++;
      await this.pause(attempt);
    }
  }

  /** Appends the batch to the spool, waiting for room when the spool is full. */
  private async spoolBatch(batch: MemoryBatch): Promise<void> {
    const records = recordsOf(batch);
    for (let attempt = 1; !this.stopper.signal.aborted && !batch.settled; attempt++) {
      this.appending = this.deps.spool!.append(records);
      try {
        await this.appending;
        this.settle(batch);
        this.drainer!.notify();
        return;
      } catch (error) {
        this.failures.spoolFailed(error);
        await this.drainer!.waitForRoom(backoffMs(attempt, 100, 5_000));
      } finally {
        this.appending = undefined;
      }
    }
  }

  /** The broker refused the batch as too large: halve the byte limit and resend in smaller batches. */
  private requeue(batch: MemoryBatch, error: ProduceError): void {
    this.shrink(Math.floor(batch.bytes / 2));
    this.deps.logger.warn(
      { code: error.code, batchBytes: batch.bytes, maxBatchBytes: this.batchBytesLimit },
      'Kafka refused a batch as too large; sending smaller batches',
    );
    const records = recordsOf(batch);
    this.front = records.concat(this.front.slice(this.frontAt));
    this.frontAt = 0;
    this.frontSkipped += batch.settles - batch.messages.length;
    batch.settled = true; // returned to the front, not settled: its events settle with the next batches
  }

  private shrink(bytes: number): void {
    this.batchBytesLimit = Math.max(1, Math.min(this.batchBytesLimit, bytes));
  }

  private settle(batch: MemoryBatch): void {
    if (batch.settled) return;
    batch.settled = true;
    if (this.current === batch) this.current = undefined;
    this.deps.settled(batch.settles);
  }

  private failBatch(batch: MemoryBatch, error: ProduceError): void {
    this.fail(batch.eventIds, error);
    this.settle(batch);
  }

  private fail(eventIds: string[], error: unknown): void {
    const produceError =
      error instanceof ProduceError
        ? error
        : new ProduceError('encode_failed', `The event could not be encoded: ${(error as Error).message}`, {
            retriable: false,
            cause: error,
          });
    this.deps.counters.failed += eventIds.length;
    this.failures.gaveUp(produceError, eventIds.length);
    this.deps.onError?.({ error: produceError, eventIds });
  }

  private async pause(attempt: number): Promise<void> {
    const { initialMs, maxMs } = this.deps.options.retry;
    await sleep(backoffMs(attempt, initialMs, maxMs), undefined, { signal: this.stopper.signal }).catch(
      () => {},
    );
  }

  /**
   * Stops both loops and takes over every event still in memory, oldest first: appended to the
   * spool when there is one (they will be sent by the next emitter on that directory), otherwise
   * returned as undelivered. A send still out may yet land in Kafka; that is a duplicate with the
   * same event_id, which downstream deduplication absorbs.
   */
  async stop(): Promise<StopOutcome> {
    this.stopper.abort();
    this.wake.fire();
    this.drainer?.stop();
    await this.appending?.catch(() => {});
    const records: SpoolRecord[] = [];
    let settles = this.frontSkipped;
    const current = this.current;
    if (current && !current.settled) {
      current.settled = true;
      settles += current.settles;
      records.push(...recordsOf(current));
    }
    for (let i = this.frontAt; i < this.front.length; i++) records.push(this.front[i]!);
    settles += this.front.length - this.frontAt;
    this.front = [];
    this.frontAt = 0;
    for (const event of this.deps.queue.drain()) {
      settles++;
      try {
        records.push({
          eventId: event.event_id,
          key: event.customer_ref,
          value: this.deps.codec.encode(event),
        });
      } catch (error) {
        this.fail([event.event_id], error);
      }
    }
    let outcome: StopOutcome = { spooled: 0, undelivered: records.map((r) => r.eventId) };
    if (records.length > 0 && this.deps.spool) {
      try {
        await this.deps.spool.append(records);
        outcome = { spooled: records.length, undelivered: [] };
      } catch (error) {
        this.deps.logger.error(
          { err: error, events: records.length },
          'Could not spool the pending events at close',
        );
      }
    }
    this.deps.settled(settles);
    return outcome;
  }
}

/** The batch's messages as spool records (key and value are exactly what was to be sent). */
function recordsOf(batch: OutgoingBatch): SpoolRecord[] {
  return batch.messages.map((m, i) => ({
    eventId: batch.eventIds[i]!,
    key: m.key as string,
    value: m.value as Buffer,
  }));
}
