import type { Logger } from 'pino';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Exponential backoff with full jitter, capped. */
export function backoffMs(attempt: number, initialMs: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 20));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

/** Logs a repeating failure once per interval, and its recovery once. */
export class ThrottledLog {
  private lastAt = 0;
  private suppressed = 0;
  private failing = false;

  constructor(
    private readonly log: Logger,
    private readonly intervalMs: number,
  ) {}

  warn(obj: object, message: string): void {
    this.failing = true;
    const now = Date.now();
    if (now - this.lastAt < this.intervalMs) {
      this.suppressed++;
      return;
    }
    this.log.warn({ ...obj, repeatsSinceLastLog: this.suppressed }, message);
    this.lastAt = now;
    this.suppressed = 0;
  }

  recovered(message: string): void {
    if (!this.failing) return;
    this.failing = false;
    this.lastAt = 0;
    this.log.info(message);
  }
}
