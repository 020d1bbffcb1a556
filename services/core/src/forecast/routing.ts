import { toMoney } from '../api/money.js';
import type { ModelSuggestion } from '../api/types.js';

/** One model's record in one workflow over the forecast window (priced calls only). */
export interface ModelUsage {
  model: string;
  calls: number;
  /** Sum of cost_total_nanos over the calls. */
  costNanos: bigint;
  /** Calls that reported a quality_score. */
  scoredCalls: number;
  /** Mean quality_score over the scored calls; null when there are none. */
  quality: number | null;
}

/** When a cheaper model may replace the current one. */
export interface RoutingPolicy {
  /** Calls a candidate needs before its figures are trusted. */
  minCalls: number;
  /** How far below the current model's mean quality a candidate's may be (e.g. 0.02). */
  qualityTolerance: number;
}

/**
 * Slack for comparing means of Float32 scores: 0.88 must pass "≥ 0.9 − 0.02" although binary
 * floating point may land a hair below. Far finer than any meaningful quality difference.
 */
const QUALITY_EPSILON = 1e-9;

/** Exact cost per call, rounded down: sum of cost / calls in integer nano-USD. */
export function costPerCall(usage: ModelUsage): bigint {
  return usage.calls > 0 ? usage.costNanos / BigInt(usage.calls) : 0n;
}

/** The workflow's most-called model (ties: the first by name); undefined when there is none. */
export function mostCalledModel(models: readonly ModelUsage[]): ModelUsage | undefined {
  let best: ModelUsage | undefined;
  for (const m of models) {
    if (!best || m.calls > best.calls || (m.calls === best.calls && m.model < best.model)) best = m;
  }
  return best;
}

/**
 * The routing policy: for a workflow whose models are `models`, a cheaper model to use instead of
 * `model` (or, when null, of the workflow's most-called model). A candidate is another model with at
 * least `minCalls` calls, a lower cost per call, and a mean quality no more than `qualityTolerance`
 * below the current model's; the cheapest wins (ties: higher quality, then more calls, then name).
 * Models without quality scores cannot be judged: never suggested, and a current model without
 * scores gets no suggestion. Null when there is no candidate or the model is unknown.
 */
export function suggestModel(
  models: readonly ModelUsage[],
  model: string | null,
  policy: RoutingPolicy,
): ModelSuggestion | null {
  const current = model === null ? mostCalledModel(models) : models.find((m) => m.model === model);
  if (!current || current.quality === null) return null;
  const currentCost = costPerCall(current);
  const floor = current.quality - policy.qualityTolerance - QUALITY_EPSILON;
  let best: { usage: ModelUsage; cost: bigint } | undefined;
  for (const m of models) {
    if (m.model === current.model || m.calls < policy.minCalls || m.quality === null) continue;
    const cost = costPerCall(m);
    if (cost >= currentCost || m.quality < floor) continue;
    if (!best || better(m, cost, best.usage, best.cost)) best = { usage: m, cost };
  }
  if (!best) return null;
  return {
    model: best.usage.model,
    instead_of: current.model,
    cost_per_call: toMoney(best.cost),
    instead_of_cost_per_call: toMoney(currentCost),
    quality_score: best.usage.quality,
    instead_of_quality_score: current.quality,
    calls: best.usage.calls,
  };
}

function better(a: ModelUsage, aCost: bigint, b: ModelUsage, bCost: bigint): boolean {
  if (aCost !== bCost) return aCost < bCost;
  if (a.quality !== b.quality) return (a.quality ?? 0) > (b.quality ?? 0);
  if (a.calls !== b.calls) return a.calls > b.calls;
  return a.model < b.model;
}
