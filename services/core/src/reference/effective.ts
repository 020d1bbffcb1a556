/**
 * Reference data (prices, overrides, customer plans) is effective-dated: each row holds over the
 * half-open window [from, to) of event time, so a replay of old events finds the rates of their day.
 */
export interface EffectiveWindow {
  readonly fromMs: number;
  /** Exclusive end; Infinity when the row is open-ended. */
  readonly toMs: number;
}

// Date-only means UTC midnight; a date-time must carry its zone, because Date.parse would read a
// zone-less time in the host's local zone and make pricing depend on the machine.
const ISO_INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,3})?)?(?:Z|[+-](\d{2}):(\d{2})))?$/;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * Reads an ISO-8601 date ("2025-06-01", UTC midnight) or date-time with zone into epoch
 * milliseconds; undefined for anything else, including impossible dates such as "2025-02-30"
 * (which Date.parse would quietly turn into March 2nd).
 */
export function instantMs(text: unknown): number | undefined {
  const match = typeof text === 'string' ? ISO_INSTANT.exec(text) : null;
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second, offsetHour, offsetMinute] = match.map(Number);
  const dateOk = month! >= 1 && month! <= 12 && day! >= 1 && day! <= daysInMonth(year!, month!);
  const timeOk =
    Number.isNaN(hour) || (hour! <= 23 && minute! <= 59 && (Number.isNaN(second) || second! <= 59));
  const zoneOk = Number.isNaN(offsetHour) || (offsetHour! <= 23 && offsetMinute! <= 59);
  const ms = Date.parse(text as string);
  return dateOk && timeOk && zoneOk && !Number.isNaN(ms) ? ms : undefined;
}

/** Canonical text of an instant, so the same moment always prints (and keys) the same way. */
export function formatInstant(ms: number): string {
  return new Date(ms).toISOString();
}

export function windowContains(window: EffectiveWindow, atMs: number): boolean {
  return window.fromMs <= atMs && atMs < window.toMs;
}

/**
 * Returns a pair of overlapping windows, or undefined. After sorting by start, any overlap shows up
 * between neighbours, so one pass suffices.
 */
export function findOverlap<T extends { window: EffectiveWindow }>(items: readonly T[]): [T, T] | undefined {
  const sorted = [...items].sort((a, b) => a.window.fromMs - b.window.fromMs);
  for (let i = 1; i < sorted.length; i++) {
    const previous = sorted[i - 1]!;
    const current = sorted[i]!;
    if (current.window.fromMs < previous.window.toMs) return [previous, current];
  }
  return undefined;
}
