/**
 * Rolling windows from time buckets. A window's total is the sum of its last `span / bucket` buckets,
 * the current (partial) one included, so "the last hour" at one-minute resolution covers between 59
 * and 60 minutes. Buckets are keyed by their start in epoch seconds, by the event's occurred_at, so
 * a replayed or late event lands where it belongs.
 */
export const WINDOWS = {
  /** The last 5 minutes at 10-second resolution (30 buckets). */
  m5: { spanMs: 5 * 60_000, bucketMs: 10_000, label: '5m' },
  /** The last hour at 1-minute resolution (60 buckets). */
  h1: { spanMs: 3_600_000, bucketMs: 60_000, label: '1h' },
  /** The last 24 hours at 30-minute resolution (48 buckets). */
  h24: { spanMs: 86_400_000, bucketMs: 1_800_000, label: '24h' },
} as const;

export type WindowName = keyof typeof WINDOWS;
export const WINDOW_NAMES = Object.keys(WINDOWS) as WindowName[];

export const DAY_MS = 86_400_000;

/** Workflow runs are followed for this long after a step (an agent run longer than two days is not one run). */
export const RUN_HORIZON_MS = 2 * DAY_MS;

/** Start (epoch seconds) of the bucket of `window` holding `atMs`. */
export function bucketStartSeconds(window: WindowName, atMs: number): number {
  const { bucketMs } = WINDOWS[window];
  return (Math.floor(atMs / bucketMs) * bucketMs) / 1000;
}

/** The first bucket start (epoch seconds) that still counts in `window` at `nowMs`. */
export function oldestBucketSeconds(window: WindowName, nowMs: number): number {
  const { spanMs, bucketMs } = WINDOWS[window];
  return bucketStartSeconds(window, nowMs) - (spanMs - bucketMs) / 1000;
}

/** Whether an event at `atMs` still counts in `window` at `nowMs` (future events count once they are due). */
export function inWindow(window: WindowName, atMs: number, nowMs: number): boolean {
  return bucketStartSeconds(window, atMs) >= oldestBucketSeconds(window, nowMs);
}

/** Sums the buckets of a window at `nowMs` from `bucket start seconds → amount` pairs. */
export function sumWindow(window: WindowName, buckets: Iterable<[number, bigint]>, nowMs: number): bigint {
  const from = oldestBucketSeconds(window, nowMs);
  const to = bucketStartSeconds(window, nowMs);
  let total = 0n;
  for (const [start, amount] of buckets) if (start >= from && start <= to) total += amount;
  return total;
}

let lastDay = Number.NaN;
let lastDayText = '';

/** The UTC day (YYYY-MM-DD) holding `atMs`. Called for every event: the last answer is kept. */
export function utcDay(atMs: number): string {
  const day = Math.floor(atMs / DAY_MS);
  if (day !== lastDay) {
    lastDayText = new Date(day * DAY_MS).toISOString().slice(0, 10);
    lastDay = day;
  }
  return lastDayText;
}

/** Epoch ms of 00:00 UTC of a YYYY-MM-DD day. */
export function dayStartMs(day: string): number {
  return Date.parse(`${day}T00:00:00Z`);
}

/**
 * Epoch ms at which a monthly billing period starting on `periodStart` (YYYY-MM-DD, anchor day 1–28
 * so every month has it) ends: the same day of the next month.
 */
export function billingPeriodEndMs(periodStart: string): number {
  const start = new Date(`${periodStart}T00:00:00Z`);
  return Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, start.getUTCDate());
}
