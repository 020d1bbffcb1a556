import { BurnrateError } from '@burnrate/core';
import type { Redis } from 'ioredis';

/**
 * Connects a lazily created client (BullMQ may already have started connecting it) and waits until
 * Redis answers, or fails with a sentence naming REDIS_URL: a role must not start against no Redis.
 */
export async function connectRedis(redis: Redis, url: string, timeoutMs = 15_000): Promise<void> {
  if (redis.status === 'wait') void redis.connect().catch(() => {});
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => {
          const where = new URL(url);
          reject(
            new BurnrateError(
              'redis_unreachable',
              `Redis did not answer at ${where.host} (REDIS_URL) within ${timeoutMs / 1000} s: start it or fix REDIS_URL.`,
              { retriable: true, field: 'REDIS_URL' },
            ),
          );
        }, timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
