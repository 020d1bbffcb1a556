import { DIMENSIONS, type Dimension, type Scope } from './params.js';

/**
 * The overview page's statements. Every value a request supplies travels as a query parameter
 * (`{name:Type}`); the only text spliced in is the database name (validated at boot) and column
 * names from the DIMENSIONS allow-list. Money stays integer nano-USD.
 */

const FROM = `fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')`;
const TO = `fromUnixTimestamp64Milli({to_ms:Int64}, 'UTC')`;

/** `AND column = {f_dim:String}` for each filter the panel honours. */
export function filterSql(
  scope: Scope,
  honoured: readonly Dimension[] = ['customer', 'workflow', 'model'],
): string {
  return honoured
    .filter((dim) => scope.filters[dim] !== undefined)
    .map((dim) => ` AND ${DIMENSIONS[dim]} = {f_${dim}:String}`)
    .join('');
}

/** The parameters of a scope: the range in ms and each filter as f_<dim>. */
export function scopeParams(scope: Scope): Record<string, string | number> {
  const params: Record<string, string | number> = { from_ms: scope.fromMs, to_ms: scope.toMs };
  for (const [dim, value] of Object.entries(scope.filters)) params[`f_${dim}`] = value;
  return params;
}

/** Cost per time bucket and dimension value, from the hourly rollup (so hour granularity at best). */
export function spendSql(database: string, by: Dimension, scope: Scope): string {
  return `SELECT toUnixTimestamp(toStartOfInterval(hour, INTERVAL {step_s:UInt32} SECOND)) AS t,
      ${DIMENSIONS[by]} AS key, sum(cost_total_nanos) AS cost_nanos
    FROM ${database}.usage_hourly
    WHERE hour >= toStartOfHour(${FROM}) AND hour < ${TO}${filterSql(scope)}
    GROUP BY t, key
    ORDER BY t, key`;
}

/** The customers shown on the margins panel at most (the costliest first). */
export const MARGINS_LIMIT = 500;

const MARGIN_PERIOD = `billing_period_start <= toDate(${TO}) AND billing_period_start > toDate(${TO}) - 31`;

/**
 * Per customer, the billing period in force at `to`: revenue of its plan against its cost — the
 * `limit` costliest (a customer filter narrows to that customer, wherever it ranks).
 */
export function marginsSql(database: string, scope?: Scope, limit = MARGINS_LIMIT): string {
  return `SELECT customer_id, max(billing_period_start) AS period_start,
      argMax(plan_kind, billing_period_start) AS plan_kind,
      argMax(revenue_nanos, billing_period_start) AS revenue_nanos,
      argMax(cost_nanos, billing_period_start) AS cost_nanos
    FROM ${database}.customer_margin
    WHERE ${MARGIN_PERIOD}${scope ? filterSql(scope, ['customer']) : ''}
    GROUP BY customer_id
    ORDER BY cost_nanos DESC, customer_id
    LIMIT ${Math.max(1, Math.trunc(limit))}`;
}

/** The (lower) median of every customer's cost in the billing period in force at `to` — no LIMIT. */
export function marginsMedianSql(database: string): string {
  return `SELECT quantileExactLow(0.5)(cost_nanos) AS median_cost_nanos, count() AS customers
    FROM (
      SELECT customer_id, argMax(cost_nanos, billing_period_start) AS cost_nanos
      FROM ${database}.customer_margin
      WHERE ${MARGIN_PERIOD}
      GROUP BY customer_id
    )`;
}

/** The most expensive workflow runs in the range (their steps in the range; a filter narrows the steps). */
export function runsSql(database: string, scope: Scope): string {
  return `SELECT customer_id, workflow, workflow_run_id AS run_id,
      toUnixTimestamp64Milli(min(occurred_at)) AS started_ms, toUnixTimestamp64Milli(max(occurred_at)) AS last_ms,
      count() AS steps, max(depth) AS max_depth, sum(cost_total_nanos) AS cost_nanos,
      arraySort(groupUniqArray(model)) AS models
    FROM ${database}.usage_events
    WHERE occurred_at >= ${FROM} AND occurred_at < ${TO} AND workflow_run_id != ''${filterSql(scope)}
    GROUP BY customer_id, workflow, workflow_run_id
    ORDER BY cost_nanos DESC, run_id
    LIMIT 20`;
}

/** roles/api/history-sql.ts routingSql, scoped: calls, cost, scored calls and mean quality per workflow × model. */
export function routingSql(database: string, scope: Scope): string {
  return `SELECT workflow, model, count() AS calls, sum(cost_total_nanos) AS cost,
      count(quality_score) AS scored, round(avg(toFloat64(quality_score)), 6) AS quality
    FROM ${database}.usage_events
    WHERE occurred_at >= ${FROM} AND occurred_at < ${TO}
      AND unpriced = 0 AND byok = 0 AND workflow != ''${filterSql(scope)}
    GROUP BY workflow, model
    ORDER BY workflow, model`;
}

/** Alert messages (fired and resolved) in the range, newest first. */
export function alertsSql(database: string, scope: Scope): string {
  return `SELECT toUnixTimestamp64Milli(at) AS at_ms, event, rule, severity, customer_id, subject, summary
    FROM ${database}.alerts FINAL
    WHERE at >= ${FROM} AND at < ${TO}${filterSql(scope, ['customer'])}
    ORDER BY at DESC, message_id
    LIMIT 50`;
}

/** Facts freshness: the newest fact, and what arrived in the last 5 minutes (recent partitions only). */
export function freshnessSql(database: string): string {
  return `SELECT toUnixTimestamp64Milli(max(occurred_at)) AS newest_occurred_ms,
      toUnixTimestamp64Milli(max(ingested_at)) AS newest_ingested_ms,
      countIf(ingested_at >= now64(3) - INTERVAL 5 MINUTE) AS events_5m,
      toUnixTimestamp64Milli(now64(3)) AS now_ms
    FROM ${database}.usage_events
    WHERE occurred_at >= now64(3) - INTERVAL 35 DAY`;
}

/** Facts stored per minute over the last hour, by when they were ingested. */
export function ingestRateSql(database: string): string {
  return `SELECT toUnixTimestamp(toStartOfMinute(ingested_at)) AS t, count() AS events
    FROM ${database}.usage_events
    WHERE ingested_at >= now64(3) - INTERVAL 60 MINUTE AND occurred_at >= now64(3) - INTERVAL 35 DAY
    GROUP BY t
    ORDER BY t`;
}

/** Dead letters of the last day by reason. */
export function deadLettersSql(database: string): string {
  return `SELECT reason, count() AS records, toUnixTimestamp64Milli(max(received_at)) AS last_ms
    FROM ${database}.dead_letters
    WHERE received_at >= now64(3) - INTERVAL 1 DAY
    GROUP BY reason
    ORDER BY records DESC, reason`;
}
