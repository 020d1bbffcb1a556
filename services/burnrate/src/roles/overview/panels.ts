import { costPerCall, type ModelSuggestion, type RoutingPolicy, suggestModel } from '@burnrate/core';
import type { ClickHouseClient } from '@clickhouse/client';
import { classifyClickHouseError } from '../../clickhouse/errors.js';
import { type RoutingRow, usageFromRow } from '../api/history-sql.js';
import { HttpError } from '../api/http.js';
import type { Dimension, Scope } from './params.js';
import * as sql from './sql.js';

/** What the panels read: ClickHouse, and optionally the process's readiness (see docs/dashboards.md). */
export interface PanelDeps {
  clickhouse: ClickHouseClient;
  database: string;
  routing: RoutingPolicy;
  /** The hook for the process's own /readyz; absent = the health panel says it is not wired. */
  readiness?: () => Promise<{ ready: boolean; detail: string }>;
  clock: () => number;
  /**
   * Settings sent with every query, e.g. `{ readonly: 2 }` on a ClickHouse server reached as the
   * read-write user. Never on an in-process chDB: there a setting outlives the query on the session.
   */
  settings?: Record<string, string | number>;
}

/** Series shown by name on a spend chart; the rest are summed into "other". */
const TOP_SERIES = 8;
const HOUR_S = 3_600;
const DAY_S = 86_400;

async function select<T>(deps: PanelDeps, query: string, params: Record<string, unknown>): Promise<T[]> {
  try {
    const rs = await deps.clickhouse.query({
      query,
      query_params: params,
      format: 'JSONEachRow',
      ...(deps.settings ? { clickhouse_settings: deps.settings } : {}),
    });
    return await rs.json<T>();
  } catch (error) {
    const e = classifyClickHouseError(error, 'an overview query');
    throw new HttpError(
      503,
      'clickhouse_unavailable',
      `ClickHouse did not answer: ${e.message}`,
      undefined,
      5,
    );
  }
}

/** The bucket size for a range: hours up to 3 days, days beyond. */
export function stepSeconds(scope: Scope): number {
  return scope.toMs - scope.fromMs <= 3 * DAY_S * 1_000 ? HOUR_S : DAY_S;
}

/** Spend over time by a dimension: one series per value (largest first, the tail as "other"). */
export async function spendPanel(deps: PanelDeps, scope: Scope, by: Dimension) {
  const step = stepSeconds(scope);
  const rows = await select<{ t: number; key: string; cost_nanos: string }>(
    deps,
    sql.spendSql(deps.database, by, scope),
    { ...sql.scopeParams(scope), step_s: step },
  );
  const first = Math.floor(scope.fromMs / 1_000 / step) * step;
  const buckets: number[] = [];
  for (let t = first; t * 1_000 < scope.toMs; t += step) buckets.push(t);
  const index = new Map(buckets.map((t, i) => [t, i]));
  const byKey = new Map<string, bigint[]>();
  for (const row of rows) {
    const i = index.get(Number(row.t));
    if (i === undefined) continue;
    let points = byKey.get(row.key);
    if (!points) {
      points = buckets.map(() => 0n);
      byKey.set(row.key, points);
    }
    points[i]! += BigInt(row.cost_nanos);
  }
  const total = (points: bigint[]) => points.reduce((a, b) => a + b, 0n);
  const ranked = [...byKey.entries()]
    .map(([key, points]) => ({ key, points, total: total(points) }))
    .sort((a, b) => (a.total === b.total ? (a.key < b.key ? -1 : 1) : a.total > b.total ? -1 : 1));
  const shown = ranked.slice(0, TOP_SERIES);
  const rest = ranked.slice(TOP_SERIES);
  if (rest.length > 0) {
    const points = buckets.map((_, i) => rest.reduce((sum, s) => sum + s.points[i]!, 0n));
    shown.push({ key: `other (${rest.length})`, points, total: total(points) });
  }
  return {
    by,
    step_seconds: step,
    buckets_ms: buckets.map((t) => t * 1_000),
    series: shown.map((s) => ({
      key: s.key,
      total_nanos: s.total.toString(),
      points_nanos: s.points.map(String),
    })),
  };
}

/**
 * Margins and whales for the billing period in force at `to`. A whale costs more than its plan earns,
 * or more than 10× the median customer's cost (the analysts' definition, docs/analysts.md).
 * The median is over every customer; the customer filter only narrows the rows shown.
 */
