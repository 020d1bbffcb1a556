// A `burnrate run` process for the multi-process benchmarks: the roles as they are deployed.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeUsageEvent } from '@burnrate/core';
import { ClickHouseLogLevel, createClient } from '@clickhouse/client';
import { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import { pino } from 'pino';
import { createKafka } from '../services/burnrate/src/kafka/client.js';
import { packRows } from '../services/burnrate/src/kafka/pack-rows.js';
import { createReferenceData } from '../services/burnrate/src/roles/enricher/reference-data.js';
import { benchEvent } from './bench-events.js';

export function spawnRole(roles: string, env: Record<string, string>): ChildProcess {
  return spawn(
    process.execPath,
    [
      ...(process.env.BENCH_PROFILE_DIR
        ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`]
        : []),
      '--conditions=@burnrate/source',
      '--import',
      'tsx',
      'services/burnrate/src/main.ts',
      'run',
    ],
    {
      stdio: ['ignore', process.env.BENCH_ROLE_LOGS ? 'inherit' : 'ignore', 'inherit'],
      env: {
        ...process.env,
        LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
        METRICS_PORT: '0',
        ...env,
        BURNRATE_ROLES: roles,
      },
    },
  );
}

export const exitOf = (c: ChildProcess) =>
  c.exitCode !== null ? Promise.resolve() : new Promise<void>((r) => c.once('exit', () => r()));

/**
 * `n` usage.enriched rows exactly as the enricher builds them from the benchmark events (the real
 * decode, price and attribution stage), with the customer each is keyed by.
 */
export function benchEnrichedRows(n: number): Array<{ key: string; value: string }> {
  const logger = pino({ level: 'warn' });
  const kafka = createKafka({ brokers: ['127.0.0.1:1'], clientId: 'bench-rows', logger });
  const stage = createReferenceData({ topic: 'unused', pricesFile: undefined }, { kafka, logger }).stage({
    lateHorizonMs: 86_400_000,
    maxFutureSkewMs: 300_000,
  });
  const rows: Array<{ key: string; value: string }> = [];
  for (let i = 0; i < n; i++) {
    const event = stage.decode(encodeUsageEvent(benchEvent(i)));
    const meta = { topic: 'usage.events', partition: i % 4, offset: String(i), ingestedAtMs: Date.now() };
    const { row, customerId } = stage.enrich(event, meta);
    rows.push({ key: customerId, value: row });
  }
  return rows;
}

/** Deletes every Redis key a benchmark made under its topic prefix (dedup ids, aggregates, queues). */
export async function dropRedisPrefix(prefix: string): Promise<number> {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  let n = 0;
  for await (const keys of redis.scanStream({ match: `${prefix}*`, count: 1_000 })) {
    if ((keys as string[]).length > 0) n += await redis.unlink(...(keys as string[]));
  }
  redis.disconnect();
  return n;
}

/**
 * A `burnrate run` process that owns chDB (fresh data directory) and serves its HTTP interface on
 * `httpPort`, with a client for it and the number of facts stored (-1 until it answers).
 */
export function clickhouseOwner(roles: string, httpPort: number, env: Record<string, string>) {
  const owner = spawnRole(roles, {
    ...env,
    CLICKHOUSE_HTTP_PORT: String(httpPort),
    BURNRATE_DATA_DIR: mkdtempSync(join(tmpdir(), 'bench-ch-')),
  });
  const ch = createClient({ url: `http://127.0.0.1:${httpPort}`, log: { level: ClickHouseLogLevel.OFF } });
  const count = async () => {
    try {
      const rs = await ch.query({
        query: `SELECT count() AS n FROM ${env.CLICKHOUSE_DATABASE ?? 'burnrate'}.usage_events`,
        format: 'JSONEachRow',
      });
      return Number((await rs.json<{ n: string }>())[0]!.n);
    } catch {
      return -1;
    }
  };
  return { owner, ch, count };
}

/** Produces `n` benchEnrichedRows to `topic` (4 partitions), packed as the enricher packs them; returns the message count. */
export async function produceEnrichedRows(kafka: Kafka, topic: string, n: number): Promise<number> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const messages = packRows(benchEnrichedRows(n), 4);
  for (let i = 0; i < messages.length; i += 4) {
    await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 4) });
  }
  await producer.disconnect();
  return messages.length;
}
