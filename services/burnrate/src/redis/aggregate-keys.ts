import type { Dimension, Subject, WindowName } from '@burnrate/core';
import { WINDOWS } from '@burnrate/core';

/**
 * Where the rolling aggregates live in Redis. Every derived key sits under an *epoch*: a rebuild
 * from ClickHouse writes a new epoch and switches to it atomically, a FLUSHALL (or a Redis restart
 * without persistence) removes the epoch key itself, and both are detected before any increment.
 * Alert states and the outboxes are not derived data and live outside the epochs.
 */
export interface AggregateKeys {
  /** The current epoch's id (a string key). */
  epoch: string;
  /** Held by the one instance rebuilding from ClickHouse. */
  rebuildLock: string;
  /** `firing` or `resolved`, per alert id. */
  alertState(alertId: string): string;
  /** Stream of alert messages waiting to be stored and queued. */
  alertOutbox: string;
  /** Stream of delivery attempts waiting to be stored. */
  deliveryOutbox: string;
  /** The notifier's switch for destinations that answered 410 Gone. */
  disabledDestinations: string;
  at(epoch: string): EpochKeys;
}

export interface EpochKeys {
  /** Hash: `<topic>/<partition>` → the last applied row position `offset:row`. */
  watermark: string;
  /** Hash per partition: subject → version; what changed and still needs the rules. */
  dirty(partition: number): string;
  /**
   * Hash per partition: customers whose trends (spike, forecast: the rolling windows) changed; judged
   * every sweep rather than after every batch, since reading windows costs far more than totals.
   */
  trends(partition: number): string;
  /** Set per partition: subjects with a firing alert that can resolve; re-judged as time passes. */
  watch(partition: number): string;
  /** Hash of a window's buckets: field `<bucket start s>` = nano-USD, `<bucket start s>t` = tokens. */
  window(subject: Subject, window: WindowName): string;
  day(subject: Subject, day: string): string;
  period(subject: Subject, periodStart: string): string;
  meta(customer: string): string;
  /** Set of the workflows (features, models) a customer had in a billing period. */
  dims(customer: string, periodStart: string, dimension: Dimension): string;
  run(runId: string): string;
  unpriced(day: string): string;
  /** Sorted set: customers of one plan (kind and revenue) by their current period cost. */
  plan(planKind: string, revenueNanos: string): string;
}

const DIMENSION_CODE: Record<Dimension, string> = { customer: 'c', workflow: 'w', feature: 'f', model: 'm' };
const enc = encodeURIComponent;

export function aggregateKeys(topicPrefix: string): AggregateKeys {
  const root = `${topicPrefix}burnrate:`;
  return {
    epoch: `${root}agg:epoch`,
    rebuildLock: `${root}agg:rebuild-lock`,
    alertState: (id) => `${root}alert:${id}`,
    alertOutbox: `${root}alerts:outbox`,
    deliveryOutbox: `${root}deliveries:outbox`,
    disabledDestinations: `${root}notifier:disabled`,
    at(epoch) {
      const base = `${root}agg:${epoch}:`;
      const subject = (s: Subject) =>
        s.dimension === 'customer'
          ? `${base}c:${enc(s.customer)}`
          : `${base}${DIMENSION_CODE[s.dimension]}:${enc(s.customer)}:${enc(s.value)}`;
      return {
        watermark: `${base}wm`,
        dirty: (p) => `${base}dirty:${p}`,
        trends: (p) => `${base}trends:${p}`,
        watch: (p) => `${base}watch:${p}`,
        window: (s, w) => `${subject(s)}:${w}`,
        day: (s, day) => `${subject(s)}:d:${day}`,
        period: (s, start) => `${subject(s)}:p:${start}`,
        meta: (c) => `${base}meta:${enc(c)}`,
        dims: (c, start, d) => `${base}dims:${enc(c)}:${start}:${DIMENSION_CODE[d]}`,
        run: (id) => `${base}run:${enc(id)}`,
        unpriced: (day) => `${base}unpriced:${day}`,
        plan: (kind, revenue) => `${base}plan:${enc(kind)}:${revenue}`,
      };
    },
  };
}

const DAY_S = 86_400;

/** How long each kind of key lives after its last write: what the longest window over it needs. */
export const TTL_SECONDS = {
  window: (w: WindowName) => (WINDOWS[w].spanMs + WINDOWS[w].bucketMs) / 1000 + 120,
  day: 2 * DAY_S + 3_600,
  /** A billing period is kept until a week after it closes; monthly periods are at most 31 days. */
  period: 40 * DAY_S,
  run: 2 * DAY_S,
} as const;
