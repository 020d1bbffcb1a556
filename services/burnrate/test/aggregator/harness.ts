import { billingPeriodStart, oldestBucketSeconds } from '@burnrate/core';
import { Redis } from 'ioredis';
import { inject } from 'vitest';
import type { TopicNames } from '../../src/kafka/topics.js';
import { aggregateKeys } from '../../src/redis/aggregate-keys.js';
import { createAggregateReader } from '../../src/redis/aggregate-reader.js';
import { createLedger } from '../../src/roles/ledger/ledger.js';
import {
  enrichedRow,
  pollUntil,
  recordFatal,
  silentLogger,
  type testClickHouse,
  testClickHouseServer,
  testKafka,
} from '../fixtures.js';
import { spawnBurnrate } from '../process-harness.js';

/**
 * A ClickHouse (chDB in this process, served over HTTP to child processes), a ledger storing
 * usage.enriched into it, and helpers to run `burnrate run` aggregators as real processes and to
 * compare what Redis holds with what ClickHouse holds.
 */
export async function aggregatorStack() {
  const kafka = testKafka();
  const server = await testClickHouseServer();
  const { url } = server;
  const ch = { client: server.client, database: server.database, path: server.path };
  return {
    kafka,
    ch,
    url,
    ledger(topics: TopicNames, prefix: string) {
      return createLedger(
        {
          database: ch.database,
          topics,
          groupId: `${prefix}burnrate-ledger`,
          fetchWaitMs: 100,
          maxBatchBytes: 1024 * 1024,
          minBatchBytes: 1,
          dedup: true,
          retryLogIntervalMs: 5_000,
        },
        { kafka, clickhouse: ch.client, logger: silentLogger, fatal: recordFatal },
      );
    },
    aggregatorEnv(prefix: string, extra: Record<string, string> = {}): Record<string, string> {
      return {
        BURNRATE_ROLES: 'aggregator',
        KAFKA_BROKERS: inject('kafkaBrokers'),
        REDIS_URL: inject('redisUrl'),
        BURNRATE_TOPIC_PREFIX: prefix,
        CLICKHOUSE_URL: url,
        CLICKHOUSE_DATABASE: ch.database,
        AGGREGATOR_FETCH_WAIT_MS: '50',
        AGGREGATOR_SESSION_TIMEOUT_MS: '6000',
        ...extra,
      };
    },
    spawn: spawnBurnrate,
    stop: () => server.stop(),
  };
}

/** Recent usage rows for `customers` customers, spread over the last half hour, packed for Kafka. */
export function recentRows(n: number, nowMs: number, customers = 12): Array<Record<string, unknown>> {
  const period = billingPeriodStart(nowMs, 1);
  return Array.from({ length: n }, (_, i) => {
    const c = `cust-${i % customers}`;
    return enrichedRow(i, {
      customer_id: c,
      customer_ref: `ref-${c}`,
      occurred_at: nowMs - 60_000 - Math.floor((i * 7919) % 1_740_000),
      billing_period_start: period,
      workflow: `wf-${i % 4}`,
      workflow_run_id: `run-${c}-${Math.floor(i / 60)}`,
      attempt: i % 9 === 0 ? 2 : 1,
      model: i % 3 ? 'gpt-4o-mini' : 'gpt-4.1',
      cost_total_nanos: 1_000_000 + ((i * 104_729) % 9_000_000),
    });
  });
}

export interface Totals {
  cost: string;
  tokens: string;
  events: number;
}

