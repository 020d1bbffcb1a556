import { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { loadReference } from '../pricing/reference-files.js';
import { REPRICE_USAGE, repriceArgsFrom, withRepriceOptions } from '../reprice/options.js';
import { createProgressBar } from '../reprice/progress.js';
import { repriceRange } from '../reprice/run.js';
import { formatSummary } from '../reprice/tally.js';
import { clickHouseTarget } from '../runtime/app.js';
import { openClickHouseForWrite } from './kit/open-clickhouse.js';
import { type CliOutput, processOutput } from './kit/output.js';
import { CommandExit } from './program.js';

/**
 * `burnrate reprice …`: re-prices a time range with the current catalog (docs/repricing.md).
 * Exit codes: 0 done; 1 failed, or some facts could not be priced; 2 bad arguments.
 */
export function createRepriceCommand(
  output: CliOutput = processOutput,
  env: NodeJS.ProcessEnv = process.env,
): Command {
  return withRepriceOptions(new Command('reprice'))
    .description('re-price a time range with the current catalog')
    .action(async (flags) => {
      const args = repriceArgsFrom(flags);
      if (args.help) {
        output.out(REPRICE_USAGE);
        return;
      }
      const config = loadConfig(env);
      const reference = loadReference(args, config);
      const client = await openClickHouseForWrite(clickHouseTarget(config), config.CLICKHOUSE_DATABASE);
      try {
        const progress = createProgressBar({ isTTY: output.interactive, write: (text) => output.err(text) });
        const summary = await repriceRange(
          { client, database: config.CLICKHOUSE_DATABASE, reference, progress },
          { filter: args.filter, dryRun: args.dryRun },
        );
        output.out(formatSummary(summary, config.CLICKHOUSE_DATABASE));
        if (summary.tally.failed > 0) throw new CommandExit(1);
      } finally {
        await client.close();
      }
    });
}
