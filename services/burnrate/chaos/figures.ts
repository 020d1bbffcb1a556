import type { ClickHouseClient } from '@clickhouse/client';
import { Redis } from 'ioredis';
import { aggregateKeys } from '../src/redis/aggregate-keys.js';
import { createAggregateReader } from '../src/redis/aggregate-reader.js';
import type { EventPlan } from './event-plan.js';
import type { LoadResult } from './load.js';
import type { ReceiverCounts } from './webhook-receiver.js';

/** Every figure a scenario is judged by, read after the pipeline drained. */
export interface Figures {
  produced: number;
  acknowledged: number;
  producerFailed: number;
  facts: number;
  uniqueEventIds: number;
  costNanos: bigint;
  expectedCostNanos: bigint;
  hourly: { events: number; costNanos: bigint };
  period: { events: number; costNanos: bigint };
  redis: { events: number; costNanos: bigint };
  deadLetters: Record<string, number>;
  alertsExpected: number;
  /** Rows of `alerts` (FINAL) for fired alerts, and their distinct alert ids. */
  alertRows: number;
  alertIds: number;
  /** Messages recorded as delivered in `alert_deliveries`. */
  deliveredRecorded: number;
  receiver: ReceiverCounts;
  /** Fired alert ids the receiver never got answered 2xx for, and ids it got that were never fired. */
  undelivered: number;
  unknownDelivered: number;
}

export interface FigureSources {
  clickhouse: ClickHouseClient;
  database: string;
  redisUrl: string;
  prefix: string;
  plan: EventPlan;
  load: LoadResult;
  receiver: { counts(): ReceiverCounts; deliveredIds(): Set<string> };
}

export async function readFigures(s: FigureSources): Promise<Figures> {
  const q = async <T>(query: string) =>
    (await s.clickhouse.query({ query, format: 'JSONEachRow' })).json<T>();
  const db = s.database;
  const [facts] = await q<{ n: string; ids: string; cost: string }>(
    `SELECT count() AS n, uniqExact(event_id) AS ids, toString(sum(cost_total_nanos)) AS cost FROM ${db}.usage_events`,
  );
  const [hourly] = await q<{ n: string; cost: string }>(
    `SELECT toString(sum(events)) AS n, toString(sum(cost_total_nanos)) AS cost FROM ${db}.usage_hourly`,
  );
  const [period] = await q<{ n: string; cost: string }>(
    `SELECT toString(sum(events)) AS n, toString(sum(cost_total_nanos)) AS cost FROM ${db}.customer_period_cost`,
  );
  const dead = await q<{ reason: string; n: string }>(
    `SELECT reason, count() AS n FROM ${db}.dead_letters GROUP BY reason ORDER BY reason`,
  );
  const fired = await q<{ message_id: string; alert_id: string }>(
    `SELECT message_id, alert_id FROM ${db}.alerts FINAL WHERE event = 'fired'`,
  );
  const [delivered] = await q<{ n: string }>(
    `SELECT uniqExact(message_id) AS n FROM ${db}.alert_deliveries FINAL WHERE outcome = 'delivered'`,
  );
  const redis = await redisTotals(s.redisUrl, s.prefix, s.plan);
  const receivedIds = s.receiver.deliveredIds();
  const firedIds = new Set(fired.map((f) => f.message_id));
  return {
    produced: s.load.produced,
    acknowledged: s.load.acknowledged,
    producerFailed: s.load.failed,
    facts: Number(facts?.n ?? 0),
    uniqueEventIds: Number(facts?.ids ?? 0),
    costNanos: BigInt(facts?.cost ?? 0),
    expectedCostNanos: s.load.expectedCostNanos,
    hourly: { events: Number(hourly?.n ?? 0), costNanos: BigInt(hourly?.cost ?? 0) },
    period: { events: Number(period?.n ?? 0), costNanos: BigInt(period?.cost ?? 0) },
    redis,
    deadLetters: Object.fromEntries(dead.map((d) => [d.reason, Number(d.n)])),
    alertsExpected: s.plan.expectedAlerts,
    alertRows: fired.length,
    alertIds: new Set(fired.map((f) => f.alert_id)).size,
    deliveredRecorded: Number(delivered?.n ?? 0),
    receiver: s.receiver.counts(),
    undelivered: [...firedIds].filter((id) => !receivedIds.has(id)).length,
    unknownDelivered: [...receivedIds].filter((id) => !firedIds.has(id)).length,
  };
}

