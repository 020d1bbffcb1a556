import type { ForecastAnswer } from '@burnrate/core';
import { effortParameter, type History } from './budget.js';
import { HttpError } from './http.js';

export const FORECAST_PARAMETERS = [
  'workflow',
  'scope',
  'feature',
  'step_kind',
  'model',
  'effort',
  'prompt_tokens',
] as const;

/** GET /v1/forecast: p50/p90/p99 cost and tokens of one run or one step, from the cache. */
export function forecastAnswer(history: History, q: Map<string, string>): ForecastAnswer {
  const scope = q.get('scope') ?? 'run';
  if (scope !== 'run' && scope !== 'step') {
    throw new HttpError(400, 'invalid_parameter', `scope must be run or step (got "${scope}").`, 'scope');
  }
  if (scope === 'run') {
    for (const name of ['feature', 'step_kind', 'model']) {
      if (q.has(name)) {
        throw new HttpError(
          400,
          'invalid_parameter',
          `${name} applies to scope=step only: a run spans steps of many kinds and models.`,
          name,
        );
      }
    }
  }
  return history.forecast({
    scope,
    workflow: q.get('workflow')!,
    feature: q.get('feature') ?? null,
    stepKind: q.get('step_kind') ?? null,
    model: q.get('model') ?? null,
    effort: effortParameter(q),
  });
}
