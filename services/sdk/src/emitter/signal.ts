/**
 * A wake-up call for one waiting loop: wait() parks until fire() or the timeout, whichever comes
 * first. fire() with nobody waiting is a no-op, which is what the hot path wants — the loop
 * re-checks its conditions after every wait, so a missed wake-up costs nothing.
 */
export class Signal {
  private resolve: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;

  wait(timeoutMs?: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.resolve = resolve;
      if (timeoutMs !== undefined) this.timer = setTimeout(() => this.fire(), Math.max(0, timeoutMs));
    });
  }

  fire(): void {
    const resolve = this.resolve;
    if (!resolve) return;
    this.resolve = undefined;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    resolve();
  }
}

/** Exponential backoff with jitter: a fleet of emitters must not hammer a recovering broker in step. */
export function backoffMs(attempt: number, initialMs: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}
