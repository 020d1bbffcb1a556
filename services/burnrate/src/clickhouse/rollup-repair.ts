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

/** A rollup: its key in the rollup and in the facts, and how the views aggregate it. */
interface Rollup {
  table: 'usage_hourly' | 'customer_period_cost';
  key: string;
  factKey: string;
  /** The key as two strings `a`, `b`, and back as a tuple literal. */
  keyOut: string;
  keyIn: (a: string, b: string) => string;
  select: string;
  group: string;
  sums: string[];
}

const ROLLUPS: Rollup[] = [
  {
    table: 'usage_hourly',
    key: 'hour, customer_id',
    factKey: 'toStartOfHour(occurred_at), customer_id',
    keyOut: 'toString(hour) AS a, customer_id AS b',
    keyIn: (a, b) => `(toDateTime(${a}, 'UTC'), ${b})`,
    select: HOURLY_SELECT,
    group: HOURLY_GROUP,
    sums: HOURLY_SUMS,
  },
  {
    table: 'customer_period_cost',
    key: 'billing_period_start, customer_id',
    factKey: 'billing_period_start, customer_id',
    keyOut: 'toString(billing_period_start) AS a, customer_id AS b',
    keyIn: (a, b) => `(toDate(${a}), ${b})`,
    select: PERIOD_SELECT,
    group: 'billing_period_start, customer_id',
    sums: PERIOD_SUMS,
  },
];

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
  // Rebuilt blocks can repeat earlier ones byte for byte: a token per repair keeps them from being deduplicated away.
  const token = (table: string) => `'repair:${options.rebuildId.replace(/[^A-Za-z0-9:_-]/g, '')}:${table}'`;
  const rebuilt: number[] = [];
  for (const r of ROLLUPS) {
    const touched = `(SELECT DISTINCT ${r.factKey} FROM ${recent})`;
    const wrong = await select<{ a: string; b: string }>(
      client,
      `SELECT DISTINCT ${r.keyOut} FROM (${mismatchRows(
        `${db}.${r.table} WHERE (${r.key}) IN ${touched}`,
        `SELECT ${r.select} FROM ${db}.usage_events WHERE (${r.factKey}) IN ${touched} GROUP BY ${r.group}`,
        r.group,
        r.sums,
      )})`,
      `comparing ${db}.${r.table} with the facts`,
    );
    rebuilt.push(wrong.length);
    if (wrong.length === 0) continue;
    const keys = `(${wrong.map((k) => r.keyIn(quote(k.a), quote(k.b))).join(', ')})`;
    await exec(
      client,
      `ALTER TABLE ${db}.${r.table} DELETE WHERE (${r.key}) IN ${keys} SETTINGS mutations_sync = 2`,
      `deleting ${wrong.length} wrong keys from ${db}.${r.table}`,
    );
    await exec(
      client,
      `INSERT INTO ${db}.${r.table} SETTINGS insert_deduplication_token = ${token(r.table)}
       SELECT ${r.select} FROM ${db}.usage_events WHERE (${r.factKey}) IN ${keys} GROUP BY ${r.group}`,
      `rebuilding ${wrong.length} keys of ${db}.${r.table}`,
    );
  }
  return { hourKeys: rebuilt[0]!, periodKeys: rebuilt[1]! };
}
