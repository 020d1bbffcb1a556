import { setImmediate as yieldToLoop } from 'node:timers/promises';
import {
  answerFromStats,
  ConfigError,
  type ForecastAnswer,
  type ForecastContext,
  type ForecastKey,
  forecastKeyString,
  type ModelSuggestion,
  type ModelUsage,
  type RoutingPolicy,
  suggestModel,
} from '@burnrate/core';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Logger } from 'pino';
import type { Component } from '../../runtime/lifecycle.js';
import {
  type QuantileRow,
  type RoutingRow,
  routingSql,
  runQuantilesSql,
  selectWindow,
  statsFromRow,
  stepQuantilesSql,
  usageFromRow,
} from './history-sql.js';

/**
 * Forecasts and the routing policy, computed in ClickHouse every `refreshMs` and answered from
 * memory: a lookup is one Map.get of a precomputed, frozen answer (plus a short JSON key), so it
 * costs microseconds whatever the history's size.
 *
 * Size, for N workflows (only keys that occur in the window exist):
 * - step keys: per workflow, one per observed combination of each of the 16 subsets of (feature,
 *   step_kind, model, effort), i.e. at most (F+1)(K+1)(M+1)(E+1) with F features, K step kinds,
 *   M models and E ≤ 6 effort classes seen in it — and in practice far fewer, since only combinations
 *   that co-occur exist. 3 features × 2 kinds × 3 models × 4 classes gives ≤ 4·3·4·5 = 240.
 * - run keys: per workflow at most 7 (each effort class, and all together).
 * - routing: one suggestion per (workflow, model) and one per workflow (its most-called model).
 * So N workflows hold ≤ N × ((F+1)(K+1)(M+1)(E+1) + 7) answers, about 1 KB each with its key
 * (measured: 0.97 KB): 1,000 workflows of the shape above, ≤ 247,000 answers, ≈ 240 MB at worst,
 * twice that for a moment while a refresh builds the next set beside the current one. The refresh's
 * cost is in ClickHouse: one scan of the window for steps (every row lands in 16 groups, and the
 * exact quantiles keep 2 × 8 bytes per row and group while the query runs: ≈ 256 bytes per row in
 * the window), one for runs, one for routing.
 *
 * start() does not wait for ClickHouse: it kicks off the first refresh and returns, so a slow or
 * absent ClickHouse never holds up boot; until that refresh completes forecast() answers
 * `not_ready` and suggest() null. Refreshes never overlap: the next is scheduled `refreshMs` after
 * one ends. A failed refresh is logged (warn, with the error) and the previous answers stay.
 */
export interface HistoryCacheConfig {
  /** ClickHouse database holding usage_events (a plain identifier). */
  database: string;
  refreshMs: number;
  /** History used: [now − windowDays, now). */
  windowDays: number;
  /** Runs or steps a forecast needs; fewer answer `sample_too_small`. */
  minSample: number;
  /** Calls a model needs in a workflow before it can be suggested. */
  routingMinCalls: number;
  /** How far below the current model's mean quality a suggestion's may be (e.g. 0.02). */
  routingQualityTolerance: number;
}

/** What a forecast is asked for; null or absent dimensions mean "any". */
export type ForecastQuery = ForecastKey;

export interface HistoryCache extends Component {
  /** The forecast for a key: `not_ready` before the first refresh, `no_history` for an unknown key. */
  forecast(q: ForecastQuery): ForecastAnswer;
  /** A cheaper model for the workflow instead of `model` (null: its most-called model), or null. */
  suggest(workflow: string, model: string | null): ModelSuggestion | null;
  /** Whether the first refresh has completed. */
  ready(): boolean;
  /** Runs one refresh now (after any in flight); rejects, keeping the previous answers, if it fails. */
  refresh(): Promise<void>;
  /** How many answers the cache holds (forecast keys, workflows with routing figures). */
  size(): { forecasts: number; workflows: number };
}

const DAY_MS = 86_400_000;
const NOT_READY: ForecastAnswer = Object.freeze({ forecast: null, reason: 'not_ready' });
const NO_HISTORY: ForecastAnswer = Object.freeze({ forecast: null, reason: 'no_history' });

interface Suggestions {
  /** For the workflow's most-called model. */
  mostCalled: ModelSuggestion | null;
  byModel: Map<string, ModelSuggestion | null>;
}

interface Snapshot {
  forecasts: Map<string, ForecastAnswer>;
  suggestions: Map<string, Suggestions>;
  computedAtMs: number;
}

