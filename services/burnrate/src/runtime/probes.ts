import type { ClickHouseClient } from '@clickhouse/client';
import type { Redis } from 'ioredis';
import type { Admin, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { DependencyJudge, type Health, lagOf, type PartitionOffsets, ProgressJudge } from './health.js';
import type { Component } from './lifecycle.js';
import type { Metrics } from './metrics.js';

/** A consumer group this process runs, and the topics it reads. */
export interface WatchedGroup {
  role: string;
  groupId: string;
  topics: string[];
}

export interface ProbesConfig {
  intervalMs: number;
  stallMs: number;
  dependencyGraceMs: number;
  /** Bound on one probe (a ClickHouse or Redis that hangs counts as unreachable). */
  timeoutMs?: number;
  groups: WatchedGroup[];
}

export interface ProbesDeps {
  kafka: Kafka;
  clickhouse: ClickHouseClient | undefined;
  redis: Redis | undefined;
  health: Health;
  metrics: Metrics;
  logger: Logger;
  clock?: () => number;
}

/**
 * Observes what readiness is judged from, every `intervalMs`: per watched consumer group its
 * committed offsets and the log ends (one OffsetFetch per group and one ListOffsets per topic on a
 * single admin connection — the same numbers become burnrate_consumer_lag), `SELECT 1` on
 * ClickHouse and `PING` on Redis, each bounded by a timeout.
 */
export function createProbes(o: ProbesConfig, deps: ProbesDeps): Component {
  const log = deps.logger;
  const clock = deps.clock ?? Date.now;
  const timeoutMs = o.timeoutMs ?? 5_000;
  const progress = o.groups.map((g) => {
    const judge = new ProgressJudge(g.groupId, o.stallMs);
    deps.health.add(`consumer:${g.role}`, judge);
    return { group: g, judge };
  });
  const clickhouse = deps.clickhouse ? new DependencyJudge('ClickHouse', o.dependencyGraceMs) : undefined;
  const redis = deps.redis ? new DependencyJudge('Redis', o.dependencyGraceMs) : undefined;
  if (clickhouse) deps.health.add('clickhouse', clickhouse);
  if (redis) deps.health.add('redis', redis);
  const kafka = new DependencyJudge('Kafka', o.dependencyGraceMs);
  if (progress.length > 0) deps.health.add('kafka', kafka);
  let admin: Promise<Admin> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let round: Promise<void> | undefined;

  async function offsets(): Promise<void> {
    if (progress.length === 0) return;
    if (!admin) {
      const a = deps.kafka.admin();
      admin = a.connect().then(() => a);
      // Connect again on the next round after a failure.
      admin.catch(() => (admin = undefined));
    }
    const client = await admin;
    try {
      await observe(client);
    } catch (error) {
      admin = undefined;
      await client.disconnect().catch(() => {});
      throw error;
    }
  }

  /**
   * Only the partitions this process's consumer was assigned at its last join: with several
   * instances in a group each judges (and reports the lag of) its own share. Before the first join
   * there is nothing to judge.
   */
  async function observe(client: Admin): Promise<void> {
    const ends = new Map<string, Array<{ partition: number; high: string; low: string }>>();
    const lags: Array<[Record<string, string>, number]> = [];
    for (const { group, judge } of progress) {
      const mine = deps.metrics.assigned(group.role);
      if (!mine) continue;
      const all: PartitionOffsets[] = [];
      const committed = await client.fetchOffsets({ groupId: group.groupId, topics: group.topics });
      for (const t of committed) {
        if (!ends.has(t.topic)) ends.set(t.topic, await client.fetchTopicOffsets(t.topic));
        const byPartition = new Map(ends.get(t.topic)!.map((e) => [e.partition, e]));
        for (const p of t.partitions) {
          const end = byPartition.get(p.partition);
          if (!end || !mine.has(`${t.topic}/${p.partition}`)) continue;
          const o = {
            topic: t.topic,
            partition: p.partition,
            committed: Number(p.offset),
            end: Number(end.high),
            start: Number(end.low),
          };
          all.push(o);
          const labels = { role: group.role, group: group.groupId, topic: t.topic };
          lags.push([{ ...labels, partition: String(p.partition) }, lagOf(o)]);
        }
      }
      judge.observe(clock(), all);
    }
    // All at once, so a partition this process no longer owns disappears from its series.
    deps.metrics.consumerLag.reset();
    for (const [labels, lag] of lags) deps.metrics.consumerLag.set(labels, lag);
  }

  async function probe(judge: DependencyJudge | undefined, work: () => Promise<unknown>): Promise<void> {
    if (!judge) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        work(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      judge.observe(clock(), undefined);
    } catch (error) {
      judge.observe(clock(), error instanceof Error ? error.message : String(error));
    } finally {
      clearTimeout(timer);
    }
  }

  async function once(): Promise<void> {
    await Promise.all([
      probe(kafka, offsets),
      probe(clickhouse, async () => {
        const rs = await deps.clickhouse!.query({ query: 'SELECT 1 AS ok', format: 'JSONEachRow' });
        await rs.json();
      }),
      probe(redis, async () => {
        const r = deps.redis!;
        // A disconnected client would queue the PING until Redis is back: fail at once instead.
        if (r.status !== 'ready') throw new Error(`connection is ${r.status}`);
        await r.ping();
      }),
    ]);
    const { checks } = deps.health.readiness(clock());
    for (const c of checks) deps.metrics.checkOk.set({ check: c.name }, c.ok ? 1 : 0);
    const failing = checks.filter((c) => !c.ok && c.name !== 'started');
    if (failing.length > 0) log.debug({ failing }, 'readiness checks failing');
  }

  function schedule(): void {
    timer = setTimeout(() => {
      round = once()
        .catch((error) => log.warn({ err: error }, 'a health probe round failed'))
        .finally(() => {
          round = undefined;
          if (running) schedule();
        });
    }, o.intervalMs);
    timer.unref();
  }

  return {
    name: 'health-probes',
    async start() {
      running = true;
      await once().catch((error) => log.warn({ err: error }, 'a health probe round failed'));
      schedule();
    },
    async stop() {
      running = false;
      clearTimeout(timer);
      await round;
      await admin?.then((a) => a.disconnect()).catch(() => {});
    },
  };
}
