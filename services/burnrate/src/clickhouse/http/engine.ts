import { BurnrateError } from '@burnrate/core';
import type { ClickHouseClient } from '@clickhouse/client';
import { Session } from 'chdb';

/** What the server needs to know about the engine, read once at start. */
export interface EngineInfo {
  version: string;
  timezone: string;
  /** ClickHouse exception names by code, from the engine's errorCodeToName(). */
  codeNames: Map<number, string>;
  /** Output format names as the engine spells them, keyed by lower-case name. */
  outputFormats: Map<string, string>;
}

export interface Engine {
  readonly info: EngineInfo;
  /**
   * A new session on the same data directory. Each request gets its own because a chDB session
   * keeps SET, USE and query parameters between calls — and readonly=1, once set, can never be
   * unset — so sharing one would leak one request's state into the next. Opening one costs < 1 ms.
   */
  openSession(): Session;
  close(): void;
}

/**
 * Opens a session of our own on `dataPath`: it keeps the engine loaded while the server runs, even
 * if the process's other clients close theirs, and reads the engine's version and vocabulary.
 */
export async function openEngine(dataPath: string): Promise<Engine> {
  let anchor: Session;
  try {
    anchor = new Session(dataPath);
  } catch (error) {
    throw new BurnrateError(
      'clickhouse_unavailable',
      `The ClickHouse HTTP server cannot open the chDB data directory ${dataPath}: ${(error as Error).message}`,
      { field: 'client', cause: error },
    );
  }
  try {
    const rows = async (sql: string) =>
      (await anchor.queryAsync(sql, { format: 'TabSeparatedRaw' }))
        .text()
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => line.split('\t'));
    const [[version = 'unknown', timezone = 'UTC'] = []] = await rows('SELECT version(), timezone()');
    const codes = await rows(
      "SELECT number, errorCodeToName(number) AS name FROM numbers(5000) WHERE name != ''",
    );
    const formats = await rows('SELECT name FROM system.formats WHERE is_output');
    const info: EngineInfo = {
      version,
      timezone,
      codeNames: new Map(codes.map(([code, name]) => [Number(code), name!])),
      outputFormats: new Map(formats.map(([name]) => [name!.toLowerCase(), name!])),
    };
    return {
      info,
      openSession: () => new Session(dataPath),
      close: () => anchor.close(),
    };
  } catch (error) {
    anchor.close();
    throw error;
  }
}

/**
 * The data directory behind a @clickhouse/client created over chDB (`createClient({ connection:
 * createChdbConnection({ path }) })`). The client keeps its connection private, so this reads it
 * from the instance and fails loudly if the client talks to a real server instead.
 */
export function chdbDataPathOf(client: ClickHouseClient): string {
  const connection = (client as unknown as { connection?: { chdb?: { session?: { path?: unknown } } } })
    .connection;
  const path = connection?.chdb?.session?.path;
  if (typeof path !== 'string' || path === '') {
    throw new BurnrateError(
      'invalid_config',
      'The ClickHouse HTTP server needs a client created over chDB (createChdbConnection); this one talks to a ClickHouse server, which already speaks HTTP.',
      { field: 'client' },
    );
  }
  return path;
}