/** The history cache of the `api` role (see HistoryCache). */
export function createHistoryCache(
  config: HistoryCacheConfig,
  deps: { clickhouse: ClickHouseClient; logger: Logger; clock?: () => number },
): HistoryCache {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(config.database)) {
    throw new ConfigError(
      'CLICKHOUSE_DATABASE',
      `CLICKHOUSE_DATABASE must be a plain identifier, got "${config.database}".`,
    );
  }
  const clock = deps.clock ?? Date.now;
  const logger = deps.logger.child({ component: 'history-cache' });
  const policy: RoutingPolicy = {
    minCalls: config.routingMinCalls,
    qualityTolerance: config.routingQualityTolerance,
  };
  const statements = {
    steps: stepQuantilesSql(config.database),
    runs: runQuantilesSql(config.database),
    routing: routingSql(config.database),
  };
  let snapshot: Snapshot | undefined;
  let chain: Promise<void> = Promise.resolve();
  let running = false;
  let timer: NodeJS.Timeout | undefined;

  async function load(): Promise<void> {
    const startedMs = clock();
    const window = { fromMs: startedMs - config.windowDays * DAY_MS, toMs: startedMs };
    try {
      const [steps, runs, routing] = await Promise.all([
        selectWindow<QuantileRow>(deps.clickhouse, statements.steps, 'the step forecasts query', window),
        selectWindow<QuantileRow>(deps.clickhouse, statements.runs, 'the run forecasts query', window),
        selectWindow<RoutingRow>(deps.clickhouse, statements.routing, 'the routing policy query', window),
      ]);
      const context: ForecastContext = { minSample: config.minSample, ...window, computedAtMs: clock() };
      const first = snapshot === undefined;
      snapshot = await buildSnapshot(steps, runs, routing, context, policy);
      const level = first ? 'info' : 'debug';
      logger[level](
        { forecasts: snapshot.forecasts.size, workflows: snapshot.suggestions.size, ms: clock() - startedMs },
        'forecasts refreshed',
      );
    } catch (error) {
      logger.warn(
        {
          err: error,
          kept: snapshot ? new Date(snapshot.computedAtMs).toISOString() : null,
        },
        'forecast refresh failed; the previous forecasts stay in use',
      );
      throw error;
    }
  }

  function refresh(): Promise<void> {
    const run = chain.catch(() => {}).then(load);
    chain = run;
    return run;
  }

  function tick(): void {
    timer = undefined;
    void refresh()
      .catch(() => {})
      .finally(() => {
        if (!running) return;
        timer = setTimeout(tick, config.refreshMs);
        timer.unref();
      });
  }

  return {
    name: 'history-cache',
    async start() {
      if (running) return;
      running = true;
      tick();
    },
    async stop() {
      running = false;
      clearTimeout(timer);
      timer = undefined;
      await chain.catch(() => {});
    },
    forecast(q) {
      if (!snapshot) return NOT_READY;
      return snapshot.forecasts.get(forecastKeyString(q)) ?? NO_HISTORY;
    },
    suggest(workflow, model) {
      const s = snapshot?.suggestions.get(workflow);
      if (!s) return null;
      return model === null ? s.mostCalled : (s.byModel.get(model) ?? null);
    },
    ready: () => snapshot !== undefined,
    refresh,
    size: () => ({ forecasts: snapshot?.forecasts.size ?? 0, workflows: snapshot?.suggestions.size ?? 0 }),
  };
}

/** Every answer of one refresh, precomputed and frozen (callers share them). */
/** Rows turned into answers between two yields to the event loop (each takes a few µs). */
const ROWS_PER_SLICE = 500;

async function buildSnapshot(
  steps: QuantileRow[],
  runs: QuantileRow[],
  routing: RoutingRow[],
  context: ForecastContext,
  policy: RoutingPolicy,
): Promise<Snapshot> {
  const forecasts = new Map<string, ForecastAnswer>();
  for (const [scope, rows] of [
    ['step', steps],
    ['run', runs],
  ] as const) {
    for (let i = 0; i < rows.length; i++) {
      const stats = statsFromRow(scope, rows[i]!);
      forecasts.set(forecastKeyString(stats), deepFreeze(answerFromStats(stats, context)));
      if (i % ROWS_PER_SLICE === ROWS_PER_SLICE - 1) await yieldToLoop();
    }
  }
  const byWorkflow = new Map<string, ModelUsage[]>();
  for (const row of routing) {
    const list = byWorkflow.get(row.workflow) ?? [];
    list.push(usageFromRow(row));
    byWorkflow.set(row.workflow, list);
  }
  const suggestions = new Map<string, Suggestions>();
  for (const [workflow, models] of byWorkflow) {
    const byModel = new Map<string, ModelSuggestion | null>();
    for (const m of models) byModel.set(m.model, deepFreeze(suggestModel(models, m.model, policy)));
    suggestions.set(workflow, { mostCalled: deepFreeze(suggestModel(models, null, policy)), byModel });
  }
  return { forecasts, suggestions, computedAtMs: context.computedAtMs };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
