import type { UsageEvent, UsageEventCodec } from '@burnrate/core';
import type { OutgoingBatch } from '../kafka/kafka-sender.js';
import type { SpoolRecord } from '../spool/record-format.js';
import type { RingQueue } from './ring-queue.js';

/** A batch taken from memory. `settles` counts its messages plus events that failed to encode. */
export interface MemoryBatch extends OutgoingBatch {
  settles: number;
  settled: boolean;
}

/**
 * Cuts batches from the queue, encoding events on the way (encoding here, not in emit(), keeps
 * the caller's cost down). Encoded events that did not fit, or came back from a batch the broker
 * found too large, wait in `front` and open the next batch, so acceptance order is kept.
 */
export class BatchAssembler {
  private front: SpoolRecord[] = [];
  private frontAt = 0;
  /** Events that failed to encode; they settle together with the next batch, in order. */
  private skipped = 0;
  private bytesLimit: number;

  constructor(
    private readonly queue: RingQueue<UsageEvent>,
    private readonly codec: UsageEventCodec,
    private readonly maxBatchEvents: number,
    maxBatchBytes: number,
    private readonly encodeFailed: (eventId: string, error: unknown) => void,
  ) {
    this.bytesLimit = maxBatchBytes;
  }

  /** Events waiting for a batch (queued or encoded in front). */
  get waiting(): number {
    return this.queue.length + this.front.length - this.frontAt;
  }

  /** Encoded events taken out of the queue but in no batch yet. */
  get heldInFront(): number {
    return this.front.length - this.frontAt;
  }

  get maxBatchBytes(): number {
    return this.bytesLimit;
  }

  /** Lowers the byte limit for every later batch (the broker accepts less than configured). */
  shrink(bytes: number): void {
    this.bytesLimit = Math.max(1, Math.min(this.bytesLimit, bytes));
  }

  take(): MemoryBatch {
    const messages: OutgoingBatch['messages'] = [];
    const eventIds: string[] = [];
    let bytes = 0;
    let settles = this.skipped;
    this.skipped = 0;
    while (messages.length < this.maxBatchEvents) {
      let record: SpoolRecord;
      if (this.frontAt < this.front.length) {
        record = this.front[this.frontAt++]!;
      } else {
        const event = this.queue.shift();
        if (event === undefined) break;
        try {
          record = { eventId: event.event_id, key: event.customer_ref, value: this.codec.encode(event) };
        } catch (error) {
          settles++;
          this.encodeFailed(event.event_id, error);
          continue;
        }
      }
      const size = record.value.length + Buffer.byteLength(record.key);
      if (messages.length > 0 && bytes + size > this.bytesLimit) {
        // Put it back: it opens the next batch. A slot before frontAt is always free when frontAt > 0.
        if (this.frontAt > 0) this.front[--this.frontAt] = record;
        else this.front.unshift(record);
        break;
      }
      messages.push({ key: record.key, value: record.value });
      eventIds.push(record.eventId);
      bytes += size;
      settles++;
    }
    if (this.frontAt === this.front.length) {
      this.front = [];
      this.frontAt = 0;
    }
    return { messages, eventIds, bytes, settles, settled: false };
  }

  /** Returns a batch's events to the front, to be re-cut (after shrink()) into smaller batches. */
  giveBack(batch: MemoryBatch): void {
    this.front = recordsOf(batch).concat(this.front.slice(this.frontAt));
    this.frontAt = 0;
    this.skipped += batch.settles - batch.messages.length;
    batch.settled = true; // not settled for the caller: its events settle with the next batches
  }

  /** Everything not yet in a batch, encoded, oldest first, and how many events that settles. */
  takeAll(): { records: SpoolRecord[]; settles: number } {
    const records = this.front.slice(this.frontAt);
    let settles = this.skipped + records.length;
    this.front = [];
    this.frontAt = 0;
    this.skipped = 0;
    for (const event of this.queue.drain()) {
      settles++;
      try {
        records.push({ eventId: event.event_id, key: event.customer_ref, value: this.codec.encode(event) });
      } catch (error) {
        this.encodeFailed(event.event_id, error);
      }
    }
    return { records, settles };
  }
}

/** The batch's messages as spool records (key and value are exactly what was to be sent). */
export function recordsOf(batch: OutgoingBatch): SpoolRecord[] {
  return batch.messages.map((m, i) => ({
    eventId: batch.eventIds[i]!,
    key: m.key as string,
    value: m.value as Buffer,
  }));
}
