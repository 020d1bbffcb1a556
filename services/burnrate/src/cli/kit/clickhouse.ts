import { BurnrateError, ConfigError } from '@burnrate/core';
import { ClickHouseLogLevel, createClient } from '@clickhouse/client';
import {
  CLICKHOUSE_SETTINGS,
  type ClickHouseClient,
  type ClickHouseTarget,
  createClickHouseClient,
} from '../../clickhouse/client.js';
import { classifyClickHouseError } from '../../clickhouse/errors.js';
import type { Config } from '../../config/load.js';
import { clickHouseTarget } from '../../runtime/app.js';
import { httpUrl } from '../../runtime/http-url.js';

/** ClickHouse as a read command sees it: parameterized queries, failures as one sentence. */
export interface ReadDb {
  /** The database name from CLICKHOUSE_DATABASE (a plain identifier, checked by the config). */
  database: string;
  client: ClickHouseClient;
  /** Rows of `query`; values only ever reach it as `{name:Type}` parameters. */
  rows<T>(query: string, params: Record<string, unknown>, what: string): Promise<T[]>;
  close(): Promise<void>;
}

/** The setting to fix when ClickHouse cannot be reached where `target` points. */
function settingFor(target: ClickHouseTarget, urlGiven: boolean): string {
  if (target.kind === 'embedded') return 'BURNRATE_DATA_DIR';
  return urlGiven ? 'CLICKHOUSE_URL' : 'CLICKHOUSE_HTTP_HOST and CLICKHOUSE_HTTP_PORT';
}

/** A ClickHouse client for reading; chDB's directory may be owned by a running burnrate. */
function readClient(target: ClickHouseTarget, requestTimeoutMs = 60_000): ClickHouseClient {
  if (target.kind === 'server') {
    // As createClickHouseClient makes it, but silent: the one sentence printed on failure says it
    // all, and the client's own error log would repeat it with a stack trace on the terminal.
    return createClient({
      url: target.url,
      username: target.username,
      password: target.password,
      clickhouse_settings: { ...CLICKHOUSE_SETTINGS },
      request_timeout: requestTimeoutMs,
      log: { level: ClickHouseLogLevel.OFF },
    });
  }
  try {
    return createClickHouseClient(target, { requestTimeoutMs });
  } catch (error) {
    throw new ConfigError(
      'BURNRATE_DATA_DIR',
      `The embedded ClickHouse in ${target.path} cannot be opened (${(error as Error).message.split('\n')[0]}); ` +
        'if a running burnrate owns it, set CLICKHOUSE_URL (or BURNRATE_ROLES without clickhouse) to go through its HTTP interface.',
    );
  }
}

/**
 * Where a read command finds ClickHouse: CLICKHOUSE_URL when set; otherwise, when a running burnrate
 * serves the HTTP interface at CLICKHOUSE_HTTP_HOST:PORT (it owns the chDB directory then), that, as
 * the read-only analyst user; otherwise the embedded chDB in BURNRATE_DATA_DIR.
 */
export async function readTarget(config: Config): Promise<ClickHouseTarget> {
  const target = clickHouseTarget(config);
  if (target.kind === 'server') return target;
  const url = httpUrl(config.CLICKHOUSE_HTTP_HOST, config.CLICKHOUSE_HTTP_PORT);
  try {
    const ping = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(500) });
    await ping.body?.cancel();
    if (ping.ok) {
      return {
        kind: 'server',
        url,
        username: config.CLICKHOUSE_ANALYST_USER,
        password: config.CLICKHOUSE_ANALYST_PASSWORD,
      };
    }
  } catch {
    // Nothing serves it: this process opens the data directory itself.
  }
  return target;
}

/**
 * The one opener for commands that only read (every read command, `export focus`, `prices diff`):
 * never migrates, and works while `burnrate run` owns chDB. `requestTimeoutMs` for long exports.
 */
export async function openReadDb(
  config: Config,
  options: { requestTimeoutMs?: number } = {},
): Promise<ReadDb> {
  const target = await readTarget(config);
  const client = readClient(target, options.requestTimeoutMs);
  return {
    database: config.CLICKHOUSE_DATABASE,
    client,
    async rows<T>(query: string, params: Record<string, unknown>, what: string): Promise<T[]> {
      try {
        const rs = await client.query({ query, query_params: params, format: 'JSONEachRow' });
        return await rs.json<T>();
      } catch (error) {
        const e = classifyClickHouseError(error, what);
        if (e.code !== 'clickhouse_unavailable') throw e;
        const setting = settingFor(target, config.CLICKHOUSE_URL !== undefined);
        // Still retriable (exit 1: the same command may work once ClickHouse is up), one sentence.
        throw new BurnrateError(
          e.code,
          `${e.message.replace(/\.$/, '')}; check that ClickHouse is up or fix ${setting}.`,
          { retriable: true, field: setting, cause: error },
        );
      }
    },
    close: () => client.close(),
  };
}

/** Runs `body` with a ReadDb and closes it afterwards, whatever happens. */
export async function withReadDb<T>(config: Config, body: (db: ReadDb) => Promise<T>): Promise<T> {
  const db = await openReadDb(config);
  try {
    return await body(db);
  } finally {
    await db.close();
  }
}

/** The half-open period as query parameters: `{from:Int64}`, `{to:Int64}` epoch milliseconds. */
export const PERIOD_WHERE =
  "occurred_at >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND occurred_at < fromUnixTimestamp64Milli({to:Int64}, 'UTC')";