/** Period totals of the plan's customers as the aggregator holds them in Redis (0 when Redis has none). */
export async function redisTotals(url: string, prefix: string, plan: EventPlan) {
  const redis = new Redis(url, { maxRetriesPerRequest: 2, lazyConnect: true });
  redis.on('error', () => {});
  try {
    await redis.connect();
    const reader = createAggregateReader(redis, aggregateKeys(prefix));
    const epoch = await reader.epoch();
    if (!epoch) return { events: 0, costNanos: 0n };
    const snapshots = await reader.customers(
      epoch,
      plan.customers.map((c) => c.id),
      Date.now(),
      { windows: false },
    );
    let events = 0;
    let costNanos = 0n;
    for (const s of snapshots.values()) {
      events += s.period.events;
      costNanos += s.period.cost;
    }
    return { events, costNanos };
  } catch {
    return { events: -1, costNanos: -1n };
  } finally {
    redis.disconnect();
  }
}

/** What is off, one short phrase per figure; empty when every figure is exact. */
export function mismatches(f: Figures): string[] {
  const out: string[] = [];
  const want = (ok: boolean, what: string) => {
    if (!ok) out.push(what);
  };
  want(f.producerFailed === 0 && f.acknowledged >= f.produced, `producer lost ${f.producerFailed}`);
  want(f.facts === f.produced, `facts ${f.facts} ≠ ${f.produced}`);
  want(f.uniqueEventIds === f.produced, `unique ids ${f.uniqueEventIds} ≠ ${f.produced}`);
  want(f.costNanos === f.expectedCostNanos, `cost ${f.costNanos} ≠ ${f.expectedCostNanos}`);
  for (const [name, r] of [
    ['hourly', f.hourly],
    ['period', f.period],
    ['redis', f.redis],
  ] as const) {
    want(
      r.events === f.produced && r.costNanos === f.expectedCostNanos,
      `${name} ${r.events}/${r.costNanos} ≠ ${f.produced}/${f.expectedCostNanos}`,
    );
  }
  want(f.alertRows === f.alertsExpected, `alerts ${f.alertRows} ≠ ${f.alertsExpected}`);
  want(f.alertIds === f.alertRows, `alert ids ${f.alertIds} ≠ rows ${f.alertRows}`);
  want(f.receiver.delivered === f.alertsExpected, `delivered ${f.receiver.delivered} ≠ ${f.alertsExpected}`);
  want(
    f.undelivered === 0 && f.unknownDelivered === 0,
    `undelivered ${f.undelivered}, unknown ${f.unknownDelivered}`,
  );
  want(f.receiver.unverified === 0, `unverified webhooks ${f.receiver.unverified}`);
  want(
    f.deliveredRecorded === f.alertsExpected,
    `recorded deliveries ${f.deliveredRecorded} ≠ ${f.alertsExpected}`,
  );
  return out;
}

const usd = (nanos: bigint) => {
  const sign = nanos < 0n ? '-' : '';
  const abs = nanos < 0n ? -nanos : nanos;
  return `${sign}$${abs / 1_000_000_000n}.${(abs % 1_000_000_000n).toString().padStart(9, '0')}`;
};

/** The figures on one line. */
export function formatFigures(f: Figures): string {
  const dead = Object.entries(f.deadLetters)
    .map(([r, n]) => `${r}:${n}`)
    .join(',');
  return [
    `produced ${f.produced}${f.producerFailed ? ` (producer failed ${f.producerFailed})` : ''}`,
    `facts ${f.facts}`,
    `unique ${f.uniqueEventIds}`,
    `cost ${usd(f.costNanos)} vs ${usd(f.expectedCostNanos)}`,
    `rollups ${f.hourly.events}/${f.period.events}`,
    `redis ${f.redis.events} ${usd(f.redis.costNanos)}`,
    `alerts ${f.alertRows}/${f.alertsExpected}`,
    `deliveries ${f.receiver.delivered}/${f.alertsExpected} (recorded ${f.deliveredRecorded}, repeats ${f.receiver.repeats}, 500s ${f.receiver.failed})`,
    ...(dead ? [`dlq ${dead}`] : []),
  ].join(' | ');
}
