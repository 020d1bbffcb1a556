import { BurnrateError } from '@burnrate/core';

/**
 * The in-memory queue holds `maxQueueEvents` events and the broker is not taking them fast enough
 * (or at all). Retriable: the same emit can succeed once the queue drains.
 */
export class QueueFullError extends BurnrateError {
  constructor(maxQueueEvents: number) {
    super(
      'queue_full',
      `The emitter's queue is full (${maxQueueEvents} events waiting for Kafka): the event was not accepted. Raise maxQueueEvents, configure a spool, or use emitAsync() with overflow 'block' to wait for room.`,
      { retriable: true, field: 'maxQueueEvents' },
    );
  }
}

/** emit() after close() began. Not retriable on this emitter. */
export class EmitterClosedError extends BurnrateError {
  constructor() {
    super('emitter_closed', 'The emitter is closed (or closing) and accepts no more events.');
  }
}

/** flush({ timeoutMs }) ran out of time; the events are still queued and will still be sent. */
export class FlushTimeoutError extends BurnrateError {
  constructor(timeoutMs: number, pending: number) {
    super(
      'flush_timeout',
      `flush() gave up after ${timeoutMs} ms with ${pending} events not yet acknowledged by Kafka; they stay queued and are still being sent.`,
      { retriable: true },
    );
  }
}

/**
 * Sending a batch to Kafka failed. Classified once from the KafkaJS error (see kafka/classify.ts):
 * `retriable` means the same batch can succeed later (broker down, leader moving); otherwise the
 * events in it are reported as failed.
 */
export class ProduceError extends BurnrateError {
  /** The batch is larger than the broker accepts: split it and send the halves. */
  readonly tooLarge: boolean;
  /** The producer's idempotence state is out of step with the broker: start a new producer. */
  readonly resetProducer: boolean;

  constructor(
    code: string,
    message: string,
    options: { retriable: boolean; tooLarge?: boolean; resetProducer?: boolean; cause?: unknown },
  ) {
    super(code, message, { retriable: options.retriable, cause: options.cause });
    this.tooLarge = options.tooLarge ?? false;
    this.resetProducer = options.resetProducer ?? false;
  }
}

/** The on-disk spool cannot take or give events. `code` says why. */
export class SpoolError extends BurnrateError {
  constructor(
    code: 'spool_locked' | 'spool_full' | 'spool_io' | 'spool_corrupt',
    message: string,
    options: { retriable: boolean; cause?: unknown },
  ) {
    super(code, message, { retriable: options.retriable, field: 'spool.dir', cause: options.cause });
  }
}
