import { randomUUID } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Session } from 'chdb';
import { type Summary, summaryOf } from './execute.js';
import { stringLiteral } from './sql-scan.js';

/**
 * Binary INSERT bodies — RowBinary (what the JDBC driver and clickhouse-connect send), Native,
 * Parquet… chDB takes a query as a JavaScript string, which cannot carry arbitrary bytes, and its
 * raw insert accepts text formats only. The engine itself parses every one of these formats, so
 * the body is written to a private spool file and the engine reads it with
 * `INSERT INTO t [(cols)] FROM INFILE '<file>' FORMAT <format>`: the bytes reach the engine
 * unconverted and the engine checks them against the table, as a server does.
 */
const BINARY_FORMATS = new Map(
  [
    'RowBinary',
    'RowBinaryWithNames',
    'RowBinaryWithNamesAndTypes',
    'RowBinaryWithDefaults',
    'Native',
    'Parquet',
    'Arrow',
    'ArrowStream',
    'ORC',
    'Avro',
    'MsgPack',
    'BSONEachRow',
  ].map((name) => [name.toLowerCase(), name]),
);

/** A plain or backquoted identifier (the JDBC driver quotes every name). */
const NAME = '(?:[A-Za-z_]\\w*|`(?:[^`\\\\]|\\\\.)+`)';
const BINARY_INSERT = new RegExp(
  `^\\s*INSERT\\s+INTO\\s+(?:TABLE\\s+)?(?!FUNCTION\\b)(${NAME}(?:\\.${NAME})?)\\s*(\\(\\s*${NAME}(?:\\s*,\\s*${NAME})*\\s*\\))?\\s*FORMAT\\s+([A-Za-z]+)\\s*;?\\s*$`,
  'i',
);

export interface BinaryInsert {
  /** The table and column list as written: matched as identifiers, so safe to put back into SQL. */
  target: string;
  format: string;
}

export function parseBinaryInsert(query: string): BinaryInsert | undefined {
  const match = BINARY_INSERT.exec(query);
  const format = match && BINARY_FORMATS.get(match[3]!.toLowerCase());
  if (!match || !format) return undefined;
  return { target: `${match[1]}${match[2] ? ` ${match[2]}` : ''}`, format };
}

export async function runBinaryInsert(
  session: Session,
  insert: BinaryInsert,
  body: Buffer,
  spoolDir: string,
): Promise<Summary> {
  const file = join(spoolDir, `${randomUUID()}.${insert.format.toLowerCase()}`);
  await writeFile(file, body, { mode: 0o600, flag: 'wx' });
  try {
    const result = await session.queryAsync(
      `INSERT INTO ${insert.target} FROM INFILE ${stringLiteral(file)} FORMAT ${insert.format}`,
      { format: 'TabSeparated' },
    );
    return summaryOf({
      read_rows: result.rowsRead,
      read_bytes: body.length,
      written_rows: result.rowsRead,
      written_bytes: result.bytesRead,
      elapsed_ns: result.elapsed * 1e9,
    });
  } finally {
    await rm(file, { force: true });
  }
}
