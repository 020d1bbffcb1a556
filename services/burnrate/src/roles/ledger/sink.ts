import { randomUUID } from 'node:crypto';
import type { BurnrateError } from '@burnrate/core';
import type { ClickHouseClient } from '@clickhouse/client';
import { quote } from '../../clickhouse/client.js';
import { classifyClickHouseError } from '../../clickhouse/errors.js';

export interface SinkRow {
  /** Where the row was consumed from (the ledger's own position, also in the row's last columns). */
  topic: string;
  partition: number;
  offset: bigint;
  /** The row's index within its Kafka message (rows are packed many to a message). */
  row: number;
  /** One JSONCompactEachRow line (no trailing newline). */
  json: string;
}

/**
 * Inserts JSONCompactEachRow lines as one INSERT. The data travels inline after the FORMAT clause, which
 * a ClickHouse server and chDB both accept. A string `token` makes a retried insert of the same rows a
 * no-op (insert_deduplication_token + the table's non_replicated_deduplication_window); `false`
 * defeats ClickHouse's block deduplication entirely with a never-repeating token (the negative-
 * control tests only: `insert_deduplicate = 0` is not honoured by chDB 26, which still drops an
 * identical block by its hash).
 */
export async function insertRows(
  clickhouse: ClickHouseClient,
  table: string,
  columns: readonly string[],
  rows: SinkRow[],
  token: string | false | undefined,
): Promise<void> {
  if (rows.length === 0) return;
  let body = '';
  for (const row of rows) body += `${row.json}\n`;
  try {
    // The token goes in the statement, never in the client's settings: chDB applies client settings
    // with a session-level SET, so a token would stick to later, different inserts and drop them.
    const settings =
      token === undefined
        ? ''
        : token === false
          ? ` SETTINGS insert_deduplication_token = '${randomUUID()}'`
          : ` SETTINGS insert_deduplication_token = ${quote(token)}`;
    await clickhouse.command({
      query: `INSERT INTO ${table} (${columns.join(', ')})${settings} FORMAT JSONCompactEachRow\n${body}`,
    });
  } catch (error) {
    throw classifyClickHouseError(error, `an insert of ${rows.length} rows into ${table}`);
  }
}

/**
 * Finds the rows ClickHouse refuses by bisection, so one bad row costs one dead letter instead of
 * stopping its partition. Returns the rows that could not be stored, with the reason.
 */
export async function insertOrIsolate(
  clickhouse: ClickHouseClient,
  table: string,
  columns: readonly string[],
  rows: SinkRow[],
  tokenFor: (rows: SinkRow[]) => string | false | undefined,
): Promise<Array<{ row: SinkRow; error: BurnrateError }>> {
  try {
    await insertRows(clickhouse, table, columns, rows, tokenFor(rows));
    return [];
  } catch (error) {
    const e = classifyClickHouseError(error, `an insert into ${table}`);
    // Only "these rows are wrong" is worth bisecting; an outage or a refusal applies to every row.
    if (e.code !== 'clickhouse_rejected_rows') throw e;
    if (rows.length === 1) return [{ row: rows[0]!, error: e }];
    const mid = rows.length >> 1;
    return [
      ...(await insertOrIsolate(clickhouse, table, columns, rows.slice(0, mid), tokenFor)),
      ...(await insertOrIsolate(clickhouse, table, columns, rows.slice(mid), tokenFor)),
    ];
  }
}
