import type { ClickHouseClient } from '@clickhouse/client';
import {
  HOURLY_GROUP,
  HOURLY_SELECT,
  HOURLY_SUMS,
  mismatchRows,
  PERIOD_SELECT,
  PERIOD_SUMS,
} from '../reprice/rollups.js';
import { exec, select } from '../reprice/sql.js';
import { quote } from './client.js';

/**
 * ClickHouse writes an insert's facts and each materialized view's rollup rows as separate parts.
 * If the engine's process dies in the middle, the facts can be stored while a rollup missed them,
 * and the ledger's replay then (rightly) does not store those facts again: the rollup stays short.
 * This finds the rollup keys that disagree with the facts among the facts written shortly before
 * the newest part of `usage_events` (the inserts a crash can have cut), and rebuilds exactly those
 * keys from the facts. Run before anything writes (the embedded engine runs it at start-up after an
 * unclean stop; `burnrate rollups repair` runs it against a server).
 */
export interface RollupRepair {
  /** Keys found wrong and rebuilt: (hour, customer) of usage_hourly, (period, customer) of customer_period_cost. */
  hourKeys: number;
  periodKeys: number;
}

export async function repairRollups(
  client: ClickHouseClient,
  database: string,
  options: { windowMinutes?: number; rebuildId: string },
): Promise<RollupRepair> {
  const db = database;
  const window = Math.max(1, Math.floor(options.windowMinutes ?? 60));
  // Facts in parts written within the window before the newest one (merges only widen the set).
  const recent = `${db}.usage_events WHERE _part IN (
      SELECT name FROM system.parts
      WHERE database = '${db}' AND table = 'usage_events' AND active
        AND modification_time >= (
          SELECT max(modification_time) FROM system.parts
          WHERE database = '${db}' AND table = 'usage_events' AND active
        ) - INTERVAL ${window} MINUTE)`;
  const hourOf = 'toStartOfHour(occurred_at)';
  const hourKeys = await select<{ hour: string; customer_id: string }>(
    client,
    `SELECT DISTINCT toString(hour) AS hour, customer_id FROM (
       ${mismatchRows(
         `${db}.usage_hourly WHERE (hour, customer_id) IN (SELECT DISTINCT ${hourOf}, customer_id FROM ${recent})`,
         `SELECT ${HOURLY_SELECT} FROM ${db}.usage_events
          WHERE (${hourOf}, customer_id) IN (SELECT DISTINCT ${hourOf}, customer_id FROM ${recent})
          GROUP BY ${HOURLY_GROUP}`,
         HOURLY_GROUP,
         HOURLY_SUMS,
       )})`,
    'comparing usage_hourly with the facts',
  );
  const periodKeys = await select<{ billing_period_start: string; customer_id: string }>(
    client,
    `SELECT DISTINCT toString(billing_period_start) AS billing_period_start, customer_id FROM (
       ${mismatchRows(
         `${db}.customer_period_cost WHERE (billing_period_start, customer_id) IN (SELECT DISTINCT billing_period_start, customer_id FROM ${recent})`,
         `SELECT ${PERIOD_SELECT} FROM ${db}.usage_events
          WHERE (billing_period_start, customer_id) IN (SELECT DISTINCT billing_period_start, customer_id FROM ${recent})
          GROUP BY billing_period_start, customer_id`,
         'billing_period_start, customer_id',
         PERIOD_SUMS,
       )})`,
    'comparing customer_period_cost with the facts',
  );
  // Rebuilt blocks can repeat earlier ones byte for byte: a token per repair keeps them from being deduplicated away.
  const token = (table: string) => `'repair:${options.rebuildId.replace(/[^A-Za-z0-9:_-]/g, '')}:${table}'`;
  if (hourKeys.length > 0) {
    const keys = `(${hourKeys.map((k) => `(toDateTime(${quote(k.hour)}, 'UTC'), ${quote(k.customer_id)})`).join(', ')})`;
    await exec(
      client,
      `ALTER TABLE ${db}.usage_hourly DELETE WHERE (hour, customer_id) IN ${keys} SETTINGS mutations_sync = 2`,
      `deleting ${hourKeys.length} wrong keys from ${db}.usage_hourly`,
    );
    await exec(
      client,
      `INSERT INTO ${db}.usage_hourly SETTINGS insert_deduplication_token = ${token('usage_hourly')}
       SELECT ${HOURLY_SELECT} FROM ${db}.usage_events WHERE (${hourOf}, customer_id) IN ${keys} GROUP BY ${HOURLY_GROUP}`,
      `rebuilding ${hourKeys.length} keys of ${db}.usage_hourly`,
    );
  }
  if (periodKeys.length > 0) {
    const keys = `(${periodKeys.map((k) => `(toDate(${quote(k.billing_period_start)}), ${quote(k.customer_id)})`).join(', ')})`;
    await exec(
      client,
      `ALTER TABLE ${db}.customer_period_cost DELETE WHERE (billing_period_start, customer_id) IN ${keys} SETTINGS mutations_sync = 2`,
      `deleting ${periodKeys.length} wrong keys from ${db}.customer_period_cost`,
    );
    await exec(
      client,
      `INSERT INTO ${db}.customer_period_cost SETTINGS insert_deduplication_token = ${token('customer_period_cost')}
       SELECT ${PERIOD_SELECT} FROM ${db}.usage_events WHERE (billing_period_start, customer_id) IN ${keys}
       GROUP BY billing_period_start, customer_id`,
      `rebuilding ${periodKeys.length} keys of ${db}.customer_period_cost`,
    );
  }
  return { hourKeys: hourKeys.length, periodKeys: periodKeys.length };
}
