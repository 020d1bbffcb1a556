import { ConfigError } from '@burnrate/core';
import {
  type ClickHouseClient,
  type ClickHouseTarget,
  createClickHouseClient,
} from '../../clickhouse/client.js';
import { classifyClickHouseError } from '../../clickhouse/errors.js';
import { migrate } from '../../clickhouse/migrate.js';

/**
 * Opens ClickHouse read-write for `reprice` (the only command that writes facts) and applies pending
 * migrations; read-only commands use openReadDb (cli/kit/clickhouse.ts), which never migrates. In embedded mode a directory that
 * `burnrate run` owns cannot be opened twice; the error says how to go through its HTTP interface.
 */
export async function openClickHouseForWrite(
  target: ClickHouseTarget,
  database: string,
): Promise<ClickHouseClient> {
  let client: ClickHouseClient;
  try {
    // Mutations wait for every part to be rewritten; a large range takes far longer than a query.
    client = createClickHouseClient(target, { requestTimeoutMs: 3_600_000 });
  } catch (error) {
    if (target.kind === 'server') throw error;
    // Most likely `burnrate run` owns the directory: chDB allows one process per data directory.
    throw new ConfigError(
      'BURNRATE_DATA_DIR',
      `The embedded ClickHouse in ${target.path} cannot be opened (${(error as Error).message.split('\n')[0]}); ` +
        'if a running burnrate owns it, set BURNRATE_ROLES=ledger or CLICKHOUSE_URL to go through its HTTP interface.',
    );
  }
  try {
    await migrate(client, database);
  } catch (error) {
    await client.close();
    throw classifyClickHouseError(error, 'applying migrations');
  }
  return client;
}
