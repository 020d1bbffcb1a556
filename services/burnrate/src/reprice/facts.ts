import type { ClickHouseClient } from '@clickhouse/client';
import type { FactFilter } from './options.js';
import { COST_COLUMNS, type FactRow } from './price-fact.js';
import { factCondition, select } from './sql.js';

/**
 * The columns FactRow holds. JSON already carries UUID, Date and 64-bit integers as exact text; only
 * occurred_at is converted, under a new name, because an alias named like a column would shadow the
 * column in WHERE and ORDER BY.
 */
const FACT_COLUMNS = [
  'event_id',
  'toUnixTimestamp64Milli(occurred_at) AS occurred_at_ms',
  'billing_period_start',
  'customer_id',
  'unmapped',
  'provider',
  'model',
  'tokens_input',
  'tokens_cached_input',
  'tokens_cache_write',
  'tokens_output',
  'tokens_reasoning',
  'requests',
  'units_images',
  'units_audio_ms',
  'units_web_search_calls',
  ...COST_COLUMNS,
  'price_version',
  'unpriced',
  'byok',
].join(', ');

export async function countFacts(
  client: ClickHouseClient,
  database: string,
  filter: FactFilter,
): Promise<number> {
  const where = factCondition(filter);
  const [row] = await select<{ n: string }>(
    client,
    `SELECT count() AS n FROM ${database}.usage_events WHERE ${where.sql}`,
    'counting the facts to re-price',
    where.params,
  );
  return Number(row?.n ?? 0);
}

/**
 * Reads the matching facts in chunks, in the table's sort order (customer_id, occurred_at, event_id).
 * Keyset pagination — "after the last key seen" rather than OFFSET — keeps each chunk a short
 * read-in-order from the primary index, and stays correct while the run mutates the cost columns of
 * rows already read, because none of the key columns ever changes.
 */
export async function* scanFacts(
  client: ClickHouseClient,
  database: string,
  filter: FactFilter,
  chunkRows: number,
): AsyncGenerator<FactRow[]> {
  const where = factCondition(filter);
  let after: FactRow | undefined;
  for (;;) {
    const keyset = after
      ? " AND (customer_id, occurred_at, event_id) > ({after_customer:String}, fromUnixTimestamp64Milli({after_ms:Int64}, 'UTC'), {after_event:UUID})"
      : '';
    const params = after
      ? {
          ...where.params,
          after_customer: after.customer_id,
          after_ms: String(after.occurred_at_ms),
          after_event: after.event_id,
        }
      : where.params;
    const rows = await select<FactRow>(
      client,
      `SELECT ${FACT_COLUMNS} FROM ${database}.usage_events WHERE ${where.sql}${keyset}
       ORDER BY customer_id, occurred_at, event_id LIMIT ${chunkRows}`,
      'reading facts to re-price',
      params,
    );
    if (rows.length > 0) yield rows;
    if (rows.length < chunkRows) return;
    after = rows[rows.length - 1];
  }
}
