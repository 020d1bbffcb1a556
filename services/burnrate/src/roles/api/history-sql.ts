import { setImmediate as yieldToLoop } from 'node:timers/promises';
import {
  EFFORT_BANDS,
  EFFORT_NAMES,
  type EffortClass,
  FORECAST_LEVELS,
  type ForecastStats,
  type ModelUsage,
} from '@burnrate/core';
import type { ClickHouseClient } from '@clickhouse/client';
import { classifyClickHouseError } from '../../clickhouse/errors.js';

/**
 * The history cache's three statements. ClickHouse computes the quantiles; only they travel back.
 *
 * Quantiles are `quantilesExactHigh(0.5, 0.9, 0.99)`: the sorted sample's value at index
 * floor(level × n) (0-based), so always an actual sample — an integer count of nano-USD or tokens,
 * no interpolation, no float — and of the two exact variants the one that leans high (for 1..100:
 * 51, 91, 100; for an even count p50 is the upper median), which suits a budget guardrail. It
 * keeps every value of a group in memory while the query runs (8 bytes a value and quantity).
 *
 * Rows counted: priced (`unpriced = 0`), not bring-your-own-key (`byok = 0`: their cost is 0 by
 * contract, not the model's price), with a workflow, and `occurred_at` in [from, to). Each event is
 * one row — the ledger writes a fact once and re-pricing updates it in place (docs/repricing.md) —
 * so plain aggregates count each event once; no FINAL, no deduplication.
 *
 * A run's total is the sum of its steps inside the window: a run that began before the window, or
 * is still going, counts with the part seen so far (a small share of a 30-day window).
 */

const QUANTILES = `quantilesExactHigh(${FORECAST_LEVELS.join(', ')})`;

/** The window's rows, with prompt and total tokens and the class an `effort` tag names ('' if none). */
function factsSql(database: string): string {
  const names = [...EFFORT_NAMES.keys()];
  return `SELECT customer_id, workflow, workflow_run_id, feature, step_kind, model, occurred_at, event_id,
      cost_total_nanos AS cost,
      tokens_input + tokens_cached_input + tokens_cache_write AS prompt,
      prompt + tokens_output + tokens_reasoning AS tokens,
      transform(lowerUTF8(trimBoth(tags['effort'])), ${stringArray(names)}, ${stringArray(names.map((n) => EFFORT_NAMES.get(n)!))}, '') AS tagged
    FROM ${database}.usage_events
    WHERE occurred_at >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')
      AND occurred_at < fromUnixTimestamp64Milli({to_ms:Int64}, 'UTC')
      AND unpriced = 0 AND byok = 0 AND workflow != ''`;
}

/** The effort class of a prompt size (an SQL expression), from the same bands as effortFromPromptTokens. */
export function effortClassSql(promptTokens: string): string {
  const arms = EFFORT_BANDS.slice(1).map(
    (b, i) => `${promptTokens} < ${b.minPromptTokens}, '${EFFORT_BANDS[i]!.effort}'`,
  );
  return `multiIf(${arms.join(', ')}, '${EFFORT_BANDS.at(-1)!.effort}')`;
}

/** Every subset of the step dimensions, each with workflow: a caller may leave any of them "any". */
function stepGroupingSets(): string {
  const dims = ['feature', 'step_kind', 'model', 'effort'];
  const sets: string[] = [];
  for (let mask = 0; mask < 1 << dims.length; mask++) {
    sets.push(`(${['workflow', ...dims.filter((_, i) => mask & (1 << i))].join(', ')})`);
  }
  return sets.join(', ');
}

/** Step quantiles for every (workflow, feature?, step_kind?, model?, effort?); NULL = "any". */
export function stepQuantilesSql(database: string): string {
  return `SELECT workflow, feature, step_kind, model, effort, count() AS sample,
      ${QUANTILES}(cost) AS cost_q, ${QUANTILES}(tokens) AS tokens_q
    FROM (SELECT *, if(tagged != '', tagged, ${effortClassSql('prompt')}) AS effort FROM (${factsSql(database)}))
    GROUP BY GROUPING SETS (${stepGroupingSets()})
    SETTINGS group_by_use_nulls = 1`;
}

