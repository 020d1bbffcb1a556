import {
  type BudgetAnswer,
  billingPeriodEndMs,
  billingPeriodStart,
  type CustomerDirectory,
  decideBudget,
  type EffortClass,
  effortFromPromptTokens,
  type ForecastAnswer,
  type ForecastKey,
  type ModelSuggestion,
  parseEffort,
  projectPeriodEnd,
  type RuleBook,
  toMoney,
  ValidationError,
} from '@burnrate/core';
import type { AggregateReader } from '../../redis/aggregate-reader.js';
import { HttpError } from './http.js';
import { intParameter } from './query.js';

/** What the guardrail reads besides Redis: the forecasts and the routing policy. */
export interface History {
  forecast(q: ForecastKey): ForecastAnswer;
  suggest(workflow: string, model: string | null): ModelSuggestion | null;
}

export const BUDGET_PARAMETERS = ['customer', 'workflow', 'run', 'model', 'effort', 'prompt_tokens'] as const;

/** The effort class a request names (`effort`) or implies (`prompt_tokens`); null when neither. */
export function effortParameter(q: Map<string, string>): EffortClass | null {
  const text = q.get('effort');
  if (text !== undefined) {
    try {
      return parseEffort(text);
    } catch (error) {
      if (error instanceof ValidationError)
        throw new HttpError(400, 'invalid_parameter', error.message, 'effort');
      throw error;
    }
  }
  const tokens = intParameter(q, 'prompt_tokens');
  return tokens === undefined ? null : effortFromPromptTokens(tokens);
}

/**
 * GET /v1/budget: period-to-date spend, budget, remaining, projection, the run so far, the run
 * forecast and a decision, from the rolling aggregates (Redis) and the rules in force.
 */
export function createBudgetHandler(deps: {
  customers: CustomerDirectory;
  reader: AggregateReader;
  rules: () => RuleBook;
  history: History;
  clock: () => number;
}) {
  /**
   * With `history: false` (a key scoped to customers) the forecast still counts in the decision, but
   * the answer shows no forecast, suggestion or p90 amount: those come from every customer's history.
   */
  return async function budget(q: Map<string, string>, show: { history: boolean }): Promise<BudgetAnswer> {
    const ref = q.get('customer')!;
    const workflow = q.get('workflow') ?? null;
    const runId = q.get('run') ?? null;
    const effort = effortParameter(q);
    const now = deps.clock();
    const match = deps.customers.lookup(ref, now);
    const customerId = match.customer_id;
    const periodStart = billingPeriodStart(now, match.billing_anchor_day);
    const read = await deps.reader.guardrail(customerId, periodStart, now, runId).catch((error: unknown) => {
      throw new HttpError(
        503,
        'aggregates_unavailable',
        `Redis (REDIS_URL) cannot be read: ${(error as Error).message}. Retry in a few seconds.`,
        undefined,
        2,
      );
    });
    if (!read) {
      throw new HttpError(
        503,
        'aggregates_unavailable',
        'The rolling aggregates are being rebuilt (or the aggregator is not running); retry in a few seconds.',
        undefined,
        2,
      );
    }
    const spend = read.period.cost;
    // A budget of 0 means none, as for the budget alerts.
    const budget = match.monthly_budget_nanos ? match.monthly_budget_nanos : null;
    const settings = deps.rules().for(customerId, match.plan?.kind ?? '');
    const projection = projectPeriodEnd(periodStart, now, spend, read.last24h);
    const tooEarly =
      !projection || projection.elapsed < BigInt(Math.round(settings.forecast.min_elapsed_hours * 3_600_000));
    // Another customer's run reads as a run with no events: a key scoped to one customer learns nothing else.
    const run = read.run && read.run.customer === customerId ? read.run : undefined;
    const forecast = workflow ? deps.history.forecast({ scope: 'run', workflow, effort }).forecast : null;
    const runCost = run?.cost ?? 0n;
    const p90 = forecast ? BigInt(forecast.cost.p90.nanos) : null;
    const decided = decideBudget(
      {
        spend,
        budget,
        projected: tooEarly ? null : projection.projected,
        run: runId
          ? { cost: runCost, steps: run?.steps ?? 0, retries: run?.retries ?? 0, depth: run?.maxDepth ?? 0 }
          : null,
        // What the rest of the run is expected to cost: its p90 less what it has cost so far.
        forecastP90: p90 === null ? null : p90 > runCost ? p90 - runCost : 0n,
      },
      settings,
    );
    return {
      customer_ref: ref,
      customer_id: customerId,
      period: {
        start: periodStart,
        end: new Date(billingPeriodEndMs(periodStart)).toISOString().slice(0, 10),
      },
      spend: toMoney(spend),
      budget: budget === null ? null : toMoney(budget),
      remaining: budget === null ? null : toMoney(budget - spend),
      projected: tooEarly ? null : toMoney(projection.projected),
      run: runId
        ? {
            run_id: runId,
            workflow: run?.workflow || null,
            cost: toMoney(runCost),
            steps: run?.steps ?? 0,
            retries: run?.retries ?? 0,
            depth: run?.maxDepth ?? 0,
          }
        : null,
      forecast: show.history ? forecast : null,
      decision: decided.decision,
      reasons: show.history
        ? decided.reasons
        : decided.reasons.map((r) =>
            r.code === 'forecast_over_remaining'
              ? {
                  code: r.code,
                  message:
                    'One run of this workflow is expected to cost more than what is left in the budget.',
                }
              : r,
          ),
      suggestion: workflow && show.history ? deps.history.suggest(workflow, q.get('model') ?? null) : null,
      as_of: new Date(now).toISOString(),
    };
  };
}
