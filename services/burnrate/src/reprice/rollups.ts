import type { ClickHouseClient } from '@clickhouse/client';
import { exec, select, uuidLiteral } from './sql.js';

/**
 * Mutations do not fire materialized views, so after the facts change the rollups they fed are
 * rebuilt from the facts: the keys a run touched are deleted and re-aggregated with the same SELECT
 * the views use (schemas/clickhouse/0002_rollups.sql; a test checks the two agree row for row).
 * Rebuilding from the facts, rather than adding deltas, makes it idempotent and self-healing: running
 * it again, or for an interrupted run, always lands on "rollups = aggregate of facts".
 */

export const HOURLY_GROUP = 'hour, customer_id, workflow, feature, provider, model';
export const HOURLY_SELECT = `toStartOfHour(occurred_at) AS hour, customer_id, workflow, feature, provider, model,
    count() AS events, countIf(unpriced = 1) AS unpriced_events, sum(requests) AS requests,
    sum(tokens_input) AS tokens_input, sum(tokens_cached_input) AS tokens_cached_input,
    sum(tokens_cache_write) AS tokens_cache_write, sum(tokens_output) AS tokens_output,
    sum(tokens_reasoning) AS tokens_reasoning, sum(cost_total_nanos) AS cost_total_nanos,
    sum(cost_input_nanos) AS cost_input_nanos, sum(cost_cached_input_nanos) AS cost_cached_input_nanos,
    sum(cost_cache_write_nanos) AS cost_cache_write_nanos, sum(cost_output_nanos) AS cost_output_nanos,
    sum(cost_reasoning_nanos) AS cost_reasoning_nanos, sum(cost_request_nanos + cost_units_nanos) AS cost_other_nanos`;
export const PERIOD_SELECT = `billing_period_start, customer_id, anyLast(plan_kind) AS plan_kind,
    anyLast(plan_currency) AS plan_currency, max(plan_revenue_nanos) AS plan_revenue_nanos,
    max(monthly_budget_nanos) AS monthly_budget_nanos, toUInt64(count()) AS events,
    toUInt64(countIf(unpriced = 1)) AS unpriced_events, sum(cost_total_nanos) AS cost_total_nanos`;

/** The sums compared by verification: everything re-pricing can change. */
export const HOURLY_SUMS = [
  'events',
  'unpriced_events',
  'cost_total_nanos',
  'cost_input_nanos',
  'cost_cached_input_nanos',
  'cost_cache_write_nanos',
  'cost_output_nanos',
  'cost_reasoning_nanos',
  'cost_other_nanos',
];
export const PERIOD_SUMS = ['events', 'unpriced_events', 'cost_total_nanos'];

function keySql(database: string, runIds: readonly string[]) {
  const log = `${database}.reprice_log WHERE run_id IN (${runIds.map(uuidLiteral).join(', ')})`;
  const hourOf = "toDateTime(toStartOfHour(occurred_at), 'UTC')";
  return {
    hours: `SELECT DISTINCT ${hourOf}, customer_id FROM ${log}`,
    periods: `SELECT DISTINCT billing_period_start, customer_id FROM ${log}`,
    // Narrows the fact reads to the primary index (customer_id) and the partitions (occurred_at);
    // the key IN-lists then pick the exact rows.
    hourFacts: `customer_id IN (SELECT customer_id FROM ${log})
      AND occurred_at >= (SELECT min(${hourOf}) FROM ${log})
      AND occurred_at < (SELECT max(${hourOf}) FROM ${log}) + INTERVAL 1 HOUR
      AND (${hourOf}, customer_id) IN (SELECT DISTINCT ${hourOf}, customer_id FROM ${log})`,
    periodFacts: `customer_id IN (SELECT customer_id FROM ${log})
      AND (billing_period_start, customer_id) IN (SELECT DISTINCT billing_period_start, customer_id FROM ${log})`,
  };
}

export interface RollupKeys {
  hourKeys: number;
  periodKeys: number;
}

/** How many rollup keys the runs touched. */
export async function countRollupKeys(
  client: ClickHouseClient,
  database: string,
  runIds: readonly string[],
): Promise<RollupKeys> {
  if (runIds.length === 0) return { hourKeys: 0, periodKeys: 0 };
  const k = keySql(database, runIds);
  const [row] = await select<{ h: string; p: string }>(
    client,
    `SELECT (SELECT count() FROM (${k.hours})) AS h, (SELECT count() FROM (${k.periods})) AS p`,
    'counting the rollup keys to rebuild',
  );
  return { hourKeys: Number(row?.h ?? 0), periodKeys: Number(row?.p ?? 0) };
}

