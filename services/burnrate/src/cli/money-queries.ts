import { divRoundHalfEven } from '@burnrate/core';
import { PERIOD_WHERE, type ReadDb } from './kit/clickhouse.js';
import type { Period } from './kit/period.js';

/** What `top` can rank, and the fact columns each one groups by (a fixed list: never user text). */
export const DIMENSIONS = {
  customers: [{ column: 'customer_id', title: 'CUSTOMER' }],
  workflows: [{ column: 'workflow', title: 'WORKFLOW' }],
  features: [{ column: 'feature', title: 'FEATURE' }],
  models: [
    { column: 'provider', title: 'PROVIDER' },
    { column: 'model', title: 'MODEL' },
  ],
  steps: [
    { column: 'workflow', title: 'WORKFLOW' },
    { column: 'step_kind', title: 'STEP KIND' },
    { column: 'depth', title: 'DEPTH' },
  ],
} as const;
export type Dimension = keyof typeof DIMENSIONS;
export const DIMENSION_NAMES = Object.keys(DIMENSIONS) as Dimension[];

export const TOKEN_CLASSES = ['input', 'cached_input', 'cache_write', 'output', 'reasoning'] as const;
type TokenClass = (typeof TOKEN_CLASSES)[number];

/** Usage of one group in a period: exact integers (nano-USD for money). */
export interface UsageTotals {
  calls: bigint;
  tokens: Record<TokenClass, bigint>;
  cost_nanos: bigint;
}

/** A customer's plan revenue next to its cost; null revenue = no USD plan price on record. */
export interface CustomerMoney extends UsageTotals {
  customer_id: string;
  plan_kind: string;
  revenue_nanos: bigint | null;
  margin_nanos: bigint | null;
  /** Margin as a percentage of revenue, two decimals (half-even), e.g. "-12.50". */
  margin_percent: string | null;
}

export interface TopRow extends UsageTotals {
  /** The group, one value per column of the dimension. */
  key: Record<string, string>;
  revenue_nanos?: bigint | null;
  margin_nanos?: bigint | null;
}

type Raw = Record<string, string | number>;

const TOTALS_SQL = `count() AS calls,
    ${TOKEN_CLASSES.map((t) => `sum(tokens_${t}) AS tokens_${t}`).join(',\n    ')},
    sum(cost_total_nanos) AS cost_nanos`;
const SUM_TOTALS_SQL = `sum(calls) AS calls,
    ${TOKEN_CLASSES.map((t) => `sum(tokens_${t}) AS tokens_${t}`).join(',\n    ')},
    sum(cost_nanos) AS cost_nanos`;

function totals(r: Raw): UsageTotals {
  return {
    calls: BigInt(r.calls!),
    tokens: Object.fromEntries(TOKEN_CLASSES.map((t) => [t, BigInt(r[`tokens_${t}`]!)])) as Record<
      TokenClass,
      bigint
    >,
    cost_nanos: BigInt(r.cost_nanos!),
  };
}