/**
 * Run quantiles for every (workflow, effort?): totals per (customer, workflow_run_id) — two customers may use the same run id — (runs with an empty id are
 * not runs). A run's class is the first valid `effort` tag of its steps by occurred_at (event_id
 * breaks ties), else the class of its total prompt tokens.
 */
export function runQuantilesSql(database: string): string {
  return `SELECT workflow, effort, count() AS sample,
      ${QUANTILES}(run_cost) AS cost_q, ${QUANTILES}(run_tokens) AS tokens_q
    FROM (
      SELECT workflow, sum(cost) AS run_cost, sum(tokens) AS run_tokens, sum(prompt) AS run_prompt,
        argMinIf(tagged, (occurred_at, event_id), tagged != '') AS run_tag,
        if(run_tag != '', run_tag, ${effortClassSql('run_prompt')}) AS effort
      FROM (${factsSql(database)})
      WHERE workflow_run_id != ''
      GROUP BY customer_id, workflow, workflow_run_id
    )
    GROUP BY GROUPING SETS ((workflow, effort), (workflow))
    SETTINGS group_by_use_nulls = 1`;
}

/** The routing policy's figures per (workflow, model): calls, cost, scored calls, mean quality. */
export function routingSql(database: string): string {
  return `SELECT workflow, model, count() AS calls, sum(cost_total_nanos) AS cost,
      count(quality_score) AS scored, round(avg(toFloat64(quality_score)), 6) AS quality
    FROM ${database}.usage_events
    WHERE occurred_at >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')
      AND occurred_at < fromUnixTimestamp64Milli({to_ms:Int64}, 'UTC')
      AND unpriced = 0 AND byok = 0 AND workflow != ''
    GROUP BY workflow, model`;
}

type Int = string | number;

/** A row of stepQuantilesSql or runQuantilesSql (64-bit integers arrive quoted). */
export interface QuantileRow {
  workflow: string;
  feature?: string | null;
  step_kind?: string | null;
  model?: string | null;
  effort: string | null;
  sample: Int;
  cost_q: Int[];
  tokens_q: Int[];
}

/** A row of routingSql. */
export interface RoutingRow {
  workflow: string;
  model: string;
  calls: Int;
  cost: Int;
  scored: Int;
  quality: number | null;
}

/** A quantile row as the figures of one forecast key. */
export function statsFromRow(scope: 'run' | 'step', row: QuantileRow): ForecastStats {
  const three = (values: Int[]) => {
    if (values.length !== 3) throw new Error(`expected 3 quantiles, got ${values.length}`);
    return [BigInt(values[0]!), BigInt(values[1]!), BigInt(values[2]!)] as const;
  };
  return {
    scope,
    workflow: row.workflow,
    feature: row.feature ?? null,
    stepKind: row.step_kind ?? null,
    model: row.model ?? null,
    effort: (row.effort ?? null) as EffortClass | null,
    sample: Number(row.sample),
    costNanos: three(row.cost_q),
    tokens: three(row.tokens_q),
  };
}

/** A routing row as a model's usage. */
export function usageFromRow(row: RoutingRow): ModelUsage {
  const scored = Number(row.scored);
  return {
    model: row.model,
    calls: Number(row.calls),
    costNanos: BigInt(row.cost),
    scoredCalls: scored,
    quality: scored > 0 && row.quality !== null ? Number(row.quality) : null,
  };
}

/** Runs a SELECT over [fromMs, toMs), classifying a failure once. */
export async function selectWindow<T>(
  client: ClickHouseClient,
  query: string,
  what: string,
  window: { fromMs: number; toMs: number },
): Promise<T[]> {
  try {
    const result = await client.query({
      query,
      query_params: { from_ms: window.fromMs, to_ms: window.toMs },
      format: 'JSONEachRow',
    });
    // Row by row, yielding between chunks: a large history must not stall the API's event loop
    // (requests are answered from the previous cache meanwhile).
    const rows: T[] = [];
    for await (const chunk of result.stream<T>()) {
      for (const row of chunk) rows.push(row.json<T>());
      await yieldToLoop();
    }
    return rows;
  } catch (error) {
    throw classifyClickHouseError(error, what);
  }
}

function stringArray(values: readonly string[]): string {
  for (const v of values) if (!/^[a-z_]+$/.test(v)) throw new Error(`not a plain effort name: ${v}`);
  return `[${values.map((v) => `'${v}'`).join(', ')}]`;
}
