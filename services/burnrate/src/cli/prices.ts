import { Command } from 'commander';
import { type CliOutput, processOutput } from './kit/output.js';
import { createPricesDiffCommand } from './prices-diff.js';
import { createPricesImportCommand } from './prices-import.js';
import { createPricesListCommand } from './prices-list.js';
import { createPricesPublishCommand } from './prices-publish.js';

/** `burnrate prices …`: import a LiteLLM price file, list prices, compare two catalogs on real facts. */
export function createPricesCommand(
  output: CliOutput = processOutput,
  env: NodeJS.ProcessEnv = process.env,
  now: () => number = Date.now,
): Command {
  return new Command('prices')
    .description('price catalogs: import-litellm, list, diff, publish')
    .addCommand(createPricesImportCommand(output))
    .addCommand(createPricesListCommand(output, env))
    .addCommand(createPricesDiffCommand(output, env, now))
    .addCommand(createPricesPublishCommand(output, env));
}
