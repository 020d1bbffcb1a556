import { ClickHouseException, CODES } from './errors.js';

export interface Limiter {
  /** Waits for a free slot; resolves to the function that frees it. Rejects when the queue is full or `signal` aborts. */
  acquire(signal?: AbortSignal): Promise<() => void>;
  readonly running: number;
  readonly queued: number;
}

/**
 * Bounds how many requests use the engine at once. chDB runs each call on the libuv thread pool
 * (4 threads by default), which the rest of the process needs too, so an unbounded number of
 * analyst queries would stall file I/O, DNS and the owner's own ClickHouse writes.
 */
export function createLimiter(maxConcurrent: number, maxQueued: number): Limiter {
  let running = 0;
  const waiting: Array<() => void> = [];

  const release = () => {
    running--;
    const next = waiting.shift();
    if (next) {
      running++;
      next();
    }
  };

  return {
    get running() {
      return running;
    },
    get queued() {
      return waiting.length;
    },
    acquire(signal) {
      if (running < maxConcurrent) {
        running++;
        return Promise.resolve(once(release));
      }
      if (waiting.length >= maxQueued) {
        return Promise.reject(
          new ClickHouseException(
            CODES.TOO_MANY_SIMULTANEOUS_QUERIES,
            `Too many simultaneous queries: ${running} running and ${waiting.length} queued (maxConcurrentQueries, maxQueuedQueries)`,
            { retriable: true },
          ),
        );
      }
      return new Promise((resolve, reject) => {
        const grant = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(once(release));
        };
        const onAbort = () => {
          const index = waiting.indexOf(grant);
          if (index !== -1) waiting.splice(index, 1);
          reject(
            new ClickHouseException(
              CODES.QUERY_WAS_CANCELLED,
              'The client went away while the query was queued',
            ),
          );
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        waiting.push(grant);
      });
    },
  };
}

function once(fn: () => void): () => void {
  let called = false;
  return () => {
    if (called) return;
    called = true;
    fn();
  };
}
