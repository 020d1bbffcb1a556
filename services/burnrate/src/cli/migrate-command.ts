import { createClickHouseClient } from '../clickhouse/client.js';
import { migrate } from '../clickhouse/migrate.js';
import { loadConfig } from '../config/load.js';
import { clickHouseTarget } from '../runtime/app.js';

/** `burnrate migrate`: apply pending ClickHouse migrations and print what ran. */
export async function migrateCommand(): Promise<number> {
  const config = loadConfig();
  const client = createClickHouseClient(clickHouseTarget(config));
  try {
    const ran = await migrate(client, config.CLICKHOUSE_DATABASE);
    process.stdout.write(ran.length ? `applied: ${ran.join(', ')}\n` : 'nothing to apply\n');
    return 0;
  } finally {
    await client.close();
  }
}
