/**
 * What an HTTP answer means for an alert delivery. 2xx: delivered. 410 Gone: the receiver was
 * removed, so the destination is disabled. 408, 429 and 5xx: try again later (honouring
 * Retry-After). Any other status: the request itself is wrong and retrying cannot help.
 */
export type DeliveryOutcome =
  | { kind: 'delivered' }
  | { kind: 'retry'; retryAfterMs: number | undefined; reason: string }
  | { kind: 'failed'; reason: string }
  | { kind: 'disabled'; reason: string };

export function outcomeOf(status: number, retryAfterMs: number | undefined): DeliveryOutcome {
  if (status >= 200 && status < 300) return { kind: 'delivered' };
  if (status === 410) return { kind: 'disabled', reason: 'the receiver answered 410 Gone' };
  if (status === 408 || status === 429 || status >= 500) {
    return { kind: 'retry', retryAfterMs, reason: `the receiver answered ${status}` };
  }
  return { kind: 'failed', reason: `the receiver answered ${status}, which a retry cannot fix` };
}

/** Exponential backoff with jitter (half to all of the ceiling), capped; Retry-After wins when given. */
export function retryDelayMs(
  attemptsMade: number,
  o: { baseMs: number; maxMs: number; retryAfterMs?: number | undefined },
  random: () => number = Math.random,
): number {
  if (o.retryAfterMs !== undefined) return Math.min(o.retryAfterMs, 3_600_000);
  const ceiling = Math.min(o.maxMs, o.baseMs * 2 ** Math.min(Math.max(0, attemptsMade - 1), 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
