import { createRequire } from 'node:module';
import { type ClickHouseClient, createClient } from '@clickhouse/client';

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
  // chdb types its connection against @clickhouse/client-common, which the client now bundles under
  // another path; the runtime interface is the same.
  type Connection = NonNullable<Parameters<typeof createClient>[0]>['connection'];
  // Loaded only in embedded mode: the chDB engine costs ~150 MB of RSS the moment it is loaded, which
  // roles talking to a ClickHouse server (or to the embedded owner over HTTP) should not pay.
  const { createChdbConnection } = createRequire(import.meta.url)(
    'chdb/connection',
  ) as typeof import('chdb/connection');
  const connection = createChdbConnection({ path: target.path }) as unknown as Connection;
  return createClient({ ...common, connection });
}

export type { ClickHouseClient };
