import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { aggregateKeys } from '../../src/redis/aggregate-keys.js';
import { createAggregateReader } from '../../src/redis/aggregate-reader.js';
import { uniquePrefix } from '../fixtures.js';

/**
 * The guardrail's one-round-trip read against real Redis: it remembers the epoch, reads it again in
 * the same pipeline as the data, and never answers from an epoch that is gone.
 */
const redis = new Redis(inject('redisUrl'));
afterAll(() => redis.quit());

describe('the guardrail read', () => {
  it('follows a new epoch at once, and answers null when Redis lost the aggregates', async () => {
    const keys = aggregateKeys(uniquePrefix());
    const reader = createAggregateReader(redis, keys);
    const customer = { dimension: 'customer' as const, customer: 'cus_1', value: '' };
    const write = async (epoch: string, cost: string) => {
      await redis.hset(keys.at(epoch).period(customer, '2026-12-01'), { c: cost, t: '10', n: '1' });
      await redis.set(keys.epoch, epoch);
    };
    const read = () => reader.guardrail('cus_1', '2026-12-01', Date.UTC(2026, 11, 4), null);
    expect(await read()).toBeNull();
    await write('e1', '100');
    expect((await read())?.period.cost).toBe(100n);
    // A rebuild switches to e2; the first read after it must already see e2, not e1's numbers.
    await write('e2', '250');
    expect((await read())?.period.cost).toBe(250n);
    await redis.del(keys.epoch);
    expect(await read()).toBeNull();
  });
});
