import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { privateRedis } from '../aggregator/private-redis.js';
import { startApi } from './harness.js';

/**
 * Faults at the api role's edges: Redis going away answers the guardrail 503 at once (no request
 * waits for a Redis that is not there), and a client that disconnects in the middle of a gzip body
 * neither hangs its request nor the role's shutdown.
 */
let redis: Awaited<ReturnType<typeof privateRedis>>;
let api: Awaited<ReturnType<typeof startApi>>;
beforeAll(async () => {
  redis = await privateRedis();
  api = await startApi({
    roles: 'clickhouse,api',
    keys: [{ id: 'svc', scopes: ['ingest', 'budget'], customers: ['*'] }],
    env: { REDIS_URL: redis.url },
  });
}, 120_000);
afterAll(async () => {
  await redis?.stop().catch(() => {});
});

describe('api faults', () => {
  it('Redis away: GET /v1/budget is answered 503 with Retry-After within a second or two, not held', async () => {
    // No aggregator runs, so Redis has no epoch: 503 aggregates_unavailable (the control).
    const before = await api.call('/v1/budget?customer=acme', { key: 'svc' });
    expect(before.status).toBe(503);
    expect(before.json.error.message).toMatch(/being rebuilt/);
    await redis.stop();
    const t0 = Date.now();
    const away = await api.call('/v1/budget?customer=acme', { key: 'svc' });
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect(away.status).toBe(503);
    expect(away.json.error).toMatchObject({ code: 'aggregates_unavailable' });
    expect(away.json.error.message).toMatch(/REDIS_URL/);
    expect(away.headers.get('retry-after')).toBe('2');
  });

  it('a client that drops a gzip body half-way: the role still answers, and stops within its grace', async () => {
    const url = new URL(api.url);
    const body = gzipSync(Buffer.from(JSON.stringify([{ customer_ref: 'acme', provider: 'p', model: 'm' }])));
    await new Promise<void>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () => {
        socket.write(
          `POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${api.key('svc')}\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: ${body.length}\r\n\r\n`,
        );
        socket.write(body.subarray(0, 5));
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 200);
      });
      socket.on('error', reject);
    });
    expect((await api.call('/healthz')).status).toBe(200);
    const t0 = Date.now();
    await api.stop();
    // Without the fix the dropped request never settled and stop() waited out its whole grace (5 s)
    // — or, before the grace existed, forever.
    expect(Date.now() - t0).toBeLessThan(4_000);
  });
});
