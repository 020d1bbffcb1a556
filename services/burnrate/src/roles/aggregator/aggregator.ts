import { type AlertingConfig, BatchAggregate, BurnrateError, parseUsageRow } from '@burnrate/core';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Redis } from 'ioredis';
import type { EachBatchPayload, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { stopOnCrash } from '../../kafka/crash.js';
import { unpackRows } from '../../kafka/pack-rows.js';
import type { AggregateKeys } from '../../redis/aggregate-keys.js';
import type { AlertStore } from '../../redis/alert-store.js';
import { applyAtomically, batchOps, dirtySubjects, type RunCaps } from '../../redis/apply.js';
import { type Fatal, fatalError } from '../../runtime/fatal.js';
import type { Component } from '../../runtime/lifecycle.js';
import type { Metrics } from '../../runtime/metrics.js';
import { sleep, ThrottledLog } from '../../runtime/retry.js';
import type { Evaluator } from './evaluator.js';
import { isAfter, type Position, parsePosition, positionText } from './position.js';
import { rebuildFromClickHouse, takeRebuildLock } from './rebuild.js';

/** The aggregator's settings (createApp maps AGGREGATOR_* onto them). */
export interface AggregatorConfig {
  /** usage.enriched */
  topic: string;
  groupId: string;
  /** The ledger's group: a rebuild reads only what the ledger has committed to ClickHouse. */
  ledgerGroupId: string;
  database: string;
  fetchWaitMs: number;
  /** The broker holds a fetch until this many bytes are ready or fetchWaitMs passes. */
  minBatchBytes: number;
  sessionTimeoutMs: number;
  /** Rows applied in one atomic Redis script (bounds how long Redis is busy with one call). */
  rowsPerApply: number;
  /** How often subjects with resolvable alerts are re-judged, and the epoch checked. */
  sweepMs: number;
  /** Off only for the negative-control test: no watermark check, no rebuild, resume from Kafka commits. */
  watermark: boolean;
  /** Testing only: a pause between the Redis update and the offset commit (the crash window). */
  commitDelayMs: number;
  retryLogIntervalMs: number;
}

export interface AggregatorDeps {
  /** The alerting file in force: the runaway caps decide which runs the rules must judge. */
  alerting: () => AlertingConfig;
  kafka: Kafka;
  redis: Redis;
  clickhouse: ClickHouseClient;
  keys: AggregateKeys;
  alerts: AlertStore;
  evaluator: Evaluator;
  clock: () => number;
  logger: Logger;
  fatal: Fatal;
  metrics?: Metrics;
  /** During a rebuild (Redis lost its data), before it goes live: queue again the alerts whose delivery was lost with it. */
  afterRebuild?: () => Promise<void>;
}

export interface AggregatorStats {
  rowsApplied: number;
  /** At or before the watermark: already counted (a replay). */
  rowsSkipped: number;
  /** Not readable as an enriched row (ClickHouse refuses them too): skipped and counted. */
  rowsInvalid: number;
  batches: number;
  /** The watermark had moved under us (another instance, a zombie): filtered again. */
  conflicts: number;
  rebuilds: number;
}

/**
 * usage.enriched → rolling aggregates in Redis, exactly once in effect. Each partition's watermark
 * (the last applied row position) is the source of truth for where this role is: rows at or before
 * it are skipped, and every Redis update compares-and-sets it in the same script as the increments.
 * On (re)assignment, and whenever the aggregates are rebuilt, a partition is read again from its
 * watermark. Kafka offsets are committed too, but only for lag monitoring.
 */
export function createAggregator(
  o: AggregatorConfig,
  deps: AggregatorDeps,
): Component & { stats(): AggregatorStats } {
  const log = deps.logger.child({ role: 'aggregator' });
  const outage = new ThrottledLog(log, o.retryLogIntervalMs);
  const consumer = deps.kafka.consumer({
    groupId: o.groupId,
    readUncommitted: false,
    maxWaitTimeInMs: o.fetchWaitMs,
    minBytes: o.minBatchBytes,
    maxBytesPerPartition: 16 * 1024 * 1024,
    maxBytes: 64 * 1024 * 1024,
    sessionTimeout: o.sessionTimeoutMs,
    heartbeatInterval: Math.max(500, Math.floor(o.sessionTimeoutMs / 10)),
  });
  const stats: AggregatorStats = {
    rowsApplied: 0,
    rowsSkipped: 0,
    rowsInvalid: 0,
    batches: 0,
    conflicts: 0,
    rebuilds: 0,
  };
  let epoch: string | undefined;
  let assigned: number[] = [];
  /** Partitions read from their watermark since the last (re)assignment or epoch change. */
  const positioned = new Set<number>();
  const watermarks = new Map<number, Position | null>();
  let recovering: Promise<void> | undefined;
  let running = false;
  let sweeper: NodeJS.Timeout | undefined;
  const evaluating = new Map<number, Promise<void>>();
  const again = new Set<number>();
  const field = (p: number) => `${o.topic}/${p}`;
  const runCaps: RunCaps = (customer, planKind) => {
    const r = deps.alerting().rules.for(customer, planKind).runaway;
    return r.enabled
      ? { cost: r.max_cost_nanos, steps: r.max_steps, retries: r.max_retries, depth: r.max_depth }
      : null;
  };

  async function watermarkOf(p: number): Promise<Position | null> {
    const cached = watermarks.get(p);
    if (cached !== undefined) return cached;
    const e = epoch!;
    const wm = parsePosition((await deps.redis.hget(deps.keys.at(e).watermark, field(p))) ?? '');
    // An epoch adopted meanwhile cleared the cache: this answer belongs to the old one.
    if (epoch === e) watermarks.set(p, wm);
    return wm;
  }

  /** Where partition p must be read from so that nothing after its watermark is missed. */
  async function seekTarget(p: number): Promise<bigint> {
    return (await watermarkOf(p))?.offset ?? 0n;
  }

  /**
   * Takes up a (new) epoch. A partition whose committed offset lies past its watermark (a rebuild
   * moves watermarks back to what the ledger had stored) is read again from the watermark, even if no
   * new event arrives for it; one behind it (a replay) reads on and skips what is counted.
   */
  async function adopt(next: string): Promise<void> {
    epoch = next;
    watermarks.clear();
    positioned.clear();
    if (!o.watermark || assigned.length === 0) return;
    const committed = await committedOffsets();
    for (const p of assigned) {
      const target = await seekTarget(p);
      if ((committed.get(p) ?? -1n) > target) {
        consumer.seek({ topic: o.topic, partition: p, offset: target.toString() });
      }
      positioned.add(p);
    }
  }

  async function committedOffsets(): Promise<Map<number, bigint>> {
    const admin = deps.kafka.admin();
    await admin.connect();
    try {
      const [offsets] = await admin.fetchOffsets({ groupId: o.groupId, topics: [o.topic] });
      return new Map((offsets?.partitions ?? []).map((x) => [x.partition, BigInt(x.offset)]));
    } finally {
      await admin.disconnect();
    }
  }

  /**
   * The epoch is missing (Redis lost its data, or this is the first start) or changed (someone
   * rebuilt). One instance rebuilds from ClickHouse under a lock; the others wait for the new epoch.
   */
  function recover(heartbeat?: () => Promise<void>): Promise<void> {
    recovering ??= (async () => {
      try {
        for (let attempt = 0; running; attempt++) {
          const current = await deps.redis.get(deps.keys.epoch);
          if (current) {
            if (current !== epoch) await adopt(current);
            return;
          }
          if (!o.watermark) {
            await deps.redis.set(deps.keys.epoch, 'e0', 'NX');
            continue;
          }
          const lock = await takeRebuildLock(deps.redis, deps.keys);
          if (lock) {
            try {
              log.warn(
                'no rolling aggregates in Redis (first start, FLUSHALL or a restart without persistence): rebuilding from ClickHouse',
              );
              await rebuildFromClickHouse(
                {
                  topic: o.topic,
                  ledgerGroupId: o.ledgerGroupId,
                  nowMs: deps.clock(),
                  lockToken: lock.token,
                  beforePublish: deps.afterRebuild,
                },
                { ...deps, database: o.database, logger: log },
              );
              stats.rebuilds++;
            } finally {
              await lock.release().catch(() => {});
            }
            continue;
          }
          await heartbeat?.().catch(() => {});
          await sleep(Math.min(2_000, 200 * (attempt + 1)));
        }
      } finally {
        recovering = undefined;
      }
    })();
    return recovering;
  }

  /** Keeps the group membership alive while `work` waits on Redis or ClickHouse. */
  async function whileWaiting<T>(work: Promise<T>, heartbeat: () => Promise<void>): Promise<T> {
    const timer = setInterval(() => void heartbeat().catch(() => {}), Math.max(500, o.sessionTimeoutMs / 5));
    try {
      return await work;
    } finally {
      clearInterval(timer);
    }
  }

  async function handleBatch({ batch, heartbeat, isRunning, isStale, resolveOffset }: EachBatchPayload) {
    if (!isRunning() || isStale()) return;
    const p = batch.partition;
    try {
      if (!epoch) await whileWaiting(recover(heartbeat), heartbeat);
      if (!epoch || !isRunning() || isStale()) return;
      if (o.watermark && !positioned.has(p)) {
        // First batch since (re)assignment: it may start past the watermark (after a rebuild the
        // watermark can lie behind this group's committed offset). Read again from the watermark.
        const target = await seekTarget(p);
        positioned.add(p);
        if (BigInt(batch.firstOffset() ?? batch.lastOffset()) > target) {
          consumer.seek({ topic: o.topic, partition: p, offset: target.toString() });
          return;
        }
      }
      const outcome = await whileWaiting(apply(batch), heartbeat);
      if (outcome === 'epoch') {
        await whileWaiting(recover(heartbeat), heartbeat);
        return;
      }
      if (outcome === 'behind') {
        // The watermark moved back (Redis lost recent writes but kept its epoch): rows between it
        // and this batch were never applied. Read again from the watermark; nothing is committed.
        watermarks.delete(p);
        positioned.delete(p);
        consumer.seek({ topic: o.topic, partition: p, offset: (await seekTarget(p)).toString() });
        positioned.add(p);
        return;
      }
      outage.recovered('Redis is reachable again; the aggregator resumed');
    } catch (error) {
      if (!(error instanceof BurnrateError) || !error.retriable) {
        deps.fatal(fatalError('aggregator', 'a batch could not be applied', error));
        return;
      }
      outage.warn(
        { err: error, partition: p },
        'the aggregator cannot apply its batch; it holds it and retries',
      );
      await sleep(1_000);
      return;
    }
    if (!isRunning() || isStale()) return;
    if (o.commitDelayMs) await sleep(o.commitDelayMs);
    await consumer.commitOffsets([
      { topic: o.topic, partition: p, offset: (BigInt(batch.lastOffset()) + 1n).toString() },
    ]);
    resolveOffset(batch.lastOffset());
    stats.batches++;
    kick(p);
  }

  /**
   * Applies the rows after the watermark, streaming them into chunks of `rowsPerApply` (each chunk
   * one atomic script). 'epoch': the epoch changed under us; 'behind': the watermark moved back.
   * When another writer moved the watermark forward (a zombie), the batch is filtered again.
   */
  async function apply(batch: EachBatchPayload['batch']): Promise<'ok' | 'epoch' | 'behind'> {
    const p = batch.partition;
    const e = epoch!;
    let wm = o.watermark ? await watermarkOf(p) : null;
    for (;;) {
      const outcome = await applyFrom(batch, e, wm);
      if (outcome.kind !== 'stale') return outcome.kind;
      stats.conflicts++;
      const current = parsePosition(outcome.current);
      if (!current || !isAfter(current, outcome.expected)) return 'behind';
      wm = current;
      if (epoch === e) watermarks.set(p, wm);
    }
  }

  async function applyFrom(
    batch: EachBatchPayload['batch'],
    e: string,
    from: Position | null,
  ): Promise<
    { kind: 'ok' | 'epoch' | 'behind' } | { kind: 'stale'; current: string; expected: Position | null }
  > {
    const p = batch.partition;
    let wm = from;
    let aggregate = new BatchAggregate(deps.clock());
    let last: Position | null = null;
    let rows = 0;
    const flush = async () => {
      if (!last) return { kind: 'ok' as const };
      if (epoch !== e) return { kind: 'epoch' as const };
      const result = await applyAtomically(
        deps.redis,
        deps.keys,
        e,
        {
          field: field(p),
          expected: o.watermark ? (wm ? positionText(wm) : '') : '*',
          next: o.watermark ? positionText(last) : '',
        },
        batchOps(aggregate, deps.keys.at(e), runCaps),
        { partition: p, subjects: dirtySubjects(aggregate) },
      );
      if (result.kind === 'epoch') return { kind: 'epoch' as const };
      if (result.kind === 'stale') return { kind: 'stale' as const, current: result.current, expected: wm };
      stats.rowsApplied += rows;
      deps.metrics?.aggregatorApplied(p, rows, Number(batch.messages[0]?.timestamp ?? deps.clock()));
      wm = last;
      if (epoch === e && o.watermark) watermarks.set(p, wm);
      aggregate = new BatchAggregate(deps.clock());
      last = null;
      rows = 0;
      return { kind: 'ok' as const };
    };
    for (const m of batch.messages) {
      if (!m.value) continue;
      const offset = BigInt(m.offset);
      const lines = unpackRows(m.value);
      for (let i = 0; i < lines.length; i++) {
        const at = { offset, row: i };
        if (!isAfter(at, wm)) {
          stats.rowsSkipped++;
          deps.metrics?.aggregatorPassed(1);
          continue;
        }
        try {
          aggregate.addRow(parseUsageRow(lines[i]!));
        } catch (error) {
          stats.rowsInvalid++;
          deps.metrics?.aggregatorPassed(1);
          outage.warn(
            { err: error, partition: p, offset: m.offset, row: i },
            'skipping a row that is not an enriched usage row (ClickHouse refuses it too)',
          );
        }
        last = at;
        if (++rows >= o.rowsPerApply) {
          const r = await flush();
          if (r.kind !== 'ok') return r;
        }
      }
    }
    return flush();
  }

  /** Runs the rules for a partition soon, once at a time, again if more came meanwhile. */
  function kick(p: number): void {
    if (evaluating.has(p)) {
      again.add(p);
      return;
    }
    const run = (async () => {
      do {
        again.delete(p);
        const e = epoch;
        if (e) await deps.evaluator.safely(() => deps.evaluator.evaluatePartition(e, p));
      } while (again.has(p) && running);
    })().finally(() => evaluating.delete(p));
    evaluating.set(p, run);
  }

  async function sweep(): Promise<void> {
    try {
      const current = await deps.redis.get(deps.keys.epoch);
      if (current !== (epoch ?? null)) await recover();
    } catch (error) {
      outage.warn({ err: error }, 'the aggregator cannot reach Redis');
      return;
    }
    const e = epoch;
    if (!e) return;
    for (const p of assigned) {
      await deps.evaluator.safely(
        async () =>
          (await deps.evaluator.sweepPartition(e, p)) + (await deps.evaluator.evaluatePartition(e, p)),
      );
    }
  }

  return {
    name: 'aggregator',
    stats: () => ({ ...stats }),
    async start() {
      stopOnCrash(consumer, 'aggregator', deps.fatal);
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
        deps.metrics?.assignment('aggregator', payload.memberAssignment);
        assigned = payload.memberAssignment[o.topic] ?? [];
        positioned.clear();
        watermarks.clear();
        for (const p of assigned) kick(p);
      });
      running = true;
      await consumer.connect();
      await consumer.subscribe({ topic: o.topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: 8,
        eachBatch: handleBatch,
      });
      const tick = () => {
        sweeper = setTimeout(() => void sweep().finally(() => running && tick()), o.sweepMs);
      };
      tick();
      log.info({ topic: o.topic, groupId: o.groupId, watermark: o.watermark }, 'aggregator started');
    },
    async stop() {
      const wasRunning = running;
      running = false;
      clearTimeout(sweeper);
      await consumer.disconnect();
      await Promise.allSettled(evaluating.values());
      if (wasRunning) log.info(stats, 'aggregator stopped');
    },
  };
}
