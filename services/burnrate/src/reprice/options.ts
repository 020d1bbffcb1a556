import { formatInstant, instantMs, ValidationError } from '@burnrate/core';
import { Command, CommanderError } from 'commander';

/** Which facts a run re-prices: occurred_at in [fromMs, toMs), optionally one model, provider or customer. */
export interface FactFilter {
  fromMs: number;
  toMs: number;
  /** Exact `model` as stored on the fact (the name the service reported). */
  model?: string;
  /** Exact `provider` as stored on the fact. */
  provider?: string;
  customerId?: string;
}

export interface RepriceArgs {
  filter: FactFilter;
  /** A catalog file instead of BURNRATE_PRICES_FILE or the bundled catalog. */
  pricesFile?: string;
  /** A price overrides file instead of BURNRATE_OVERRIDES_FILE (none when neither is given). */
  overridesFile?: string;
  dryRun: boolean;
  help: boolean;
}

export const REPRICE_USAGE = `usage: burnrate reprice --from <ISO> --to <ISO> [options]

Re-prices the facts with occurred_at in [--from, --to) with the current price catalog, records
every change in reprice_log, and rebuilds the rollups they feed. Running it again changes nothing.

  --from <ISO>        start, inclusive: 2026-09-01 (UTC midnight) or 2026-09-01T12:00:00Z
  --to <ISO>          end, exclusive
  --model <name>      only facts of this model (exactly as stored)
  --provider <name>   only facts of this provider
  --customer <id>     only facts of this customer_id
  --prices <file>     price catalog to use (default: BURNRATE_PRICES_FILE, else the bundled one)
  --overrides <file>  per-customer price overrides (default: BURNRATE_OVERRIDES_FILE, else none)
  --dry-run           report what would change; write nothing
  --help              show this text
`;

/** A commander parse error as our ValidationError, naming the flag (or argument) at fault. */
function argumentError(error: CommanderError): ValidationError {
  const field = /'([^' ]+)[^']*'/.exec(error.message)?.[1] ?? 'reprice';
  const text = error.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ');
  return new ValidationError(
    field,
    `${text.charAt(0).toUpperCase()}${text.slice(1).replace(/\.$/, '')}; see burnrate reprice --help.`,
    'invalid_argument',
  );
}

function usageError(flag: string, message: string): never {
  throw new ValidationError(flag, message, 'invalid_argument');
}

function instant(flag: string, text: string): number {
  const ms = instantMs(text);
  if (ms === undefined) {
    usageError(flag, `${flag} must be an ISO-8601 date or a date-time with a zone, got "${text}".`);
  }
  return ms;
}

/** A value flag given once, with a value that is not another flag. */
function once(flag: string) {
  return (value: string, previous: string | undefined): string => {
    if (previous !== undefined) usageError(flag, `${flag} is given twice.`);
    if (value === '' || value.startsWith('--')) usageError(flag, `${flag} needs a value.`);
    return value;
  };
}

/** The `reprice` flags on a commander command (what `burnrate reprice` and parseRepriceArgs parse). */
export function withRepriceOptions(command: Command): Command {
  return command
    .helpOption(false)
    .option('--from <ISO>', 'start, inclusive', once('--from'))
    .option('--to <ISO>', 'end, exclusive', once('--to'))
    .option('--model <name>', 'only facts of this model', once('--model'))
    .option('--provider <name>', 'only facts of this provider', once('--provider'))
    .option('--customer <id>', 'only facts of this customer_id', once('--customer'))
    .option('--prices <file>', 'price catalog to use', once('--prices'))
    .option('--overrides <file>', 'per-customer price overrides to apply', once('--overrides'))
    .option('--dry-run', 'report what would change; write nothing')
    .option('-h, --help', 'show this text');
}

interface RepriceFlags {
  from?: string;
  to?: string;
  model?: string;
  provider?: string;
  customer?: string;
  prices?: string;
  overrides?: string;
  dryRun?: boolean;
  help?: boolean;
}

/** Checks parsed flags and turns them into RepriceArgs. */
export function repriceArgsFrom(flags: RepriceFlags): RepriceArgs {
  const dryRun = flags.dryRun === true;
  if (flags.help) return { filter: { fromMs: 0, toMs: 0 }, dryRun, help: true };
  if (flags.from === undefined)
    usageError('--from', '--from is required: the start of the range to re-price.');
  if (flags.to === undefined)
    usageError('--to', '--to is required: the end (exclusive) of the range to re-price.');
  const filter: FactFilter = { fromMs: instant('--from', flags.from), toMs: instant('--to', flags.to) };
  if (filter.toMs <= filter.fromMs) {
    usageError(
      '--to',
      `--to (${formatInstant(filter.toMs)}) must be later than --from (${formatInstant(filter.fromMs)}).`,
    );
  }
  if (flags.model !== undefined) filter.model = flags.model;
  if (flags.provider !== undefined) filter.provider = flags.provider;
  if (flags.customer !== undefined) filter.customerId = flags.customer;
  const result: RepriceArgs = { filter, dryRun, help: false };
  if (flags.prices !== undefined) result.pricesFile = flags.prices;
  if (flags.overrides !== undefined) result.overridesFile = flags.overrides;
  return result;
}

/**
 * Parses `burnrate reprice` arguments (`--flag value` or `--flag=value`).
 * @throws ValidationError (code `invalid_argument`) whose field is the flag at fault.
 */
export function parseRepriceArgs(args: readonly string[]): RepriceArgs {
  const command = withRepriceOptions(new Command('reprice'))
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {}, outputError: () => {} });
  try {
    command.parse([...args], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) throw argumentError(error);
    throw error;
  }
  return repriceArgsFrom(command.opts<RepriceFlags>());
}