/** Per customer and per (customer, workflow) totals of one topic's rows of the billing period, plus h1/h24 windows and runs, from ClickHouse. */
export async function clickhouseTotals(
  ch: Awaited<ReturnType<typeof testClickHouse>>,
  topic: string,
  nowMs: number,
) {
  const q = async <T>(sql: string) =>
    (await ch.client.query({ query: sql, format: 'JSONEachRow' })).json<T>();
  const tokens = 'tokens_input + tokens_cached_input + tokens_cache_write + tokens_output + tokens_reasoning';
  // Only this test's rows: test files share one ClickHouse.
  const facts = `(SELECT * FROM ${ch.database}.usage_events WHERE kafka_topic = '${topic}')`;
  const period = billingPeriodStart(nowMs, 1);
  const customers = await q<{ c: string; cost: string; tokens: string; n: string }>(
    `SELECT customer_id AS c, toString(sum(cost_total_nanos)) AS cost, toString(sum(${tokens})) AS tokens, count() AS n
     FROM ${facts} WHERE billing_period_start = '${period}' GROUP BY c ORDER BY c`,
  );
  const workflows = await q<{ c: string; w: string; cost: string }>(
    `SELECT customer_id AS c, workflow AS w, toString(sum(cost_total_nanos)) AS cost FROM ${facts}
     WHERE billing_period_start = '${period}' GROUP BY c, w ORDER BY c, w`,
  );
  const window = async (w: 'h1' | 'h24') =>
    q<{ c: string; cost: string }>(
      `SELECT customer_id AS c, toString(sum(cost_total_nanos)) AS cost FROM ${facts}
       WHERE toUnixTimestamp64Milli(occurred_at) >= ${oldestBucketSeconds(w, nowMs) * 1000}
         AND toUnixTimestamp64Milli(occurred_at) <= ${nowMs} GROUP BY c ORDER BY c`,
    );
  const runs = await q<{ id: string; cost: string; steps: string; retries: string }>(
    `SELECT workflow_run_id AS id, toString(sum(cost_total_nanos)) AS cost, count() AS steps, countIf(attempt > 1) AS retries
     FROM ${facts} GROUP BY id ORDER BY id`,
  );
  return {
    customers: customers.map((r) => ({ c: r.c, cost: r.cost, tokens: r.tokens, events: Number(r.n) })),
    workflows,
    h1: await window('h1'),
    h24: await window('h24'),
    runs: runs.map((r) => ({ id: r.id, cost: r.cost, steps: Number(r.steps), retries: Number(r.retries) })),
  };
}

/** The same figures as the aggregator holds them in Redis, read through the one read module. */
export async function redisTotals(
  redis: Redis,
  prefix: string,
  customerIds: string[],
  runIds: string[],
  nowMs: number,
) {
  const reader = createAggregateReader(redis, aggregateKeys(prefix));
  const epoch = await reader.epoch();
  if (!epoch) return undefined;
  const snapshots = await reader.customers(epoch, customerIds, nowMs);
  const ids = [...snapshots.keys()].sort();
  const period = billingPeriodStart(nowMs, 1);
  const workflows = [];
  for (const c of ids) {
    for (const w of await reader.dimensionTotals(epoch, c, period, 'workflow')) {
      workflows.push({ c, w: w.name, cost: w.cost.toString() });
    }
  }
  workflows.sort((a, b) => (a.c === b.c ? a.w.localeCompare(b.w) : a.c.localeCompare(b.c)));
  const runs = await reader.runs(epoch, runIds);
  return {
    customers: ids.map((c) => {
      const s = snapshots.get(c)!;
      return {
        c,
        cost: s.period.cost.toString(),
        tokens: s.period.tokens.toString(),
        events: s.period.events,
      };
    }),
    workflows,
    h1: ids.map((c) => ({ c, cost: snapshots.get(c)!.windows.h1.toString() })).filter((r) => r.cost !== '0'),
    h24: ids
      .map((c) => ({ c, cost: snapshots.get(c)!.windows.h24.toString() }))
      .filter((r) => r.cost !== '0'),
    runs: [...runs.values()]
      .map((r) => ({ id: r.runId, cost: r.cost.toString(), steps: r.steps, retries: r.retries }))
      .sort((a, b) => a.id.localeCompare(b.id)),
  };
}

export const eventsIn = (t: { customers: Array<{ events: number }> } | undefined) =>
  t ? t.customers.reduce((s, c) => s + c.events, 0) : 0;

export async function waitFor<T>(read: () => Promise<T>, done: (v: T) => boolean, timeoutMs: number) {
  return pollUntil(read, done, timeoutMs);
}

export function testRedis() {
  return new Redis(inject('redisUrl'));
}
