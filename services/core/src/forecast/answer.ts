import { toMoney } from '../api/money.js';
import type { EffortClass, Forecast, ForecastAnswer, Money, Quantiles } from '../api/types.js';
import { BurnrateError } from '../errors.js';

/** The quantile levels of every forecast, in the order p50, p90, p99. */
export const FORECAST_LEVELS = Object.freeze([0.5, 0.9, 0.99] as const);

/** What a forecast is about: a run or a step of a workflow; null dimensions mean "any". */
export interface ForecastKey {
  scope: 'run' | 'step';
  workflow: string;
  feature?: string | null;
  stepKind?: string | null;
  model?: string | null;
  effort?: EffortClass | null;
}

/** One key's figures as computed from history: p50/p90/p99 (FORECAST_LEVELS) of cost and tokens. */
export interface ForecastStats extends ForecastKey {
  sample: number;
  costNanos: readonly [bigint, bigint, bigint];
  tokens: readonly [bigint, bigint, bigint];
}

/** Where and when a set of forecasts was computed. */
export interface ForecastContext {
  minSample: number;
  /** Epoch milliseconds: the history was [fromMs, toMs). */
  fromMs: number;
  toMs: number;
  computedAtMs: number;
}

/**
 * A string naming a key exactly (two keys are equal iff their strings are): absent and null
 * dimensions are the same, "any".
 */
export function forecastKeyString(k: ForecastKey): string {
  return JSON.stringify([
    k.scope,
    k.workflow,
    k.feature ?? null,
    k.stepKind ?? null,
    k.model ?? null,
    k.effort ?? null,
  ]);
}

/** p50/p90/p99 of nano-USD amounts as Money. */
export function moneyQuantiles(nanos: readonly [bigint, bigint, bigint]): Quantiles<Money> {
  return { p50: toMoney(nanos[0]), p90: toMoney(nanos[1]), p99: toMoney(nanos[2]) };
}

/**
 * p50/p90/p99 of token counts as numbers.
 * @throws BurnrateError (code `tokens_overflow`) for a count past Number.MAX_SAFE_INTEGER.
 */
export function tokenQuantiles(tokens: readonly [bigint, bigint, bigint]): Quantiles<number> {
  const safe = (value: bigint) => {
    if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new BurnrateError('tokens_overflow', `a token quantile of ${value} does not fit a safe integer.`);
    }
    return Number(value);
  };
  return { p50: safe(tokens[0]), p90: safe(tokens[1]), p99: safe(tokens[2]) };
}

/**
 * The answer for one key's figures: the forecast, or `sample_too_small` (with both counts) when it
 * rests on fewer than `minSample` runs or steps.
 */
export function answerFromStats(stats: ForecastStats, context: ForecastContext): ForecastAnswer {
  if (stats.sample < context.minSample) {
    return {
      forecast: null,
      reason: 'sample_too_small',
      sample: stats.sample,
      min_sample: context.minSample,
    };
  }
  const step = stats.scope === 'step';
  const forecast: Forecast = {
    scope: stats.scope,
    workflow: stats.workflow,
    feature: step ? (stats.feature ?? null) : null,
    step_kind: step ? (stats.stepKind ?? null) : null,
    model: step ? (stats.model ?? null) : null,
    effort: stats.effort ?? null,
    cost: moneyQuantiles(stats.costNanos),
    tokens: tokenQuantiles(stats.tokens),
    sample: stats.sample,
    window: { from: new Date(context.fromMs).toISOString(), to: new Date(context.toMs).toISOString() },
    computed_at: new Date(context.computedAtMs).toISOString(),
  };
  return { forecast };
}
