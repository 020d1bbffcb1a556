import { BurnrateError } from '@burnrate/core';

/**
 * How a role reports a failure it cannot recover from — a consumer KafkaJS will not restart, a fenced
 * producer, a ClickHouse that refuses the ledger's inserts for good. The process then stops with a
 * non-zero exit code and one log line saying why, instead of staying up and consuming nothing: an
 * orchestrator restarts it, and an operator sees the reason.
 */
export type Fatal = (error: BurnrateError) => void;

/** Wraps whatever was thrown into the BurnrateError a Fatal handler takes, naming the role. */
export function fatalError(role: string, what: string, error: unknown): BurnrateError {
  const reason = error instanceof Error ? error.message : String(error);
  return new BurnrateError('role_failed', `The ${role} stopped for good: ${what}: ${reason}`, {
    cause: error,
  });
}
