import { BatchAggregate, type UsageRow } from '@burnrate/core';
import type { Redis } from 'ioredis';
import { usageRow } from '../../../core/test/fixtures/aggregates.js';
import { type AggregateKeys, aggregateKeys, type EpochKeys } from '../../src/redis/aggregate-keys.js';
import { type AggregateReader, createAggregateReader } from '../../src/redis/aggregate-reader.js';
import {
  type ApplyResult,
  applyAtomically,
  batchOps,
  dirtySubjects,
  type RunCaps,
} from '../../src/redis/apply.js';
import { uniquePrefix } from '../fixtures.js';

/** A fixed "now" for the aggregates (Redis TTLs are relative, so nothing depends on the wall clock). */
export const NOW = Date.parse('2026-11-29T12:00:30Z');
export const TODAY = '2026-11-29';
export const PERIOD = '2026-11-01';

export const row = (overrides: Partial<UsageRow> = {}) => usageRow(NOW, overrides);

export function batchOf(nowMs: number, rows: UsageRow[]): BatchAggregate {
  const batch = new BatchAggregate(nowMs);
  for (const r of rows) batch.addRow(r);
  return batch;
}

export interface Space {
  prefix: string;
  keys: AggregateKeys;
  epoch: string;
  k: EpochKeys;
  reader: AggregateReader;
}

/**
 * A fresh key space (unique topic prefix) on the shared Redis; `live` sets its epoch key. Every key
 * of every space is removed by `dropSpaces` (never a FLUSH: other tests share this Redis).
 */
export function spaces(redis: Redis) {
  const made: string[] = [];
  return {
    async create(o: { epoch?: string; live?: boolean } = {}): Promise<Space> {
      const prefix = uniquePrefix();
      made.push(prefix);
      const keys = aggregateKeys(prefix);
      const epoch = o.epoch ?? 'e1';
      if (o.live ?? true) await redis.set(keys.epoch, epoch);
      return { prefix, keys, epoch, k: keys.at(epoch), reader: createAggregateReader(redis, keys) };
    },
    async drop(): Promise<void> {
      for (const prefix of made) {
        for (const key of await keysOf(redis, prefix)) await redis.unlink(key);
      }
    },
  };
}

/** Every key under a prefix (SCAN, never KEYS). */
export async function keysOf(redis: Redis, prefix: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    out.push(...found);
    cursor = next;
  } while (cursor !== '0');
  return out.sort();
}

/** Applies a batch the way the aggregator does: its ops, its dirty subjects, one watermark field. */
export function apply(
  redis: Redis,
  s: Space,
  batch: BatchAggregate,
  w: { field?: string; expected?: string; next?: string } = {},
  partition = 0,
  runCaps?: RunCaps,
): Promise<ApplyResult> {
  return applyAtomically(
    redis,
    s.keys,
    s.epoch,
    { field: w.field ?? 'usage.enriched/0', expected: w.expected ?? '*', next: w.next ?? '' },
    batchOps(batch, s.k, runCaps),
    { partition, subjects: dirtySubjects(batch) },
  );
}
