import { setTimeout as sleep } from 'node:timers/promises';
import type { UsageEvent, UsageEventCodec } from '@burnrate/core';
import { ProduceError } from '../errors.js';
import type { KafkaSender } from '../kafka/kafka-sender.js';
import type { Logger } from '../logger.js';
import type { Spool } from '../spool/spool.js';
import { BatchAssembler, type MemoryBatch, recordsOf } from './batch-assembler.js';
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
  private readonly batches: BatchAssembler;
  private current: MemoryBatch | undefined;
  private readonly wake = new Signal();
  private readonly stopper = new AbortController();
  private appending: Promise<void> | undefined;
  private readonly failures: FailureLog;
  private readonly drainer: SpoolDrainer | undefined;
  /** When the queue last went from empty to non-empty (Date.now()); the linger clock. */
  firstQueuedAtMs = 0;

  constructor(private readonly deps: DeliveryDeps) {
    const { options } = deps;
    this.failures = new FailureLog(deps.logger, options.topic);
    this.batches = new BatchAssembler(
      deps.queue,
      deps.codec,
      options.maxBatchEvents,
      options.maxBatchBytes,
      (id, e) => this.fail([id], e),
    );
    if (deps.spool) {
      this.drainer = new SpoolDrainer({
        ...deps,
        spool: deps.spool,
        failures: this.failures,
        stopSignal: this.stopper.signal,
        batchBytesLimit: () => this.batches.maxBatchBytes,
        shrinkBatches: (bytes) => this.batches.shrink(bytes),
        appendInProgress: () => this.appending !== undefined,
        drained: () => this.wake.fire(),
      });
    }
  }

  /** Events out of the queue but not settled: counted against maxQueueEvents. */
  get held(): number {
    const current = this.current;
    return this.batches.heldInFront + (current && !current.settled ? current.messages.length : 0);
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
    const { options, logger } = this.deps;
    while (!this.stopper.signal.aborted) {
      try {
        const waiting = this.batches.waiting;
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
        const batch = this.batches.take();
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
        this.batches.shrink(Math.floor(batch.bytes / 2));
        this.deps.logger.warn(
          { code: error.code, batchBytes: batch.bytes, maxBatchBytes: this.batches.maxBatchBytes },
          'Kafka refused a batch as too large; sending smaller batches',
        );
        this.batches.giveBack(batch);
        this.current = undefined;
        return;
      }
      if (!error.retriable || attempt >= options.retry.maxAttempts) {
        this.fail(batch.eventIds, error);
        this.settle(batch);
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

  private settle(batch: MemoryBatch): void {
    if (batch.settled) return;
    batch.settled = true;
    if (this.current === batch) this.current = undefined;
    this.deps.settled(batch.settles);
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
    this.failures.report(this.deps.onError, { error: produceError, eventIds });
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
    const current = this.current;
    const inFlight = current && !current.settled ? recordsOf(current) : [];
    let settles = 0;
    if (current && !current.settled) {
      current.settled = true;
      settles += current.settles;
    }
    const rest = this.batches.takeAll();
    const records = inFlight.concat(rest.records);
    settles += rest.settles;
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
