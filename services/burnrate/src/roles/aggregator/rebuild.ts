import { randomUUID } from 'node:crypto';
import {
  BatchAggregate,
  BurnrateError,
  DAY_MS,
  dayIsOpen,
  oldestBucketSeconds,
  periodIsOpen,
  RUN_HORIZON_MS,
  utcDay,
  WINDOW_NAMES,
  WINDOWS,
} from '@burnrate/core';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { classifyClickHouseError } from '../../clickhouse/errors.js';
import type { AggregateKeys } from '../../redis/aggregate-keys.js';
import { ALERT_STATE_TTL_SECONDS, type AlertStore } from '../../redis/alert-store.js';
import { batchOps, writeUnpublished } from '../../redis/apply.js';
import { ALL_ROWS } from './position.js';

export interface RebuildDeps {
  clickhouse: ClickHouseClient;
  database: string;
  redis: Redis;
  keys: AggregateKeys;
  kafka: Kafka;
  alerts: AlertStore;
  logger: Logger;
}

export interface RebuildTarget {
  /** usage.enriched */
  topic: string;
  /** The ledger's consumer group: its committed offsets say what ClickHouse holds for sure. */
  ledgerGroupId: string;
  nowMs: number;
  /** The token of the rebuild lock this rebuild holds; the epoch is published only while it does. */
  lockToken: string;
  beforePublish?: () => Promise<void>;
}

