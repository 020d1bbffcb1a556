import type { BudgetAnswer } from '@burnrate/core';

/** The numbers of one cost check, all exact nano-USD. */
export interface CostCheck {
  /** The run's cost so far, as the pipeline has counted it (it trails real time by about a second). */
  runCost: bigint;
  /** What the next step is expected to cost: the mean cost of the run's steps so far, rounded up. */
  nextStep: bigint;
  /** runCost + nextStep ≥ the cap: the next step should not start. */
  stop: boolean;
}

/**
 * Whether the next step of a run would reach a cost cap of `capNanos`:
 *
 *     stop ⇔ runCost + ⌈runCost / steps⌉ ≥ capNanos      (⌈…⌉ taken as 0 while steps = 0)
 *
 * with `runCost` and `steps` the run so far from the budget answer. The next step is expected to
 * cost what the run's steps have cost on average: the run's own history is the only per-step
 * figure the answer carries. The answer's forecast is not used: it is the cost of a whole run, so
 * its p90 says how far a run tends to go, not what one more step costs, and comparing it with the
 * cap would stop every run of a workflow whose p90 is over the cap at its first step.
 *
 * A run already at the cap always stops. `answer.run` must be present (the query named the run).
 */
export function checkRunCost(answer: BudgetAnswer, capNanos: bigint): CostCheck {
  const run = answer.run;
  if (run === null) throw new TypeError('checkRunCost needs an answer about a run (query with runId).');
  const runCost = BigInt(run.cost.nanos);
  const steps = BigInt(run.steps);
  const nextStep = steps > 0n && runCost > 0n ? (runCost + steps - 1n) / steps : 0n;
  return { runCost, nextStep, stop: runCost + nextStep >= capNanos };
}
