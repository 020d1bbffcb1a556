import { type BudgetAnswer, BurnrateError, type DecisionReason } from '@burnrate/core';

/** Which limit stopped a step: a local cap of withBudget(), or the budget API's own decision. */
export type BudgetCap = 'cost' | 'steps' | 'retries' | 'depth' | 'budget';

const LIMIT_OPTION: Record<BudgetCap, string | undefined> = {
  cost: 'maxCostUsd',
  steps: 'maxSteps',
  retries: 'maxRetries',
  depth: 'maxDepth',
  budget: undefined,
};

/**
 * A step or retry was refused before it started: its body never ran. Code `budget_exceeded`, not
 * retriable (the same step would be refused again). Catch it to end an agent loop gracefully.
 *
 * `limit` and `used` are counts for `steps`, `retries` and `depth`; exact nano-USD (bigint) for
 * `cost` (the cap, and the run's cost plus the expected next step) and for `budget` (`limit` the
 * monthly budget — null when the customer has none and the API denied for another reason, such as
 * a run cap of its own; `used` the period's spend). `reasons` says why in every API case.
 */
export class BudgetExceededError extends BurnrateError {
  readonly cap: BudgetCap;
  readonly limit: number | bigint | null;
  readonly used: number | bigint | null;
  /** With `budget` (and `cost`): the API's reasons. */
  readonly reasons: readonly DecisionReason[];
  /** With `budget` and `cost`: the answer the decision was made from (its `suggestion` included). */
  readonly answer: BudgetAnswer | null;

  constructor(
    cap: BudgetCap,
    message: string,
    details: {
      limit: number | bigint | null;
      used: number | bigint | null;
      reasons?: readonly DecisionReason[];
      answer?: BudgetAnswer | null;
    },
  ) {
    super('budget_exceeded', message, { field: LIMIT_OPTION[cap] });
    this.cap = cap;
    this.limit = details.limit;
    this.used = details.used;
    this.reasons = details.reasons ?? [];
    this.answer = details.answer ?? null;
  }
}

/**
 * The budget API answered with an error status. `status` is the HTTP status; `code`, `message` and
 * `field` come from the answer's `ApiError` body (or say that it had none). Retriable for 429 and
 * 5xx; `retryAfterSeconds` is the answer's Retry-After, when it gave one in seconds.
 */
export class BudgetApiError extends BurnrateError {
  readonly status: number;
  readonly retryAfterSeconds: number | null;

  constructor(
    status: number,
    code: string,
    message: string,
    options: { field?: string; retryAfterSeconds?: number | null } = {},
  ) {
    super(code, message, { field: options.field, retriable: status === 429 || status >= 500 });
    this.status = status;
    this.retryAfterSeconds = options.retryAfterSeconds ?? null;
  }
}

/**
 * No usable answer came from the budget API: `budget_timeout` (nothing within `timeoutMs`),
 * `budget_unreachable` (connection refused, DNS, reset, …) or `budget_bad_response` (a 200 whose
 * body is not a budget answer). The first two are retriable.
 */
export class BudgetUnavailableError extends BurnrateError {
  constructor(
    code: 'budget_timeout' | 'budget_unreachable' | 'budget_bad_response',
    message: string,
    cause?: unknown,
  ) {
    super(code, message, { retriable: code !== 'budget_bad_response', cause });
  }
}
