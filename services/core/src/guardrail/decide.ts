import type { BudgetDecision, DecisionReason } from '../api/types.js';
import type { RuleSettings } from '../rules/settings.js';
import { atLeast, decimalText, formatUsd } from '../rules/snapshots.js';

/** What the guardrail knows when it decides: exact nano-USD and counts, read a moment ago. */
export interface GuardrailFacts {
  /** Period-to-date spend. */
  spend: bigint;
  /** The monthly budget; null for none. */
  budget: bigint | null;
  /** Period-end spend at the trailing rate; null while it is too early in the period to say. */
  projected: bigint | null;
  /** The workflow run asked about, so far; null when none was named. */
  run: { cost: bigint; steps: number; retries: number; depth: number } | null;
  /** The p90 cost of one run of the workflow asked about; null without a forecast. */
  forecastP90: bigint | null;
}

const RANK: Record<BudgetDecision, number> = { allow: 0, warn: 1, deny: 2 };

/**
 * allow, warn or deny for an agent's next step (or a run about to start), with every reason that
 * applies. Pure and exact: budgets and caps compare integers, percents are exact decimals.
 * A run at a cap is denied its next step: the step would go past it.
 */
export function decideBudget(
  f: GuardrailFacts,
  r: RuleSettings,
): { decision: BudgetDecision; reasons: DecisionReason[] } {
  const reasons: Array<DecisionReason & { level: BudgetDecision }> = [];
  const g = r.guardrail;
  if (f.budget !== null && f.budget > 0n) {
    const remaining = f.budget - f.spend;
    if (atLeast(f.spend * 100n, g.deny_percent, f.budget)) {
      reasons.push({
        level: 'deny',
        code: 'budget_exhausted',
        message: `${formatUsd(f.spend)} spent of the ${formatUsd(f.budget)} monthly budget, at or past the ${decimalText(g.deny_percent)}% deny line.`,
      });
    } else if (atLeast(f.spend * 100n, g.warn_percent, f.budget)) {
      reasons.push({
        level: 'warn',
        code: 'budget_warn',
        message: `${formatUsd(f.spend)} spent of the ${formatUsd(f.budget)} monthly budget, past the ${decimalText(g.warn_percent)}% warning line.`,
      });
    }
    if (f.projected !== null && f.projected > f.budget && f.spend < f.budget) {
      reasons.push({
        level: 'warn',
        code: 'projected_over_budget',
        message: `At the trailing rate the period ends at ${formatUsd(f.projected)}, over the ${formatUsd(f.budget)} budget.`,
      });
    }
    if (f.forecastP90 !== null && f.forecastP90 > remaining) {
      reasons.push({
        level: g.forecast_action,
        code: 'forecast_over_remaining',
        message: `One run of this workflow costs up to ${formatUsd(f.forecastP90)} (p90), more than the ${formatUsd(remaining > 0n ? remaining : 0n)} left in the budget.`,
      });
    }
  } else {
    reasons.push({ level: 'allow', code: 'no_budget', message: 'The customer has no monthly budget.' });
  }
  if (f.run && r.runaway.enabled) {
    const level: BudgetDecision = g.deny_runaway ? 'deny' : 'warn';
    const cap = r.runaway;
    if (f.run.cost >= cap.max_cost_nanos) {
      reasons.push({
        level,
        code: 'run_cost_cap',
        message: `The run has cost ${formatUsd(f.run.cost)}, at or past its ${formatUsd(cap.max_cost_nanos)} cap.`,
      });
    }
    if (f.run.steps >= cap.max_steps) {
      reasons.push({
        level,
        code: 'run_step_cap',
        message: `The run has taken ${f.run.steps} steps; its cap is ${cap.max_steps}.`,
      });
    }
    // Steps and cost grow with every step, so a run AT those caps is denied its next one; depth and
    // retries grow only if the next step is deeper or a retry, so only a run PAST them is.
    if (f.run.retries > cap.max_retries) {
      reasons.push({
        level,
        code: 'run_retry_cap',
        message: `The run has retried ${f.run.retries} times, past its cap of ${cap.max_retries}.`,
      });
    }
    if (f.run.depth > cap.max_depth) {
      reasons.push({
        level,
        code: 'run_depth_cap',
        message: `The run has nested ${f.run.depth} deep, past its cap of ${cap.max_depth}.`,
      });
    }
  }
  const decision = reasons.reduce<BudgetDecision>((d, x) => (RANK[x.level] > RANK[d] ? x.level : d), 'allow');
  return { decision, reasons: reasons.map(({ code, message }) => ({ code, message })) };
}
