import type { UsageEvent } from '../contract/usage-event.js';

export interface TimelinessLimits {
  /** Events older than now minus this are refused: their periods are closed and rolled up. */
  lateHorizonMs: number;
  /** Events later than now plus this are refused: a clock that far ahead is broken. */
  maxFutureSkewMs: number;
}

/** Why an event's time is not acceptable; the dead-letter reason code. */
export type TimelinessReason = 'too_old' | 'in_future';

/**
 * Checks `occurred_at` against the enricher's clock. Both limits are inclusive: an event exactly
 * at the horizon or at the skew limit is accepted.
 */
export function checkEventTimeliness(
  event: Pick<UsageEvent, 'occurred_at'>,
  nowMs: number,
  limits: TimelinessLimits,
): TimelinessReason | null {
  if (event.occurred_at < nowMs - limits.lateHorizonMs) return 'too_old';
  if (event.occurred_at > nowMs + limits.maxFutureSkewMs) return 'in_future';
  return null;
}