/** Deletes and re-aggregates the usage_hourly and customer_period_cost keys of the runs' logged changes. */
export async function rebuildRollups(
  client: ClickHouseClient,
  database: string,
  runIds: readonly string[],
  /** Unique per rebuild, e.g. `<run id>:<attempt>`. */
  rebuildId: string,
): Promise<void> {
  if (runIds.length === 0) return;
  const k = keySql(database, runIds);
  const db = database;
  await exec(
    client,
    `ALTER TABLE ${db}.usage_hourly DELETE WHERE (hour, customer_id) IN (${k.hours}) SETTINGS mutations_sync = 2`,
    `deleting re-priced keys from ${db}.usage_hourly`,
  );
  // A rebuilt block can be byte-identical to one inserted earlier (prices changed and changed back),
  // and the rollups' deduplication window would silently drop it. A token unique to this rebuild
  // prevents that on every server version (insert_deduplicate = 0 does not cover INSERT … SELECT
  // under ClickHouse 26's deduplicate_insert_select modes, and older servers reject those settings).
  const token = (table: string) => `'reprice:${rebuildId.replace(/[^A-Za-z0-9:_-]/g, '')}:${table}'`;
  await exec(
    client,
    `INSERT INTO ${db}.usage_hourly SETTINGS insert_deduplication_token = ${token('usage_hourly')}
     SELECT ${HOURLY_SELECT} FROM ${db}.usage_events WHERE ${k.hourFacts} GROUP BY ${HOURLY_GROUP}`,
    `rebuilding ${db}.usage_hourly`,
  );
  await exec(
    client,
    `ALTER TABLE ${db}.customer_period_cost DELETE WHERE (billing_period_start, customer_id) IN (${k.periods})
     SETTINGS mutations_sync = 2`,
    `deleting re-priced keys from ${db}.customer_period_cost`,
  );
  await exec(
    client,
    `INSERT INTO ${db}.customer_period_cost SETTINGS insert_deduplication_token = ${token('customer_period_cost')}
     SELECT ${PERIOD_SELECT} FROM ${db}.usage_events WHERE ${k.periodFacts} GROUP BY billing_period_start, customer_id`,
    `rebuilding ${db}.customer_period_cost`,
  );
}

/** Rows of the rollup and of the facts' aggregate, joined on the rollup's key, where a sum differs. */
export function mismatchRows(rollup: string, facts: string, group: string, sums: string[]): string {
  const rollupSums = sums.map((s) => `sum(${s}) AS ${s}`).join(', ');
  const differs = sums.map((s) => `r.${s} != f.${s}`).join(' OR ');
  return `SELECT ${group} FROM (SELECT ${group}, ${rollupSums} FROM ${rollup} GROUP BY ${group}) AS r
    FULL OUTER JOIN (${facts}) AS f USING (${group}) WHERE ${differs}`;
}

function mismatchSql(rollup: string, facts: string, group: string, sums: string[]): string {
  return `SELECT count() FROM (${mismatchRows(rollup, facts, group, sums)})`;
}

/**
 * Counts rollup keys of the runs that disagree with the facts. Nonzero only when something wrote to
 * the same keys while they were rebuilt (see docs/repricing.md, "Concurrent writes").
 */
export async function countRollupMismatches(
  client: ClickHouseClient,
  database: string,
  runIds: readonly string[],
): Promise<number> {
  if (runIds.length === 0) return 0;
  const k = keySql(database, runIds);
  const db = database;
  const hourly = mismatchSql(
    `${db}.usage_hourly WHERE (hour, customer_id) IN (${k.hours})`,
    `SELECT ${HOURLY_SELECT} FROM ${db}.usage_events WHERE ${k.hourFacts} GROUP BY ${HOURLY_GROUP}`,
    HOURLY_GROUP,
    HOURLY_SUMS,
  );
  const periods = mismatchSql(
    `${db}.customer_period_cost WHERE (billing_period_start, customer_id) IN (${k.periods})`,
    `SELECT ${PERIOD_SELECT} FROM ${db}.usage_events WHERE ${k.periodFacts} GROUP BY billing_period_start, customer_id`,
    'billing_period_start, customer_id',
    PERIOD_SUMS,
  );
  const [row] = await select<{ n: string }>(
    client,
    `SELECT (${hourly}) + (${periods}) AS n`,
    'verifying the rebuilt rollups',
  );
  return Number(row?.n ?? 0);
}
