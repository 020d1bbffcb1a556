import { formatClauses, leadingKeyword } from './sql-scan.js';

/**
 * Formats whose chunks concatenate into one valid output. chDB's streaming API formats every chunk
 * on its own — header, footer and all — so anything else (JSON, Pretty, Parquet, the *WithNames
 * variants…) is buffered whole. Each name here was checked chunk-by-chunk against the one-shot
 * output of the same query.
 */
const STREAMABLE = new Set(
  [
    'TabSeparated',
    'TSV',
    'TabSeparatedRaw',
    'TSVRaw',
    'Raw',
    'CSV',
    'JSONEachRow',
    'JSONLines',
    'NDJSON',
    'JSONStringsEachRow',
    'JSONCompactEachRow',
    'JSONCompactStringsEachRow',
    'BSONEachRow',
    'RowBinary',
    'Native',
    'TSKV',
    'CustomSeparated',
    'MsgPack',
    'RawBLOB',
    'Null',
  ].map((name) => name.toLowerCase()),
);

/** Statements chDB can stream (its streaming API refuses SHOW, DESCRIBE, INSERT, DDL…). */
const STREAMING_KEYWORDS = new Set(['SELECT', 'WITH', 'FROM', '(']);

/** Statements whose FORMAT clause names the output (an INSERT's names its input). */
const OUTPUT_KEYWORDS = new Set([
  ...STREAMING_KEYWORDS,
  'SHOW',
  'DESCRIBE',
  'DESC',
  'EXPLAIN',
  'EXISTS',
  'CHECK',
]);

export interface OutputPlan {
  /** The format the response is in, for Content-Type and X-ClickHouse-Format. */
  format: string;
  /** Whether chunks may be sent as the engine produces them. */
  stream: boolean;
}

/**
 * Works out the response format as ClickHouse does — the query's FORMAT clause, else the default
 * format, else TabSeparated — and whether it can be streamed. `knownFormats` maps lower-case names
 * to the engine's spelling, so a column named `format` is not mistaken for a clause.
 */
export function planOutput(
  sql: string,
  defaultFormat: string | undefined,
  knownFormats: ReadonlyMap<string, string>,
): OutputPlan {
  const keyword = leadingKeyword(sql);
  const clauses = OUTPUT_KEYWORDS.has(keyword)
    ? formatClauses(sql).filter((name) => knownFormats.has(name.toLowerCase()))
    : [];
  const named = clauses.at(-1) ?? defaultFormat ?? 'TabSeparated';
  const format = knownFormats.get(named.toLowerCase()) ?? named;
  const stream =
    STREAMING_KEYWORDS.has(keyword) &&
    STREAMABLE.has(format.toLowerCase()) &&
    clauses.every((name) => STREAMABLE.has(name.toLowerCase()));
  return { format, stream };
}

/** The Content-Type ClickHouse sends for an output format. */
export function contentTypeOf(format: string): string {
  const name = format.toLowerCase();
  if (name.startsWith('tabseparated') || name.startsWith('tsv'))
    return 'text/tab-separated-values; charset=UTF-8';
  if (name === 'csv') return 'text/csv; charset=UTF-8; header=absent';
  if (name.startsWith('csv')) return 'text/csv; charset=UTF-8; header=present';
  if (/^(json(strings|compact(strings)?)?eachrow|jsonlines|ndjson)$/.test(name)) {
    return 'application/x-ndjson; charset=UTF-8';
  }
  if (name.startsWith('json')) return 'application/json; charset=UTF-8';
  if (name === 'xml') return 'application/xml; charset=UTF-8';
  if (name === 'markdown') return 'text/markdown; charset=UTF-8';
  if (BINARY.test(name)) return 'application/octet-stream';
  return 'text/plain; charset=UTF-8';
}

const BINARY =
  /^(rowbinary.*|native|parquet|arrow|arrowstream|orc|avro|msgpack|protobuf.*|rawblob|npy|bsoneachrow|capnproto|buffers)$/;
