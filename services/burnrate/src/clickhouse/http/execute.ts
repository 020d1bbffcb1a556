import type { RawInsertFormat, Session, StreamChunk } from 'chdb';
import type { HttpUser } from './auth.js';
import { ClickHouseException, CODES } from './errors.js';
import type { QueryRequest } from './request.js';
import { identifier, stringLiteral } from './sql-scan.js';

/**
 * Without these, 64- and 128-bit integers and decimals (money sums) come back from JSON formats
 * as numbers JavaScript clients round. A ClickHouse server quotes 64-bit integers by default; chDB
 * does not. The caller can still turn either off.
 */
const DEFAULT_SETTINGS: ReadonlyArray<[string, string]> = [
  ['output_format_json_quote_64bit_integers', '1'],
  ['output_format_json_quote_decimals', '1'],
];

/**
 * The statements that give a session this request's context: its database, settings, query
 * parameters and readonly level. readonly goes last so the caller's own settings still apply, as
 * URL settings do on a ClickHouse server; a GET is readonly=2 there, a read-only user 1.
 *
 * A fresh session (every session-less request, and the first request of a `session_id`) also gets
 * the server's defaults and its database. A session's later requests change only what they name,
 * so its own SET and USE carry over; setting a value it already has is allowed even at readonly=1,
 * and changing one there is refused by the engine, as on a server.
 */
export function sessionSetup(request: QueryRequest, user: HttpUser, method: string, fresh = true): string {
  const settings = new Map(fresh ? DEFAULT_SETTINGS : []);
  for (const [name, value] of request.settings) {
    if (name === 'readonly') continue;
    if (user.readonly && name.startsWith('allow_')) {
      // allow_* settings unlock experimental features (such as eval(), which runs a query built at run time).
      throw new ClickHouseException(CODES.READONLY, `Cannot modify '${name}' setting in readonly mode`);
    }
    settings.set(name, value);
  }
  const readonly = strictest([
    user.readonly ? 1 : 0,
    method === 'POST' ? 0 : 2,
    Number(request.settings.get('readonly') ?? 0),
  ]);
  const assignments = [...settings].map(([name, value]) => `${name} = ${stringLiteral(value)}`);
  for (const [name, value] of request.params) assignments.push(`param_${name} = ${stringLiteral(value)}`);
  if (readonly !== 0) assignments.push(`readonly = ${readonly}`);
  const statements = assignments.length > 0 ? [`SET ${assignments.join(', ')}`] : [];
  const useDatabase = fresh ? request.database !== 'default' : request.databaseNamed;
  if (useDatabase) statements.unshift(`USE ${identifier(request.database)}`);
  return statements.join('; ');
}

/** 1 (reads only) is stricter than 2 (reads and settings), which is stricter than 0. */
function strictest(levels: number[]): number {
  if (levels.includes(1)) return 1;
  if (levels.includes(2)) return 2;
  return 0;
}

/** ClickHouse's X-ClickHouse-Summary: every counter as a decimal string. */
export interface Summary {
  read_rows: string;
  read_bytes: string;
  written_rows: string;
  written_bytes: string;
  total_rows_to_read: string;
  result_rows: string;
  result_bytes: string;
  elapsed_ns: string;
}

export function summaryOf(counts: Partial<Record<keyof Summary, number>>): Summary {
  const value = (key: keyof Summary) => String(Math.max(0, Math.round(counts[key] ?? 0)));
  return {
    read_rows: value('read_rows'),
    read_bytes: value('read_bytes'),
    written_rows: value('written_rows'),
    written_bytes: value('written_bytes'),
    total_rows_to_read: value('total_rows_to_read'),
    result_rows: value('result_rows'),
    result_bytes: value('result_bytes'),
    elapsed_ns: value('elapsed_ns'),
  };
}

export type Outcome =
  | { kind: 'buffered'; body: Buffer; summary: Summary }
  | { kind: 'stream'; first: Buffer | undefined; rest: AsyncIterator<StreamChunk>; cancel(): void };

/**
 * Runs a query that produces output. Streams start only once the first chunk is in hand, so an
 * error found while planning or reading the first block still reaches the client as a status.
 */
export async function runQuery(
  session: Session,
  sql: string,
  format: string,
  stream: boolean,
): Promise<Outcome> {
  if (!stream) {
    const result = await session.queryAsync(sql, { format });
    const body = toBuffer(result.bytes());
    return {
      kind: 'buffered',
      body,
      summary: summaryOf({
        read_rows: result.rowsRead,
        read_bytes: result.bytesRead,
        result_bytes: body.length,
        elapsed_ns: result.elapsed * 1e9,
      }),
    };
  }
  const chunks = session.queryStream(sql, { format });
  const iterator = chunks[Symbol.asyncIterator]();
  const first = await iterator.next();
  return {
    kind: 'stream',
    first: first.done ? undefined : toBuffer(first.value.raw()),
    rest: iterator,
    cancel: () => chunks.cancel(),
  };
}

export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export interface SimpleInsert {
  table: string;
  columns: string[] | undefined;
  format: RawInsertFormat;
}

const RAW_FORMATS = new Map<string, RawInsertFormat>(
  (
    [
      'JSONEachRow',
      'JSONCompactEachRow',
      'CSV',
      'CSVWithNames',
      'TSV',
      'TabSeparated',
      'TSVWithNames',
      'TabSeparatedWithNames',
    ] as const
  ).map((name) => [name.toLowerCase(), name]),
);

const SIMPLE_INSERT =
  /^\s*INSERT\s+INTO\s+(?:TABLE\s+)?(?!FUNCTION\b)([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)?)\s*(?:\(\s*([A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*)\s*\))?\s*FORMAT\s+([A-Za-z]+)\s*$/i;

/**
 * `INSERT INTO t [(a, b)] FORMAT <text format>` with the rows in the body — what @clickhouse/client
 * sends — goes through chDB's raw insert: the body is handed to the engine as bytes, never turned
 * into a JavaScript string, and the engine reports how many rows it wrote.
 */
export function parseSimpleInsert(query: string): SimpleInsert | undefined {
  const match = SIMPLE_INSERT.exec(query);
  const format = match && RAW_FORMATS.get(match[3]!.toLowerCase());
  if (!match || !format) return undefined;
  return { table: match[1]!, columns: match[2]?.split(',').map((column) => column.trim()), format };
}

export async function runInsert(session: Session, insert: SimpleInsert, body: Buffer): Promise<Summary> {
  const result = await session.insert({
    table: insert.table,
    values: body,
    format: insert.format,
    ...(insert.columns ? { columns: insert.columns } : {}),
  });
  return summaryOf({
    read_rows: result.rowsWritten,
    read_bytes: result.bytesWritten,
    written_rows: result.rowsWritten,
    written_bytes: result.bytesWritten,
    elapsed_ns: result.elapsed * 1e9,
  });
}
