import { describe, expect, it } from 'vitest';
import { crashRun, EVENTS, KILLS } from './crash-run.js';
import { eventsIn } from './harness.js';

describe(`negative control: the aggregator without its watermark under ${KILLS} SIGKILLs`, () => {
  it('counts replayed rows twice (which the watermark prevents)', { timeout: 600_000 }, async () => {
    const { clickhouse, redis } = await crashRun(false);
    expect(eventsIn(clickhouse)).toBe(EVENTS);
    console.log(`negative control: Redis counted ${eventsIn(redis) - EVENTS} events twice`);
    expect(eventsIn(redis)).toBeGreaterThan(EVENTS);
    expect(redis.customers).not.toEqual(clickhouse.customers);
  });
});