export function marginPercent(margin: bigint | null, revenue: bigint | null): string | null {
  if (margin === null || revenue === null || revenue <= 0n) return null;
  const hundredths = divRoundHalfEven(margin * 10_000n, revenue);
  const sign = hundredths < 0n ? '-' : '';
  const abs = hundredths < 0n ? -hundredths : hundredths;
  return `${sign}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
}

/**
 * Cost, calls and tokens per group, most expensive first. Revenue is the plan revenue of every
 * billing period with usage in the range (whole periods, USD plans only).
 */
export async function customerMoney(db: ReadDb, period: Period, limit?: number): Promise<CustomerMoney[]> {
  const rows = await db.rows<Raw>(
    `SELECT customer_id, any(plan_kind) AS plan_kind, ${SUM_TOTALS_SQL},
    sum(revenue) AS revenue_nanos, max(priced_plan) AS has_revenue
  FROM (
    SELECT customer_id, billing_period_start, any(plan_kind) AS plan_kind, ${TOTALS_SQL},
      maxIf(plan_revenue_nanos, plan_currency = 'USD' AND plan_revenue_nanos > 0) AS revenue,
      max(plan_currency = 'USD' AND plan_revenue_nanos > 0) AS priced_plan
    FROM ${db.database}.usage_events
    WHERE ${PERIOD_WHERE}
    GROUP BY customer_id, billing_period_start
  )
  GROUP BY customer_id
  ORDER BY cost_nanos DESC, customer_id
  LIMIT {limit:UInt32}`,
    { ...periodParams(period), limit: limit ?? 1_000_000 },
    'the customer cost query',
  );
  return rows.map((r) => {
    const t = totals(r);
    const revenue = Number(r.has_revenue) === 1 ? BigInt(r.revenue_nanos!) : null;
    const margin = revenue === null ? null : revenue - t.cost_nanos;
    return {
      customer_id: String(r.customer_id),
      plan_kind: String(r.plan_kind),
      ...t,
      revenue_nanos: revenue,
      margin_nanos: margin,
      margin_percent: marginPercent(margin, revenue),
    };
  });
}

export async function topRows(
  db: ReadDb,
  dimension: Dimension,
  period: Period,
  limit: number,
): Promise<TopRow[]> {
  if (dimension === 'customers') {
    return (await customerMoney(db, period, limit)).map(
      ({ customer_id, revenue_nanos, margin_nanos, ...t }) => ({
        key: { customer_id },
        calls: t.calls,
        tokens: t.tokens,
        cost_nanos: t.cost_nanos,
        revenue_nanos,
        margin_nanos,
      }),
    );
  }
  const columns = DIMENSIONS[dimension].map((d) => d.column);
  const rows = await db.rows<Raw>(
    `SELECT ${columns.join(', ')}, ${TOTALS_SQL}
  FROM ${db.database}.usage_events
  WHERE ${PERIOD_WHERE}
  GROUP BY ${columns.join(', ')}
  ORDER BY cost_nanos DESC, ${columns.join(', ')}
  LIMIT {limit:UInt32}`,
    { ...periodParams(period), limit },
    `the top ${dimension} query`,
  );
  return rows.map((r) => ({ key: Object.fromEntries(columns.map((c) => [c, String(r[c])])), ...totals(r) }));
}

/** One workflow run, summed over its steps. */
export interface RunSummary extends UsageTotals {
  workflow_run_id: string;
  workflow: string;
  customer_id: string;
  steps: bigint;
  max_depth: number;
  started_at: string;
  ended_at: string;
}

export async function topRuns(db: ReadDb, period: Period, limit: number): Promise<RunSummary[]> {
  const rows = await db.rows<Raw>(
    `SELECT workflow_run_id, any(workflow) AS workflow, any(customer_id) AS customer_id,
    uniqExact(step_id) AS steps, max(depth) AS max_depth, ${TOTALS_SQL},
    toUnixTimestamp64Milli(min(occurred_at)) AS started_ms, toUnixTimestamp64Milli(max(occurred_at)) AS ended_ms
  FROM ${db.database}.usage_events
  WHERE ${PERIOD_WHERE} AND workflow_run_id != ''
  GROUP BY workflow_run_id
  ORDER BY cost_nanos DESC, workflow_run_id
  LIMIT {limit:UInt32}`,
    { ...periodParams(period), limit },
    'the workflow runs query',
  );
  return rows.map((r) => ({
    workflow_run_id: String(r.workflow_run_id),
    workflow: String(r.workflow),
    customer_id: String(r.customer_id),
    steps: BigInt(r.steps!),
    max_depth: Number(r.max_depth),
    ...totals(r),
    started_at: new Date(Number(r.started_ms)).toISOString(),
    ended_at: new Date(Number(r.ended_ms)).toISOString(),
  }));
}

/** One step of a run: every call (attempt) recorded under its step_id, summed. */
export interface RunStep extends UsageTotals {
  step_id: string;
  parent_step_id: string;
  step_kind: string;
  depth: number;
  attempts: number;
  models: string[];
  started_at: string;
}

export async function runSteps(db: ReadDb, runId: string, period: Period): Promise<RunStep[]> {
  const rows = await db.rows<Raw & { models: string[] }>(
    `SELECT step_id, any(parent_step_id) AS parent_step_id, any(step_kind) AS step_kind, min(depth) AS depth,
    max(attempt) AS attempts, arraySort(groupUniqArray(model)) AS models, ${TOTALS_SQL},
    toUnixTimestamp64Milli(min(occurred_at)) AS started_ms
  FROM ${db.database}.usage_events
  WHERE ${PERIOD_WHERE} AND workflow_run_id = {run:String}
  GROUP BY step_id
  ORDER BY started_ms, step_id`,
    { ...periodParams(period), run: runId },
    'the workflow run query',
  );
  return rows.map((r) => ({
    step_id: String(r.step_id),
    parent_step_id: String(r.parent_step_id),
    step_kind: String(r.step_kind),
    depth: Number(r.depth),
    attempts: Number(r.attempts),
    models: r.models,
    ...totals(r),
    started_at: new Date(Number(r.started_ms)).toISOString(),
  }));
}

function periodParams(period: Period) {
  return { from: period.fromMs, to: period.toMs };
}
