import { setTimeout as sleep } from 'node:timers/promises';
import type { ProduceError } from '../errors.js';
import type { OutgoingBatch } from '../kafka/kafka-sender.js';
import type { Spool, SpoolBatch } from '../spool/spool.js';
import type { DeliveryDeps } from './delivery.js';
import type { FailureLog } from './failure-log.js';
import { backoffMs, Signal } from './signal.js';

export interface SpoolDrainerDeps extends DeliveryDeps {
  spool: Spool;
  failures: FailureLog;
  stopSignal: AbortSignal;
  batchBytesLimit(): number;
  shrinkBatches(bytes: number): void;
  appendInProgress(): boolean;
  /** The spool is empty again and memory batches may go straight to Kafka. */
  drained(): void;
}

/**
 * Sends spooled events back to Kafka, oldest first, and acknowledges them in the spool once Kafka
 * has them. While anything is on disk the emitter is `spooling`: new batches are appended behind
 * it instead of overtaking it, so events leave in the order they were accepted. Spooled events are
 * retried until delivered (retry.maxAttempts does not apply): surviving an outage is the point.
 */
export class SpoolDrainer {
  /** True while events are on disk (or being appended); memory batches then go to the spool. */
  spooling: boolean;
  private readonly wake = new Signal();
  private readonly room = new Signal();

  constructor(private readonly deps: SpoolDrainerDeps) {
    // Events left by an earlier run go out before anything this run accepts.
    this.spooling = deps.spool.pendingRecords > 0;
  }

  start(): void {
    void this.run();
  }

  notify(): void {
    this.wake.fire();
  }

  /** Resolves when an acknowledgement freed spool space, or after `timeoutMs`. */
  waitForRoom(timeoutMs: number): Promise<void> {
    return this.room.wait(timeoutMs);
  }

  stop(): void {
    this.wake.fire();
    this.room.fire();
  }

  private async run(): Promise<void> {
    const { spool, options, stopSignal, logger } = this.deps;
    let errors = 0;
    while (!stopSignal.aborted) {
      try {
        if (spool.pendingRecords === 0) {
          if (this.spooling && !this.deps.appendInProgress()) {
            this.spooling = false;
            logger.info({}, 'Spool drained; sending usage events directly again');
            this.deps.drained();
          }
          await this.wake.wait();
          continue;
        }
        this.spooling = true;
        const batch = await spool.read(options.maxBatchEvents, this.deps.batchBytesLimit());
        if (batch) await this.send(batch);
        else await this.wake.wait(100);
        errors = 0;
      } catch (error) {
        logger.error({ err: error }, 'Reading the spool failed; retrying');
        await this.pause(++errors);
      }
    }
  }

  private async send(batch: SpoolBatch): Promise<void> {
    const { sender, counters, failures } = this.deps;
    const out: OutgoingBatch = {
      messages: batch.records.map((r) => ({ key: r.key, value: r.value })),
      eventIds: batch.records.map((r) => r.eventId),
      bytes: batch.records.reduce((sum, r) => sum + r.value.length + Buffer.byteLength(r.key), 0),
    };
    for (let attempt = 1; !this.deps.stopSignal.aborted; attempt++) {
      const error = await sender.send(out);
      if (!error) {
        counters.sent += out.messages.length;
        counters.batches++;
        failures.recovered();
        await this.acknowledge(batch);
        return;
      }
      if (error.tooLarge && out.messages.length > 1) {
        this.deps.shrinkBatches(Math.floor(out.bytes / 2));
        return; // the next read takes fewer records
      }
      if (!error.retriable) {
        this.giveUp(out, error);
        await this.acknowledge(batch);
        return;
      }
      failures.failed(error, attempt, true);
      counters.retries++;
      await this.pause(attempt);
    }
  }

  private async acknowledge(batch: SpoolBatch): Promise<void> {
    await this.deps.spool.ack(batch);
    this.room.fire();
  }

  private giveUp(out: OutgoingBatch, error: ProduceError): void {
    this.deps.counters.failed += out.eventIds.length;
    this.deps.failures.gaveUp(error, out.eventIds.length);
    this.deps.failures.report(this.deps.onError, { error, eventIds: out.eventIds });
  }

  private async pause(attempt: number): Promise<void> {
    const { initialMs, maxMs } = this.deps.options.retry;
    await sleep(backoffMs(attempt, initialMs, maxMs), undefined, { signal: this.deps.stopSignal }).catch(
      () => {},
    );
  }
}