export async function marginsPanel(deps: PanelDeps, scope: Scope, limit = sql.MARGINS_LIMIT) {
  const params = sql.scopeParams(scope);
  const rows = await select<{
    customer_id: string;
    period_start: string;
    plan_kind: string;
    revenue_nanos: string;
    cost_nanos: string;
  }>(deps, sql.marginsSql(deps.database, scope, limit), params);
  // Over every customer, not only the rows shown: the costliest `limit` would skew it upwards.
  const stats = await select<{ median_cost_nanos: string }>(
    deps,
    sql.marginsMedianSql(deps.database),
    params,
  );
  const median = BigInt(stats[0]?.median_cost_nanos ?? 0);
  const customer = scope.filters.customer;
  return {
    median_cost_nanos: median.toString(),
    customers: rows
      .filter((r) => customer === undefined || r.customer_id === customer)
      .map((r) => {
        const revenue = BigInt(r.revenue_nanos);
        const cost = BigInt(r.cost_nanos);
        return {
          customer_id: r.customer_id,
          period_start: r.period_start,
          plan_kind: r.plan_kind,
          revenue_nanos: revenue.toString(),
          cost_nanos: cost.toString(),
          margin_nanos: revenue > 0n ? (revenue - cost).toString() : null,
          whale: (revenue > 0n && cost > revenue) || (median > 0n && cost > 10n * median),
        };
      }),
  };
}

export async function runsPanel(deps: PanelDeps, scope: Scope) {
  const rows = await select<{
    customer_id: string;
    workflow: string;
    run_id: string;
    started_ms: string;
    last_ms: string;
    steps: string;
    max_depth: number;
    cost_nanos: string;
    models: string[];
  }>(deps, sql.runsSql(deps.database, scope), sql.scopeParams(scope));
  return {
    runs: rows.map((r) => ({
      customer_id: r.customer_id,
      workflow: r.workflow,
      run_id: r.run_id,
      started_ms: Number(r.started_ms),
      last_ms: Number(r.last_ms),
      steps: Number(r.steps),
      max_depth: Number(r.max_depth),
      cost_nanos: r.cost_nanos,
      models: r.models,
    })),
  };
}

/**
 * Cost per call against mean quality_score per workflow × model, with the routing policy's
 * suggestion (core/forecast/routing.ts, as GET /v1/forecast gives it) for each workflow.
 */
export async function routingPanel(deps: PanelDeps, scope: Scope) {
  const rows = await select<RoutingRow>(deps, sql.routingSql(deps.database, scope), sql.scopeParams(scope));
  const byWorkflow = new Map<string, RoutingRow[]>();
  for (const row of rows) byWorkflow.set(row.workflow, [...(byWorkflow.get(row.workflow) ?? []), row]);
  const models = rows.map((row) => {
    const usage = usageFromRow(row);
    return {
      workflow: row.workflow,
      model: row.model,
      calls: usage.calls,
      scored_calls: usage.scoredCalls,
      cost_per_call_nanos: costPerCall(usage).toString(),
      quality: usage.quality,
    };
  });
  const suggestions: Array<{ workflow: string } & ModelSuggestion> = [];
  for (const [workflow, group] of byWorkflow) {
    const suggestion = suggestModel(group.map(usageFromRow), null, deps.routing);
    if (suggestion) suggestions.push({ workflow, ...suggestion });
  }
  return { models, suggestions };
}

export async function alertsPanel(deps: PanelDeps, scope: Scope) {
  const rows = await select<{
    at_ms: string;
    event: string;
    rule: string;
    severity: string;
    customer_id: string;
    subject: string;
    summary: string;
  }>(deps, sql.alertsSql(deps.database, scope), sql.scopeParams(scope));
  return { alerts: rows.map((r) => ({ ...r, at_ms: Number(r.at_ms) })) };
}

/** Pipeline health from the facts themselves (and the readiness hook when one is wired). */
export async function healthPanel(deps: PanelDeps) {
  const [fresh, rate, dead, readiness] = await Promise.all([
    select<{ newest_occurred_ms: string; newest_ingested_ms: string; events_5m: string; now_ms: string }>(
      deps,
      sql.freshnessSql(deps.database),
      {},
    ),
    select<{ t: number; events: string }>(deps, sql.ingestRateSql(deps.database), {}),
    select<{ reason: string; records: string; last_ms: string }>(deps, sql.deadLettersSql(deps.database), {}),
    deps.readiness
      ? deps.readiness().catch((error: unknown) => ({ ready: false, detail: String(error) }))
      : Promise.resolve(null),
  ]);
  const f = fresh[0];
  const newest = f && Number(f.newest_ingested_ms) > 0 ? Number(f.newest_ingested_ms) : null;
  return {
    now_ms: f ? Number(f.now_ms) : deps.clock(),
    newest_occurred_ms: f && Number(f.newest_occurred_ms) > 0 ? Number(f.newest_occurred_ms) : null,
    newest_ingested_ms: newest,
    events_last_5m: f ? Number(f.events_5m) : 0,
    ingest_per_minute: rate.map((r) => ({ t_ms: Number(r.t) * 1_000, events: Number(r.events) })),
    dead_letters_24h: dead.map((d) => ({
      reason: d.reason,
      records: Number(d.records),
      last_ms: Number(d.last_ms),
    })),
    readiness,
  };
}
