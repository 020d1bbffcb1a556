import { ENRICHED_EVENT_COLUMNS } from '@burnrate/core';

/**
 * The column order of the rows on usage.enriched and usage.dlq. Rows travel as JSON arrays
 * (ClickHouse JSONCompactEachRow) in exactly this order: about half the bytes of keyed JSON objects,
 * for Kafka and for ClickHouse's parser alike. The ledger appends the KAFKA_POSITION_COLUMNS.
 */
export const FACT_COLUMNS = ENRICHED_EVENT_COLUMNS;

export const DEAD_LETTER_COLUMNS = [
  'received_at',
  'reason',
  'field',
  'message',
  'source_topic',
  'source_partition',
  'source_offset',
  'key',
  'payload_base64',
] as const;

/** Where the ledger consumed a row: topic, partition, message offset, and the row's index in the message. */
export const KAFKA_POSITION_COLUMNS = [
  'kafka_topic',
  'kafka_partition',
  'kafka_offset',
  'kafka_row',
] as const;

/** A row object → its JSON array text in `columns` order (missing values become null). */
export function compactRow(columns: readonly string[], row: Record<string, unknown>): string {
  const values = new Array(columns.length);
  for (let i = 0; i < columns.length; i++) values[i] = row[columns[i]!] ?? null;
  return JSON.stringify(values);
}

/** The inverse, for tests and tools: JSON array text → object keyed by column. */
export function expandRow(columns: readonly string[], text: string): Record<string, unknown> {
  const values = JSON.parse(text) as unknown[];
  return Object.fromEntries(columns.map((c, i) => [c, values[i]]));
}
