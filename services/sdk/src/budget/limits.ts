import {
  type BudgetAnswer,
  BurnrateError,
  ConfigError,
  decimalFromNumber,
  decimalToNanos,
  parseDecimal,
} from '@burnrate/core';
import type { BudgetClient } from './client.js';

/** What withBudget() enforces. Every cap is optional; a scope with none only counts. */
export interface BudgetLimits {
  /**
   * Stop before a step when the run's cost so far, plus what its steps have cost on average, reaches
   * this many USD. A number (`0.5`) or a decimal string (`"0.50"`), at most 9 decimals. Needs a
   * `client` (the run's cost comes from the budget API) and a workflow run (withWorkflow).
   */
  maxCostUsd?: number | string;
  /** Most steps (withStep calls, nested ones included) the scope may start. */
  maxSteps?: number;
  /** Most retries (attempts after the first, by withRetry or withAttempt) the scope may start. */
  maxRetries?: number;
  /** Deepest step allowed: 0 allows top-level steps only, 1 their children too, … */
  maxDepth?: number;
  /** Asks the budget API before each step; inherited from an enclosing withBudget() when omitted. */
  client?: BudgetClient;
  /** The customer to ask about; else the enclosing withBudget()'s, else the workflow context's. */
  customerRef?: string;
  /** Called when the API answers `warn`, once per answer (a cached answer does not call it again). */
  onWarn?: (answer: BudgetAnswer) => void;
}

/** BudgetLimits checked and converted: the cost cap in exact nano-USD. */
export interface ResolvedLimits {
  maxCostNanos: bigint | null;
  maxSteps: number | null;
  maxRetries: number | null;
  maxDepth: number | null;
  onWarn: ((answer: BudgetAnswer) => void) | null;
}

/**
 * Checks `limits` and converts maxCostUsd to nano-USD without a float ever touching it.
 * @throws ConfigError (code `invalid_config`, `field` = the option) for a value that cannot be a cap.
 */
export function resolveLimits(limits: BudgetLimits): ResolvedLimits {
  if (typeof limits !== 'object' || limits === null) {
    throw new ConfigError(
      'limits',
      'withBudget needs limits: { maxSteps?, maxRetries?, maxDepth?, maxCostUsd? }.',
    );
  }
  if (limits.onWarn !== undefined && typeof limits.onWarn !== 'function') {
    throw new ConfigError('onWarn', 'withBudget: onWarn must be a function.');
  }
  if (limits.client !== undefined && typeof limits.client?.checkBudget !== 'function') {
    throw new ConfigError('client', 'withBudget: client must be a BudgetClient (see createBudgetClient).');
  }
  if (
    limits.customerRef !== undefined &&
    (typeof limits.customerRef !== 'string' || limits.customerRef === '')
  ) {
    throw new ConfigError('customerRef', 'withBudget: customerRef must be a non-empty string.');
  }
  return {
    maxCostNanos: limits.maxCostUsd === undefined ? null : costNanos(limits.maxCostUsd),
    maxSteps: count(limits.maxSteps, 'maxSteps'),
    maxRetries: count(limits.maxRetries, 'maxRetries'),
    maxDepth: count(limits.maxDepth, 'maxDepth'),
    onWarn: limits.onWarn ?? null,
  };
}

function count(value: unknown, option: string): number | null {
  if (value === undefined) return null;
  if (!Number.isSafeInteger(value) || (value as number) < 0) {
    throw new ConfigError(option, `withBudget: ${option} must be an integer ≥ 0, got ${String(value)}.`);
  }
  return value as number;
}

function costNanos(value: number | string): bigint {
  try {
    const decimal =
      typeof value === 'string' ? parseDecimal(value, 'maxCostUsd') : decimalFromNumber(value, 'maxCostUsd');
    return decimalToNanos(decimal, 'maxCostUsd');
  } catch (error) {
    if (!(error instanceof BurnrateError)) throw error;
    throw new ConfigError(
      'maxCostUsd',
      `withBudget: maxCostUsd must be a non-negative amount of USD with at most 9 decimals, such as 0.5 or "0.50"; ${error.message}`,
    );
  }
}
