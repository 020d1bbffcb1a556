import { randomUUID } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { type ClickHouseClient, ClickHouseLogLevel, createClient } from '@clickhouse/client';

/** Settings every burnrate connection uses, so 64-bit money sums never come back as lossy numbers. */
export const CLICKHOUSE_SETTINGS = {
  output_format_json_quote_64bit_integers: 1,
  output_format_json_quote_decimals: 1,
  input_format_null_as_default: 1,
  deduplicate_blocks_in_dependent_materialized_views: 1,
} as const;

export type ClickHouseTarget =
  | { kind: 'server'; url: string; username: string; password: string }
  | { kind: 'embedded'; path: string };

/**
 * One @clickhouse/client for both modes: a real server over HTTP, or chDB in this process through
 * the client's `connection` hook. Callers cannot tell the difference.
 */
export function createClickHouseClient(
  target: ClickHouseTarget,
  options: { requestTimeoutMs?: number } = {},
) {
  const common = {
    clickhouse_settings: { ...CLICKHOUSE_SETTINGS },
    request_timeout: options.requestTimeoutMs ?? 60_000,
    // The client would print every failed request with a stack trace; burnrate classifies and logs
    // each failure once, where it is handled (clickhouse/errors.ts).
    log: { level: ClickHouseLogLevel.OFF },
  };
  if (target.kind === 'server') {
    return createClient({
      ...common,
      url: target.url,
      username: target.username,
      password: target.password,
      // The ledger's batches are large; keep connections warm rather than reconnecting per insert.
      keep_alive: { enabled: true },
    });
  }
  // Loaded only in embedded mode: the chDB engine costs ~150 MB of RSS the moment it is loaded, which
  // roles talking to a ClickHouse server (or to the embedded owner over HTTP) should not pay.
  const { createChdbConnection } = createRequire(import.meta.url)(
    'chdb/connection',
  ) as typeof import('chdb/connection');
  const connection = withSessionSettings(createChdbConnection({ path: target.path }), CLICKHOUSE_SETTINGS);
  // chdb types its connection against @clickhouse/client-common, which the client now bundles under
  // another path; the runtime interface is the same.
  type Connection = NonNullable<Parameters<typeof createClient>[0]>['connection'];
  const client = createClient({
    request_timeout: common.request_timeout,
    log: common.log,
    connection: connection as unknown as Connection,
  });
  embedded.set(client, { connection, spoolDir: resolve(target.path, 'insert-spool') });
  return client;
}

type ChdbConnection = ReturnType<typeof import('chdb/connection').createChdbConnection>;

/** Clients backed by chDB in this process, with a private directory for insertLines' spool files. */
const embedded = new WeakMap<
  ClickHouseClient,
  { connection: ChdbConnection; spoolDir: string; ready?: Promise<unknown> }
>();

/**
 * Inserts rows already in a text format from a Buffer. To a server the bytes are streamed as the
 * request body. In chDB they are written to a private spool file that the engine reads with
 * `INSERT … FROM INFILE`: measured by thread (scripts/bench-peer.ts), chDB's raw Buffer insert
 * spent ≈ 5 µs of CPU per fact row handing the bytes over, the spool file ≈ 0.3 — and a query
 * string would cost more. Settings travel with this statement only (`INSERT … SETTINGS … FORMAT`),
 * never as session state. Errors are the client's (or chDB's, with `code` set to the ClickHouse
 * code): classify them with classifyClickHouseError.
 */
export async function insertLines(
  client: ClickHouseClient,
  insert: {
    table: string;
    columns: readonly string[];
    format: 'JSONCompactEachRow';
    bytes: Buffer;
    settings: Record<string, string | number>;
  },
): Promise<void> {
  const target = `${insert.table} (${insert.columns.join(', ')})`;
  const chdb = embedded.get(client);
  if (chdb) {
    // Once per client: files a killed process left behind go first (one engine per data directory).
    chdb.ready ??= rm(chdb.spoolDir, { recursive: true, force: true })
      .then(() => mkdir(chdb.spoolDir, { recursive: true, mode: 0o700 }))
      .catch((error: unknown) => {
        chdb.ready = undefined;
        throw error;
      });
    await chdb.ready;
    const file = join(chdb.spoolDir, `${randomUUID()}.jsonl`);
    await writeFile(file, insert.bytes, { mode: 0o600, flag: 'wx' });
    try {
      await chdb.connection.chdb.queryAsync(
        `INSERT INTO ${target} FROM INFILE ${quote(file)} SETTINGS ${settingsClause({ ...CLICKHOUSE_SETTINGS, ...insert.settings })} FORMAT ${insert.format}`,
      );
    } catch (error) {
      // chDB's errors carry the ClickHouse code apart; give it the client's shape.
      const code = (error as { clickhouseCode?: unknown }).clickhouseCode;
      if (code !== undefined && error instanceof Error) Object.assign(error, { code: String(code) });
      throw error;
    } finally {
      await rm(file, { force: true });
    }
    return;
  }
  const settings = settingsClause(insert.settings);
  const result = await client.exec({
    query: `INSERT INTO ${target}${settings ? ` SETTINGS ${settings}` : ''} FORMAT ${insert.format}`,
    values: Readable.from([insert.bytes]),
  });
  // The response must be read to the end, or its socket never returns to the pool.
  for await (const _ of result.stream);
}

function settingsClause(settings: Record<string, string | number>): string {
  return Object.entries(settings)
    .map(([name, value]) => `${name} = ${typeof value === 'number' ? value : quote(value)}`)
    .join(', ');
}

/** A ClickHouse string literal. */
export function quote(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/**
 * chDB turns client-level settings into a `SET …;` prefix on EVERY statement, and an INSERT run as
 * a multi-statement query costs the engine about twice the CPU (scripts/bench-sink.ts: 51 → 26 µs
 * per fact row). The settings are therefore SET once on the session — they outlive the statement
 * there anyway — before the connection's first operation.
 */
function withSessionSettings(connection: ChdbConnection, settings: Record<string, number>): ChdbConnection {
  const statement = `SET ${Object.entries(settings)
    .map(([name, value]) => `${name} = ${value}`)
    .join(', ')}`;
  let ready: Promise<unknown> | undefined;
  const prepare = () => {
    ready ??= connection.chdb.queryAsync(statement).catch((error: unknown) => {
      ready = undefined;
      throw error;
    });
    return ready;
  };
  const operations = new Set<PropertyKey>(['query', 'exec', 'command', 'insert']);
  return new Proxy(connection, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      if (!operations.has(property)) return value.bind(target);
      return async (...args: unknown[]) => {
        await prepare();
        return value.apply(target, args);
      };
    },
  });
}

export type { ClickHouseClient };
