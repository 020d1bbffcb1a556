import { Command } from 'commander';
import { createClickHouseClient } from '../clickhouse/client.js';
import { migrate } from '../clickhouse/migrate.js';
import { loadConfig } from '../config/load.js';
import { clickHouseTarget } from '../runtime/app.js';
import { type CliOutput, processOutput } from './kit/output.js';

/** `burnrate migrate`: apply pending ClickHouse migrations and print what ran. */
export function createMigrateCommand(output: CliOutput = processOutput): Command {
  return new Command('migrate').description('apply ClickHouse migrations and exit').action(async () => {
    const config = loadConfig();
    const client = createClickHouseClient(clickHouseTarget(config));
    try {
      const ran = await migrate(client, config.CLICKHOUSE_DATABASE);
      output.out(ran.length ? `applied: ${ran.join(', ')}\n` : 'nothing to apply\n');
    } finally {
      await client.close();
    }
  });
}
