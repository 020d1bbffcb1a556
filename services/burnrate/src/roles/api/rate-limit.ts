/**
 * Events per second per API key: a token bucket holding one second's worth (at least `burst`, so
 * the largest batch fits), refilled continuously. 0 turns it off.
 */
export function createRateLimiter(perSecond: number, burst: number, clock: () => number = Date.now) {
  const capacity = Math.max(perSecond, burst);
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    /** Takes `n` tokens, or answers the seconds to wait (nothing is taken then). */
    take(key: string, n: number): { ok: true } | { ok: false; retryAfterSeconds: number } {
      if (perSecond <= 0) return { ok: true };
      const now = clock();
      const b = buckets.get(key) ?? { tokens: capacity, at: now };
      b.tokens = Math.min(capacity, b.tokens + ((now - b.at) / 1000) * perSecond);
      b.at = now;
      buckets.set(key, b);
      if (n > b.tokens) {
        return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((n - b.tokens) / perSecond)) };
      }
      b.tokens -= n;
      return { ok: true };
    },
  };
}
