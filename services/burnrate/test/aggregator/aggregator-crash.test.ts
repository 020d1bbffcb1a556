import { describe, expect, it } from 'vitest';
import { crashRun, EVENTS, KILLS } from './crash-run.js';
import { eventsIn } from './harness.js';

describe(`aggregator under ${KILLS} SIGKILLs during ${EVENTS} events`, () => {
  it('holds exactly what ClickHouse holds: per customer, per workflow, per window, per run', {
    timeout: 600_000,
  }, async () => {
    const { clickhouse, redis } = await crashRun(true);
    expect(eventsIn(clickhouse)).toBe(EVENTS);
    expect(redis.customers).toEqual(clickhouse.customers);
    expect(redis.workflows).toEqual(clickhouse.workflows);
    expect(redis.h1).toEqual(clickhouse.h1);
    expect(redis.h24).toEqual(clickhouse.h24);
    expect(redis.runs).toEqual(clickhouse.runs);
  });
});
