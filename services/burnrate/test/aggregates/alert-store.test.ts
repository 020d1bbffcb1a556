import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { aggregateKeys } from '../../src/redis/aggregate-keys.js';
import { type AlertTransition, createAlertStore } from '../../src/redis/alert-store.js';
import { uniquePrefix } from '../fixtures.js';
import { keysOf } from './helpers.js';

const redis = new Redis(inject('redisUrl'));
const prefixes: string[] = [];
afterAll(async () => {
  for (const prefix of prefixes) for (const key of await keysOf(redis, prefix)) await redis.unlink(key);
  await redis.quit();
});

function store() {
  const prefix = uniquePrefix();
  prefixes.push(prefix);
  const keys = aggregateKeys(prefix);
  return { keys, alerts: createAlertStore(redis, keys) };
}

const change = (alertId: string, event: 'fired' | 'resolved', ttlSeconds = 3_600): AlertTransition => ({
  alertId,
  event,
  payload: JSON.stringify({ id: alertId, event }),
  ttlSeconds,
});

async function outbox(key: string): Promise<string[]> {
  return (await redis.xrange(key, '-', '+')).map(([, fields]) => fields[1]!);
}

describe('the alert store on a real Redis', () => {
  it('fires once: state firing and one outbox entry; the same transition again is a no-op', async () => {
    const { keys, alerts } = store();
    const fired = change('al_1', 'fired');
    expect(await alerts.transition([fired])).toEqual([fired]);
    expect(await alerts.states(['al_1', 'al_other'])).toEqual(new Map([['al_1', 'firing']]));
    expect(await redis.xlen(keys.alertOutbox)).toBe(1);
    expect(await outbox(keys.alertOutbox)).toEqual([fired.payload]);
    const ttl = await redis.ttl(keys.alertState('al_1'));
    expect(ttl).toBeGreaterThan(3_590);
    expect(ttl).toBeLessThanOrEqual(3_600);

    expect(await alerts.transition([fired])).toEqual([]);
    expect(await redis.xlen(keys.alertOutbox)).toBe(1);

    // Two evaluations racing in one pipeline: only the first takes effect.
    const other = change('al_2', 'fired');
    expect(await alerts.transition([other, other])).toEqual([other]);
    expect(await redis.xlen(keys.alertOutbox)).toBe(2);
    expect(await alerts.transition([])).toEqual([]);
  });

  it('resolves only a firing alert, and a resolved alert does not fire again', async () => {
    const { keys, alerts } = store();
    // Never fired: nothing to resolve.
    expect(await alerts.transition([change('al_1', 'resolved')])).toEqual([]);
    expect(await alerts.states(['al_1'])).toEqual(new Map());
    expect(await redis.exists(keys.alertOutbox)).toBe(0);

    await alerts.transition([change('al_1', 'fired')]);
    const resolved = change('al_1', 'resolved', 7_200);
    expect(await alerts.transition([resolved])).toEqual([resolved]);
    expect(await alerts.states(['al_1'])).toEqual(new Map([['al_1', 'resolved']]));
    expect(await redis.ttl(keys.alertState('al_1'))).toBeGreaterThan(7_190);
    expect(await outbox(keys.alertOutbox)).toEqual([change('al_1', 'fired').payload, resolved.payload]);

    // Resolving again, or firing the same alert id again, changes nothing.
    expect(await alerts.transition([resolved, change('al_1', 'fired')])).toEqual([]);
    expect(await alerts.states(['al_1'])).toEqual(new Map([['al_1', 'resolved']]));
    expect(await redis.xlen(keys.alertOutbox)).toBe(2);
  });

  it('restore: resolved replaces firing, nothing replaces resolved, and no message is queued', async () => {
    const { keys, alerts } = store();
    await alerts.transition([change('al_done', 'fired')]);
    await alerts.transition([change('al_done', 'resolved')]);
    const queued = await redis.xlen(keys.alertOutbox);

    await alerts.restore([
      { alertId: 'al_done', state: 'firing', ttlSeconds: 600 },
      { alertId: 'al_new', state: 'firing', ttlSeconds: 600 },
    ]);
    expect(await alerts.states(['al_done', 'al_new'])).toEqual(
      new Map([
        ['al_done', 'resolved'],
        ['al_new', 'firing'],
      ]),
    );
    const ttl = await redis.ttl(keys.alertState('al_new'));
    expect(ttl).toBeGreaterThan(590);
    expect(ttl).toBeLessThanOrEqual(600);

    await alerts.restore([{ alertId: 'al_new', state: 'resolved', ttlSeconds: 600 }]);
    expect(await alerts.states(['al_new'])).toEqual(new Map([['al_new', 'resolved']]));
    await alerts.restore([{ alertId: 'al_new', state: 'firing', ttlSeconds: 600 }]);
    expect(await alerts.states(['al_new'])).toEqual(new Map([['al_new', 'resolved']]));

    await alerts.restore([]);
    expect(await redis.xlen(keys.alertOutbox)).toBe(queued);
  });
});
