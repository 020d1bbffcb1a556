import { describe, expect, it } from 'vitest';
import { outcomeOf, retryDelayMs } from '../../src/delivery/outcome.js';

describe('delivery outcome', () => {
  it('2xx is delivered, 410 disables, 408/429/5xx retry with the Retry-After given, other statuses fail', () => {
    for (const status of [200, 201, 202, 204, 299])
      expect(outcomeOf(status, undefined)).toEqual({ kind: 'delivered' });
    expect(outcomeOf(410, 5_000)).toEqual({ kind: 'disabled', reason: 'the receiver answered 410 Gone' });
    for (const status of [408, 429, 500, 502, 503, 504, 599]) {
      expect(outcomeOf(status, 2_000)).toEqual({
        kind: 'retry',
        retryAfterMs: 2_000,
        reason: `the receiver answered ${status}`,
      });
      expect(outcomeOf(status, undefined)).toMatchObject({ kind: 'retry', retryAfterMs: undefined });
    }
    for (const status of [100, 301, 304, 400, 401, 403, 404, 405, 409, 413, 422, 451]) {
      expect(outcomeOf(status, 2_000)).toEqual({
        kind: 'failed',
        reason: `the receiver answered ${status}, which a retry cannot fix`,
      });
    }
  });

  it('backs off exponentially from the base, with jitter between half and all of the ceiling', () => {
    const o = { baseMs: 1_000, maxMs: 60_000 };
    // attemptsMade is BullMQ's count including the attempt that just failed: 1 after the first.
    expect(retryDelayMs(1, o, () => 0)).toBe(500);
    expect(retryDelayMs(1, o, () => 0.999999)).toBe(1_000);
    expect(retryDelayMs(2, o, () => 0)).toBe(1_000);
    expect(retryDelayMs(2, o, () => 0.5)).toBe(1_500);
    expect(retryDelayMs(4, o, () => 0.999999)).toBe(8_000);
    for (let attempt = 1; attempt <= 12; attempt++) {
      const ceiling = Math.min(60_000, 1_000 * 2 ** (attempt - 1));
      for (let i = 0; i < 200; i++) {
        const delay = retryDelayMs(attempt, o);
        expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
        expect(delay).toBeLessThanOrEqual(ceiling);
      }
    }
    // Jitter spreads receivers' retries: 200 draws of one attempt are not all alike.
    expect(new Set(Array.from({ length: 200 }, () => retryDelayMs(3, o))).size).toBeGreaterThan(50);
  });

  it('caps the ceiling at maxMs, however many attempts (no overflow past 2^30)', () => {
    const o = { baseMs: 2_000, maxMs: 300_000 };
    for (const attempt of [9, 10, 20, 31, 100, 10_000]) {
      expect(retryDelayMs(attempt, o, () => 0)).toBe(150_000);
      expect(retryDelayMs(attempt, o, () => 0.999999)).toBe(300_000);
    }
    // attemptsMade 0 (never passed by BullMQ) still gives the base, not half of it twice.
    expect(retryDelayMs(0, o, () => 0.999999)).toBe(2_000);
  });

  it('lets Retry-After win over the backoff, without jitter, capped at one hour', () => {
    const o = { baseMs: 200, maxMs: 2_000 };
    expect(retryDelayMs(1, { ...o, retryAfterMs: 2_000 }, () => 0)).toBe(2_000);
    // Longer than maxMs is honoured: the receiver asked for it.
    expect(retryDelayMs(1, { ...o, retryAfterMs: 120_000 }, () => 0.5)).toBe(120_000);
    expect(retryDelayMs(5, { ...o, retryAfterMs: 0 })).toBe(0);
    expect(retryDelayMs(1, { ...o, retryAfterMs: 86_400_000 })).toBe(3_600_000);
    expect(retryDelayMs(1, { ...o, retryAfterMs: undefined }, () => 0)).toBe(100);
  });
});
