import { type AlertPayload, parseAlertingConfig } from '@burnrate/core';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createAlertStore } from '../../src/redis/alert-store.js';
import { createEvaluator } from '../../src/roles/aggregator/evaluator.js';
import { silentLogger } from '../fixtures.js';
import { apply, batchOf, row, spaces } from './helpers.js';

/**
 * The evaluator against a real Redis with a clock the test moves: a spike that goes on past midnight
 * UTC is the same alert (no second page), and resolves — under the first day's id — when it clears.
 */
const redis = new Redis(inject('redisUrl'));
const space = spaces(redis);
afterAll(async () => {
  await space.drop();
  redis.disconnect();
});

const USD = 1_000_000_000;
const HOUR = 3_600_000;

describe('evaluator', () => {
  it('carries a spike over midnight without a new page, and resolves it under its first day', async () => {
    const s = await space.create();
    let now = Date.parse('2026-11-29T23:50:00Z');
    const config = parseAlertingConfig(
      {
        defaults: {
          budget: { enabled: false },
          forecast: { enabled: false },
          whale: { enabled: false },
          runaway: { enabled: false },
          unmapped_customer: { enabled: false },
        },
      },
      'test',
    );
    const evaluator = createEvaluator(
      { database: 'db', retryLogIntervalMs: 1_000 },
      {
        redis,
        keys: s.keys,
        reader: s.reader,
        alerts: createAlertStore(redis, s.keys),
        alerting: () => config,
        clock: () => now,
        logger: silentLogger,
      },
    );
    const outbox = async () =>
      (await redis.xrange(s.keys.alertOutbox, '-', '+')).map(
        ([, fields]) => JSON.parse(fields[1]!) as AlertPayload,
      );
    const spending = (at: number, cost: number) =>
      row({ customer_id: 'spiky', occurred_at: at, cost_nanos: cost, workflow_run_id: null });

    // $1 an hour for the 23 hours before, then $30 in the last hour.
    const baseline = Array.from({ length: 23 }, (_, h) => spending(now - (h + 1.5) * HOUR, USD));
    const spike = Array.from({ length: 30 }, () => spending(now - 10 * 60_000, USD));
    await apply(redis, s, batchOf(now, [...baseline, ...spike]));
    // Right after the batch only totals are judged; the trends (a spike) at the next sweep.
    expect(await evaluator.evaluatePartition(s.epoch, 0)).toBe(0);
    expect(await evaluator.sweepPartition(s.epoch, 0)).toBe(1);
    const [fired] = await outbox();
    expect(fired).toMatchObject({ type: 'alert.fired', rule: 'spike', period: '2026-11-29' });
    // A firing alert that can resolve is watched: re-judged as time passes, without new events.
    expect(await redis.smembers(s.k.watch(0))).toEqual(['c:spiky']);
    // The next batch's quick pass judges totals only: it must not touch the spike (it reads no windows).
    await apply(redis, s, batchOf(now, [spending(now - 5 * 60_000, USD)]));
    expect(await evaluator.evaluatePartition(s.epoch, 0)).toBe(0);
    expect(await outbox()).toHaveLength(1);
    expect(await redis.smembers(s.k.watch(0))).toEqual(['c:spiky']);

    // Twenty minutes later it is the next UTC day and the last hour is still a spike: no new page.
    now += 20 * 60_000;
    expect(await evaluator.sweepPartition(s.epoch, 0)).toBe(0);
    expect(await outbox()).toHaveLength(1);
    expect(await redis.smembers(s.k.watch(0))).toEqual(['c:spiky']);

    // Late events fill in the baseline: the spike clears, and the alert of the 29th resolves.
    const backfill = Array.from({ length: 23 * 14 }, (_, i) => spending(now - (1.5 + (i % 23)) * HOUR, USD));
    await apply(redis, s, batchOf(now, backfill));
    await evaluator.sweepPartition(s.epoch, 0);
    const messages = await outbox();
    expect(messages.map((m) => [m.type, m.period, m.alert_id])).toEqual([
      ['alert.fired', '2026-11-29', fired!.alert_id],
      ['alert.resolved', '2026-11-29', fired!.alert_id],
    ]);
    expect(messages[1]!.id).toBe(`${fired!.alert_id}-resolved`);
    expect(await redis.smembers(s.k.watch(0))).toEqual([]);
  });
});
