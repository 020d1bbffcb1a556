import { setTimeout as sleep } from 'node:timers/promises';
import { BudgetExceededError } from '../budget/errors.js';
import { withAttempt } from './workflow-context.js';

export interface WithRetryOptions {
  /** Tries in all, including the first. */
  maxAttempts: number;
  /** Whether a failure is worth another try; every error is, when omitted. */
  retryIf?: (error: unknown, attempt: number) => boolean;
  /** Wait before attempt n+1 (n is the attempt that failed); none when omitted. */
  delayMs?: (attempt: number) => number;
}

/**
 * Runs `fn` until it succeeds or `maxAttempts` is reached. Each try runs inside the same step with
 * `attempt` set to 1, 2, 3…, so the usage a retried call burns is attributed to its retry — the
 * cost of flaky steps shows up instead of vanishing into the step's total.
 *
 * Inside a withBudget() scope each retry is checked before it starts (see withAttempt), and a
 * BudgetExceededError — from that check or from a step inside `fn` — is never retried: it is thrown
 * at once, whatever `retryIf` says.
 */
export async function withRetry<T>(
  options: WithRetryOptions,
  fn: (attempt: number) => Promise<T> | T,
): Promise<T> {
  if (!Number.isInteger(options.maxAttempts) || options.maxAttempts < 1) {
    throw new RangeError(`withRetry: maxAttempts must be an integer ≥ 1, got ${options.maxAttempts}`);
  }
  for (let attempt = 1; ; attempt++) {
    try {
      return await withAttempt(attempt, () => fn(attempt));
    } catch (error) {
      if (error instanceof BudgetExceededError) throw error;
      const again = attempt < options.maxAttempts && (options.retryIf?.(error, attempt) ?? true);
      if (!again) throw error;
      const delayMs = options.delayMs?.(attempt) ?? 0;
      if (delayMs > 0) await sleep(delayMs);
    }
  }
}
