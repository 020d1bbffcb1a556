import type { AlertEvent, AlertState } from '@burnrate/core';
import type { Redis, Result } from 'ioredis';
import type { AggregateKeys } from './aggregate-keys.js';

/**
 * An alert's state change and its message, written together: the state (`firing`/`resolved`) and
 * the outbox entry are set in one Lua script, so an alert is either recorded AND queued for
 * delivery, or neither — a crash in between cannot lose it or send it twice. The state check makes
 * firing idempotent: only the first evaluation that sees a crossing fires it.
 */
const TRANSITION = `
local cur = redis.call('GET', KEYS[1])
if ARGV[1] == 'fired' then
  if cur then return 0 end
  redis.call('SET', KEYS[1], 'firing', 'EX', ARGV[3])
else
  if cur ~= 'firing' then return 0 end
  redis.call('SET', KEYS[1], 'resolved', 'EX', ARGV[3])
end
redis.call('XADD', KEYS[2], '*', 'payload', ARGV[2])
return 1`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    burnrateAlertTransition(
      stateKey: string,
      outbox: string,
      event: string,
      payload: string,
      ttl: string,
    ): Result<number, Context>;
  }
}

/** How long an alert's state is remembered: past the end of any billing period it can belong to. */
export const ALERT_STATE_TTL_SECONDS = 45 * 86_400;

export interface AlertTransition {
  alertId: string;
  event: AlertEvent;
  /** The message as it will be delivered (JSON). */
  payload: string;
  /** How long to remember the state: until the alert's period can no longer come back. */
  ttlSeconds: number;
}

export interface AlertStore {
  states(alertIds: string[]): Promise<Map<string, AlertState>>;
  /** Returns the transitions that took effect (the others lost a race and are no-ops). */
  transition(changes: AlertTransition[]): Promise<AlertTransition[]>;
  /** Sets remembered states (a rebuild restoring them from ClickHouse), without touching newer ones. */
  restore(states: Array<{ alertId: string; state: AlertState; ttlSeconds: number }>): Promise<void>;
}

export function createAlertStore(redis: Redis, keys: AggregateKeys): AlertStore {
  redis.defineCommand('burnrateAlertTransition', { numberOfKeys: 2, lua: TRANSITION });
  return {
    async states(ids) {
      const out = new Map<string, AlertState>();
      if (ids.length === 0) return out;
      const values = await redis.mget(ids.map((id) => keys.alertState(id)));
      ids.forEach((id, i) => {
        const v = values[i];
        if (v === 'firing' || v === 'resolved') out.set(id, v);
      });
      return out;
    },
    async transition(changes) {
      if (changes.length === 0) return [];
      const p = redis.pipeline();
      for (const c of changes) {
        p.burnrateAlertTransition(
          keys.alertState(c.alertId),
          keys.alertOutbox,
          c.event,
          c.payload,
          String(c.ttlSeconds),
        );
      }
      const results = (await p.exec()) ?? [];
      return changes.filter((_, i) => {
        const [error, value] = results[i] ?? [];
        if (error) throw error;
        return value === 1;
      });
    },
    async restore(states) {
      if (states.length === 0) return;
      const p = redis.pipeline();
      for (const s of states) {
        // A resolved state replaces a firing one; nothing replaces a resolved one.
        if (s.state === 'resolved') p.set(keys.alertState(s.alertId), 'resolved', 'EX', s.ttlSeconds);
        else p.set(keys.alertState(s.alertId), 'firing', 'EX', s.ttlSeconds, 'NX');
      }
      await p.exec();
    },
  };
}
