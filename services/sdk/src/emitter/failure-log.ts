import type { ProduceError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { DeliveryFailure } from './options.js';

/** Attempts between repeated warnings while the broker stays unreachable. */
const WARN_EVERY_ATTEMPTS = 10;

/**
 * Logs a Kafka outage once when it starts, now and then while it lasts, and once when it ends —
 * not once per attempt, which during a long outage would bury everything else in the log.
 */
export class FailureLog {
  private failingSinceMs: number | undefined;
  private lastSpoolWarnMs = 0;

  constructor(
    private readonly logger: Logger,
    private readonly topic: string,
  ) {}

  failed(error: ProduceError, attempt: number, spooling: boolean): void {
    const fields = { code: error.code, topic: this.topic, attempt, err: error };
    if (this.failingSinceMs === undefined) {
      this.failingSinceMs = Date.now();
      this.logger.warn(
        fields,
        spooling
          ? `Kafka send failed (${error.code}); spooling usage events to disk until the broker is back`
          : `Kafka send failed (${error.code}); retrying with backoff, events wait in memory`,
      );
    } else if (attempt % WARN_EVERY_ATTEMPTS === 0) {
      const downMs = Date.now() - this.failingSinceMs;
      this.logger.warn(
        { ...fields, downMs },
        `Kafka still failing (${error.code}) after ${attempt} attempts`,
      );
    } else {
      this.logger.debug(fields, 'Kafka send failed; will retry');
    }
  }

  recovered(): void {
    if (this.failingSinceMs === undefined) return;
    const downMs = Date.now() - this.failingSinceMs;
    this.failingSinceMs = undefined;
    this.logger.info({ topic: this.topic, downMs }, 'Kafka accepts usage events again');
  }

  spoolFailed(error: unknown): void {
    const now = Date.now();
    if (now - this.lastSpoolWarnMs < 10_000) return;
    this.lastSpoolWarnMs = now;
    const code = (error as { code?: string }).code;
    this.logger.warn(
      { err: error, code },
      code === 'spool_full'
        ? 'The spool is full; usage events wait in memory until it drains'
        : 'Writing to the spool failed; usage events wait in memory',
    );
  }

  gaveUp(error: ProduceError, events: number): void {
    this.logger.error(
      { code: error.code, topic: this.topic, events, err: error },
      `Usage events not delivered: ${error.message}`,
    );
  }

  /**
   * Calls the application's onError. Its exceptions are logged, not propagated: they must not
   * stop the delivery loop or leave a flush() waiting for events that were already settled.
   */
  report(onError: ((failure: DeliveryFailure) => void) | undefined, failure: DeliveryFailure): void {
    if (!onError) return;
    try {
      onError(failure);
    } catch (error) {
      this.logger.error({ err: error, events: failure.eventIds.length }, 'The onError callback threw');
    }
  }
}
