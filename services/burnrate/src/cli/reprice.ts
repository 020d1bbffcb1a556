import { readFileSync } from 'node:fs';
import { BurnrateError, ConfigError, loadBundledCatalog, PriceOverrides, parseCatalog } from '@burnrate/core';
import {
  type ClickHouseClient,
  type ClickHouseTarget,
  createClickHouseClient,
} from '../clickhouse/client.js';
import { classifyClickHouseError } from '../clickhouse/errors.js';
import { migrate } from '../clickhouse/migrate.js';
import { loadConfig } from '../config/load.js';
import { parseRepriceArgs, REPRICE_USAGE, type RepriceArgs } from '../reprice/options.js';
import type { PricingReference } from '../reprice/price-fact.js';
import { createProgressBar, type ProgressStream } from '../reprice/progress.js';
import { repriceRange } from '../reprice/run.js';
import { formatSummary } from '../reprice/tally.js';
import { clickHouseTarget } from '../runtime/app.js';

export interface RepriceIo {
  stdout: { write(text: string): unknown };
  stderr: ProgressStream;
  env: NodeJS.ProcessEnv;
}

const defaultIo = (): RepriceIo => ({ stdout: process.stdout, stderr: process.stderr, env: process.env });

/** Reads a JSON reference file; a missing or malformed file is a ConfigError naming the flag or setting. */
function readJson(file: string, setting: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(
      setting,
      `${setting} names ${file}, which cannot be read: ${(error as Error).message}.`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ConfigError(
      setting,
      `${setting} names ${file}, which is not JSON: ${(error as Error).message}.`,
    );
  }
}

function loadReference(args: RepriceArgs, configPricesFile: string | undefined): PricingReference {
  const [pricesFile, setting] = args.pricesFile
    ? [args.pricesFile, '--prices']
    : [configPricesFile, 'BURNRATE_PRICES_FILE'];
  const prices = pricesFile ? parseCatalog(readJson(pricesFile, setting)) : loadBundledCatalog();
  const overrides = args.overridesFile
    ? PriceOverrides.parse(readJson(args.overridesFile, '--overrides'))
    : PriceOverrides.empty();
  return { prices, overrides };
}

function openClickHouse(target: ClickHouseTarget): ClickHouseClient {
  try {
    // Mutations wait for every part to be rewritten; a large range takes far longer than a query.
    return createClickHouseClient(target, { requestTimeoutMs: 3_600_000 });
  } catch (error) {
    if (target.kind === 'server') throw error;
    // Most likely `burnrate run` owns the directory: chDB allows one process per data directory.
    throw new ConfigError(
      'BURNRATE_DATA_DIR',
      `The embedded ClickHouse in ${target.path} cannot be opened (${(error as Error).message.split('\n')[0]}); ` +
        'if a running burnrate owns it, set BURNRATE_ROLES=ledger or CLICKHOUSE_URL to go through its HTTP interface.',
    );
  }
}

/**
 * `burnrate reprice …`: re-prices a time range with the current catalog (docs/repricing.md).
 * Exit codes: 0 done; 1 failed, or some facts could not be priced; 2 bad arguments.
 */
export async function repriceCommand(argv: string[], io: RepriceIo = defaultIo()): Promise<number> {
  let args: RepriceArgs;
  try {
    args = parseRepriceArgs(argv);
  } catch (error) {
    if (!(error instanceof BurnrateError)) throw error;
    io.stderr.write(`burnrate reprice: ${error.message}\n\n${REPRICE_USAGE}`);
    return 2;
  }
  if (args.help) {
    io.stdout.write(REPRICE_USAGE);
    return 0;
  }
  try {
    const config = loadConfig(io.env);
    const reference = loadReference(args, config.BURNRATE_PRICES_FILE);
    const client = openClickHouse(clickHouseTarget(config));
    try {
      await migrate(client, config.CLICKHOUSE_DATABASE).catch((error: unknown) => {
        throw classifyClickHouseError(error, 'applying migrations');
      });
      const summary = await repriceRange(
        { client, database: config.CLICKHOUSE_DATABASE, reference, progress: createProgressBar(io.stderr) },
        { filter: args.filter, dryRun: args.dryRun },
      );
      io.stdout.write(formatSummary(summary, config.CLICKHOUSE_DATABASE));
      return summary.tally.failed > 0 ? 1 : 0;
    } finally {
      await client.close();
    }
  } catch (error) {
    if (!(error instanceof BurnrateError)) throw error;
    io.stderr.write(`\nburnrate reprice: ${error.message}\n`);
    return 1;
  }
}