/** Publishes a rebuilt epoch only if this rebuild still holds the lock and all its data survived. */
const PUBLISH = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] or redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1]) end
redis.call('SET', KEYS[4], ARGV[2])
redis.call('DEL', KEYS[2])
return 1`;

/** Takes the rebuild lock; null when another instance holds it. */
export async function takeRebuildLock(redis: Redis, keys: AggregateKeys) {
  const token = randomUUID();
  if (!(await redis.set(keys.rebuildLock, token, 'PX', LOCK_MS, 'NX'))) return null;
  // Renewed while held, so a rebuild longer than LOCK_MS keeps it; released only by its holder.
  const renew = setInterval(
    () => void redis.eval(RENEW, 1, keys.rebuildLock, token, String(LOCK_MS)).catch(() => {}),
    LOCK_MS / 4,
  );
  renew.unref();
  return {
    token,
    async release() {
      clearInterval(renew);
      await redis.eval(RELEASE, 1, keys.rebuildLock, token);
    },
  };
}

const LOCK_MS = 120_000;
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

const TOKENS = 'tokens_input + tokens_cached_input + tokens_cache_write + tokens_output + tokens_reasoning';

/**
 * Rebuilds the open windows from ClickHouse into a NEW epoch and switches to it. Only rows the ledger
 * has committed are read — every offset below its committed offset is durable in ClickHouse — and
 * each partition's watermark is set to exactly that point, so the aggregator continues from Kafka
 * where ClickHouse's certain knowledge ends: nothing counted twice, nothing missed. Alert states are
 * restored from the alerts table, so a rebuild re-fires nothing already sent.
 */
export async function rebuildFromClickHouse(t: RebuildTarget, d: RebuildDeps): Promise<string> {
  const committed = await ledgerOffsets(d.kafka, t.ledgerGroupId, t.topic);
  const epoch = `e${t.nowMs.toString(36)}${randomUUID().slice(0, 4)}`;
  const covered = [...committed].filter(([, offset]) => offset > 0n);
  const params = { topic: t.topic };
  const where = covered.length
    ? `kafka_topic = {topic:String} AND (${covered.map(([p, o]) => `(kafka_partition = ${p} AND kafka_offset < ${o})`).join(' OR ')})`
    : '0';
  const query = async <T>(sql: string): Promise<T[]> => {
    if (!covered.length) return [];
    try {
      const rs = await d.clickhouse.query({ query: sql, query_params: params, format: 'JSONEachRow' });
      return await rs.json<T>();
    } catch (error) {
      throw classifyClickHouseError(error, 'the rebuild of the rolling aggregates');
    }
  };
  const facts = `${d.database}.usage_events`;
  const batch = new BatchAggregate(t.nowMs);
  const partitionOf = new Map<string, number>();
  type Group = { c: string; w: string; f: string; m: string; cost: string; tokens: string; n: string };
  const totals = (g: Group) => ({ cost: BigInt(g.cost), tokens: BigInt(g.tokens), events: Number(g.n) });
  const group = (g: Group) => ({ customer: g.c, workflow: g.w, feature: g.f, model: g.m });
  const groupBy = `customer_id AS c, workflow AS w, feature AS f, concat(provider, '/', model) AS m, sum(cost_total_nanos) AS cost, sum(${TOKENS}) AS tokens, count() AS n`;

  for (const w of WINDOW_NAMES) {
    const bucketMs = WINDOWS[w].bucketMs;
    const from = oldestBucketSeconds(w, t.nowMs) * 1000;
    const rows = await query<Group & { start: string }>(
      `SELECT ${groupBy}, intDiv(toUnixTimestamp64Milli(occurred_at), ${bucketMs}) * ${bucketMs / 1000} AS start
       FROM ${facts} WHERE occurred_at >= fromUnixTimestamp64Milli(${from}) AND ${where} GROUP BY c, w, f, m, start`,
    );
    for (const g of rows)
      batch.addGroup(group(g), { kind: 'window', window: w, start: Number(g.start) }, totals(g));
  }
  const yesterday = utcDay(t.nowMs - DAY_MS);
  for (const g of await query<Group & { day: string }>(
    `SELECT ${groupBy}, toString(toDate(occurred_at)) AS day FROM ${facts}
     WHERE occurred_at >= toDateTime64('${yesterday} 00:00:00', 3, 'UTC') AND ${where} GROUP BY c, w, f, m, day`,
  )) {
    if (dayIsOpen(g.day, t.nowMs)) batch.addGroup(group(g), { kind: 'day', day: g.day }, totals(g));
  }
  const since = utcDay(t.nowMs - 40 * DAY_MS);
  for (const g of await query<Group & { p: string }>(
    `SELECT ${groupBy}, toString(billing_period_start) AS p FROM ${facts}
     WHERE billing_period_start >= '${since}' AND ${where} GROUP BY c, w, f, m, p`,
  )) {
    if (periodIsOpen(g.p, t.nowMs)) batch.addGroup(group(g), { kind: 'period', start: g.p }, totals(g));
  }
  // Aliases differ from column names: ClickHouse resolves an alias before a column of the same name.
  const latest = (column: string) => `argMax(${column}, (billing_period_start, occurred_at))`;
  for (const m of await query<Record<string, string>>(
    `SELECT customer_id AS cid, ${latest('customer_ref')} AS ref, ${latest('customer_name')} AS nm,
            ${latest('plan_kind')} AS pk, ${latest('plan_currency')} AS pc,
            toString(${latest('plan_revenue_nanos')}) AS rev, toString(${latest('monthly_budget_nanos')}) AS bud,
            toString(max(billing_period_start)) AS period, max(unmapped) AS um, any(kafka_partition) AS part
     FROM ${facts} WHERE billing_period_start >= '${since}' AND ${where} GROUP BY customer_id`,
  )) {
    batch.noteCustomer({
      customer_id: m.cid!,
      customer_ref: m.ref!,
      name: m.nm!,
      plan_kind: m.pk!,
      plan_currency: m.pc!,
      plan_revenue_nanos: m.rev!,
      monthly_budget_nanos: m.bud!,
      billing_period_start: m.period!,
      unmapped: Number(m.um) === 1,
    });
    partitionOf.set(`c:${m.cid}`, Number(m.part));
  }
  for (const r of await query<Record<string, string>>(
    `SELECT workflow_run_id AS id, any(customer_id) AS cust, any(workflow) AS wf,
            sum(cost_total_nanos) AS cost, sum(${TOKENS}) AS tokens, count() AS steps, countIf(attempt > 1) AS retries,
            max(depth) AS depth, min(toUnixTimestamp64Milli(occurred_at)) AS first, max(toUnixTimestamp64Milli(occurred_at)) AS last,
            any(kafka_partition) AS part
     FROM ${facts} WHERE workflow_run_id != '' AND occurred_at >= fromUnixTimestamp64Milli(${t.nowMs - RUN_HORIZON_MS}) AND ${where}
     GROUP BY workflow_run_id`,
  )) {
    batch.addRun({
      runId: r.id!,
      customer: r.cust!,
      workflow: r.wf!,
      cost: BigInt(r.cost!),
      tokens: BigInt(r.tokens!),
      steps: Number(r.steps),
      retries: Number(r.retries),
      maxDepth: Number(r.depth),
      firstSeenMs: Number(r.first),
      lastSeenMs: Number(r.last),
    });
    partitionOf.set(`r:${r.id}`, Number(r.part));
  }
  for (const u of await query<Record<string, string>>(
    `SELECT toString(toDate(occurred_at)) AS day, concat(provider, '/', model) AS mdl, count() AS n, sum(${TOKENS}) AS tokens,
            any(kafka_partition) AS part
     FROM ${facts} WHERE unpriced = 1 AND occurred_at >= toDateTime64('${yesterday} 00:00:00', 3, 'UTC') AND ${where}
     GROUP BY day, mdl`,
  )) {
    batch.addUnpriced({ day: u.day!, model: u.mdl!, events: Number(u.n), tokens: BigInt(u.tokens!) });
    partitionOf.set(`u:${u.day}|${u.mdl}`, Number(u.part));
  }

  const k = d.keys.at(epoch);
  // The sentinel marks an epoch whose data is all written: a Redis that restarts empty in the middle
  // of the rebuild loses it, and the publish below then refuses (the client retries commands across
  // reconnects, so later writes would land on an empty Redis without it).
  const sentinel = `${d.keys.rebuildLock}:${epoch}`;
  await d.redis.set(sentinel, t.lockToken, 'EX', 3_600);
  await writeUnpublished(d.redis, d.keys, epoch, batchOps(batch, k));
  await d.alerts.restore(await alertStates(d, t.nowMs));
  // Everything rebuilt is judged again (fired alerts stay fired: their states are restored).
  const marks = d.redis.pipeline();
  for (const [subject, partition] of partitionOf) {
    marks.hset(k.dirty(partition), subject, '1');
    if (subject.startsWith('c:')) marks.hset(k.trends(partition), subject, '1');
  }
  await marks.exec();
  // Deliveries Redis lost are queued again before the epoch goes live: should the process die after
  // publishing, no later rebuild would run to do it. (Queue jobs are keyed by message id: repeats are no-ops.)
  await t.beforePublish?.();
  const watermarks = covered.flatMap(([partition, offset]) => [
    `${t.topic}/${partition}`,
    `${offset - 1n}:${ALL_ROWS}`,
  ]);
  d.redis.defineCommand('burnratePublishEpoch', { numberOfKeys: 4, lua: PUBLISH });
  const published = await (
    d.redis as unknown as { burnratePublishEpoch(...args: string[]): Promise<number> }
  ).burnratePublishEpoch(
    d.keys.rebuildLock,
    sentinel,
    k.watermark,
    d.keys.epoch,
    t.lockToken,
    epoch,
    ...watermarks,
  );
  if (published !== 1) {
    throw new BurnrateError(
      'rebuild_interrupted',
      'Redis lost data or the rebuild lock while the aggregates were being rebuilt; the rebuild starts over.',
      { retriable: true },
    );
  }
  d.logger.info(
    {
      epoch,
      customers: batch.customers.size,
      runs: batch.runs.size,
      ledgerOffsets: Object.fromEntries(covered),
    },
    'rolling aggregates rebuilt from ClickHouse',
  );
  return epoch;
}

async function ledgerOffsets(kafka: Kafka, groupId: string, topic: string): Promise<Map<number, bigint>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map((offsets?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
  } finally {
    await admin.disconnect();
  }
}

async function alertStates(d: RebuildDeps, nowMs: number) {
  let rows: Array<{ alert_id: string; last: string }>;
  try {
    const rs = await d.clickhouse.query({
      query: `SELECT alert_id, argMax(event, at) AS last FROM ${d.database}.alerts FINAL
              WHERE at >= fromUnixTimestamp64Milli(${nowMs - ALERT_STATE_TTL_SECONDS * 1000}) GROUP BY alert_id`,
      format: 'JSONEachRow',
    });
    rows = await rs.json();
  } catch (error) {
    throw classifyClickHouseError(error, 'reading alert states for the rebuild');
  }
  return rows.map((r) => ({
    alertId: r.alert_id,
    state: r.last === 'resolved' ? ('resolved' as const) : ('firing' as const),
    ttlSeconds: ALERT_STATE_TTL_SECONDS,
  }));
}
