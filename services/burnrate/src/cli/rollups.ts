import { randomUUID } from 'node:crypto';
import { ValidationError } from '@burnrate/core';
import { Command, Option } from 'commander';
import { createClickHouseClient } from '../clickhouse/client.js';
import { repairRollups } from '../clickhouse/rollup-repair.js';
import { loadConfig } from '../config/load.js';
import { clickHouseTarget } from '../runtime/app.js';
import { type CliOutput, processOutput } from './kit/output.js';

/**
 * `burnrate rollups repair`: after a ClickHouse server died mid-insert (facts stored, a rollup not),
 * rebuild the rollup keys that disagree with the facts of the last inserts. The embedded engine does
 * this by itself when it starts after an unclean stop; run this with the ledgers stopped.
 */
export function createRollupsCommand(
  output: CliOutput = processOutput,
  env: NodeJS.ProcessEnv = process.env,
): Command {
  const repair = new Command('repair')
    .description(
      'rebuild rollup keys that disagree with the facts of the last inserts (after a ClickHouse crash)',
    )
    .addOption(new Option('--window <minutes>', 'how far before the newest facts part to look').default('60'))
    .action(async (opts: { window: string }) => {
      const windowMinutes = Number(opts.window);
      if (!Number.isInteger(windowMinutes) || windowMinutes < 1) {
        throw new ValidationError(
          '--window',
          `--window must be a whole number of minutes, at least 1; got ${opts.window}.`,
          'invalid_argument',
        );
      }
      const config = loadConfig(env);
      const client = createClickHouseClient(clickHouseTarget(config));
      try {
        const r = await repairRollups(client, config.CLICKHOUSE_DATABASE, {
          windowMinutes,
          rebuildId: randomUUID(),
        });
        output.out(
          r.hourKeys + r.periodKeys === 0
            ? 'rollups agree with the facts: nothing to rebuild\n'
            : `rebuilt from the facts: ${r.hourKeys} usage_hourly keys, ${r.periodKeys} customer_period_cost keys\n`,
        );
      } finally {
        await client.close();
      }
    });
  return new Command('rollups').description('check and repair the rollup tables').addCommand(repair);
}
