import type { EnrichedEvent } from '@burnrate/core';
import type { ClickHouseClient } from '@clickhouse/client';
import { DEAD_LETTER_COLUMNS, FACT_COLUMNS } from '../facts/columns.js';

/**
 * Reading back what the ledger stored, and comparing a stored fact with the row the pure domain
 * functions say it must be. Every column ClickHouse keeps is compared, after the one conversion each
 * type needs (64-bit integers come back as text, Float32 is rounded, null strings are stored empty).
 */
const STRINGS_STORED_EMPTY = new Set([
  'user_ref',
  'workflow',
  'workflow_run_id',
  'step_id',
  'parent_step_id',
  'feature',
]);
const TIMES = new Set(['occurred_at', 'ingested_at']);

export type StoredFact = Record<string, unknown>;

/** Every column, with DateTime64 as epoch ms and UUID as text. */
const SELECT = FACT_COLUMNS.map((c) =>
  TIMES.has(c)
    ? `toUnixTimestamp64Milli(${c}) AS ${c}`
    : c === 'event_id'
      ? 'toString(event_id) AS event_id'
      : c,
).join(', ');

async function rows<T>(ch: ClickHouseClient, query: string, params: Record<string, unknown>): Promise<T[]> {
  const rs = await ch.query({ query, query_params: params, format: 'JSONEachRow' });
  return rs.json<T>();
}

export async function storedFacts(
  ch: ClickHouseClient,
  database: string,
  topic: string,
): Promise<StoredFact[]> {
  return rows(ch, `SELECT ${SELECT} FROM ${database}.usage_events WHERE source_topic = {topic:String}`, {
    topic,
  });
}

export interface StoredLetter {
  /** Epoch ms: the Kafka timestamp of the record the letter stands for. */
  received_at: number;
  reason: string;
  field: string;
  message: string;
  source_topic: string;
  source_partition: number;
  source_offset: string;
  payload_base64: string;
}

/** Dead letters of records from `topics` (the enricher's, and the ledger's sink_rejected ones). */
export async function storedLetters(
  ch: ClickHouseClient,
  database: string,
  topics: string[],
): Promise<StoredLetter[]> {
  const columns = DEAD_LETTER_COLUMNS.filter((c) => c !== 'key')
    .map((c) => (c === 'received_at' ? 'toUnixTimestamp64Milli(received_at) AS received_at' : c))
    .join(', ');
  return rows(
    ch,
    `SELECT ${columns} FROM ${database}.dead_letters WHERE source_topic IN {topics:Array(String)}`,
    {
      topics,
    },
  );
}

export async function countStored(ch: ClickHouseClient, database: string, topics: string[]): Promise<number> {
  const [r] = await rows<{ n: string }>(
    ch,
    `SELECT (SELECT count() FROM ${database}.usage_events WHERE source_topic IN {topics:Array(String)}) + (SELECT count() FROM ${database}.dead_letters WHERE source_topic IN {topics:Array(String)}) AS n`,
    { topics },
  );
  return Number(r!.n);
}

/** The input position a sink_rejected letter stands for: its payload is the fact row the ledger refused. */
export function rejectedPosition(letter: StoredLetter): { partition: number; offset: string } | null {
  try {
    const row = JSON.parse(Buffer.from(letter.payload_base64, 'base64').toString('utf8')) as unknown[];
    const partition = row[FACT_COLUMNS.indexOf('source_partition')];
    const offset = row[FACT_COLUMNS.indexOf('source_offset')];
    return { partition: Number(partition), offset: String(offset) };
  } catch {
    return null;
  }
}

function normalize(column: string, value: unknown): string {
  if (value === null || value === undefined) return STRINGS_STORED_EMPTY.has(column) ? '' : 'null';
  if (column === 'quality_score') return String(Math.fround(Number(value)));
  if (column === 'tags') {
    const entries = Object.entries(value as Record<string, string>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return JSON.stringify(entries);
  }
  return String(value);
}

/** The first column where the stored fact differs from the expected row, or null. */
export function factDifference(
  expected: EnrichedEvent,
  stored: StoredFact,
  skip: ReadonlySet<string> = new Set(),
): string | null {
  for (const column of FACT_COLUMNS) {
    if (skip.has(column)) continue;
    const want = normalize(column, (expected as unknown as Record<string, unknown>)[column]);
    const got = normalize(column, stored[column]);
    if (want !== got) return `${column}: stored ${clip(got)}, expected ${clip(want)}`;
  }
  return null;
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}
