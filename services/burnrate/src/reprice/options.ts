import { formatInstant, instantMs, ValidationError } from '@burnrate/core';

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
  /** A price overrides file; none by default, as the enricher runs without one. */
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
  --overrides <file>  per-customer price overrides to apply (default: none)
  --dry-run           report what would change; write nothing
  --help              show this text
`;

const VALUE_FLAGS = [
  '--from',
  '--to',
  '--model',
  '--provider',
  '--customer',
  '--prices',
  '--overrides',
] as const;
type ValueFlag = (typeof VALUE_FLAGS)[number];

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

/**
 * Parses `burnrate reprice` arguments (`--flag value` or `--flag=value`).
 * @throws ValidationError (code `invalid_argument`) whose field is the flag at fault.
 */
export function parseRepriceArgs(args: readonly string[]): RepriceArgs {
  const values = new Map<ValueFlag, string>();
  let dryRun = false;
  let help = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--dry-run') dryRun = true;
    else if (arg === '--help' || arg === '-h') help = true;
    else {
      const eq = arg.indexOf('=');
      const name = (eq > 0 ? arg.slice(0, eq) : arg) as ValueFlag;
      if (!VALUE_FLAGS.includes(name))
        usageError(arg, `Unknown argument "${arg}"; see burnrate reprice --help.`);
      if (values.has(name)) usageError(name, `${name} is given twice.`);
      const value = eq > 0 ? arg.slice(eq + 1) : args[++i];
      if (value === undefined || value === '' || (eq < 0 && value.startsWith('--'))) {
        usageError(name, `${name} needs a value.`);
      }
      values.set(name, value);
    }
  }
  if (help) return { filter: { fromMs: 0, toMs: 0 }, dryRun, help };
  const from = values.get('--from');
  const to = values.get('--to');
  if (from === undefined) usageError('--from', '--from is required: the start of the range to re-price.');
  if (to === undefined) usageError('--to', '--to is required: the end (exclusive) of the range to re-price.');
  const filter: FactFilter = { fromMs: instant('--from', from), toMs: instant('--to', to) };
  if (filter.toMs <= filter.fromMs) {
    usageError(
      '--to',
      `--to (${formatInstant(filter.toMs)}) must be later than --from (${formatInstant(filter.fromMs)}).`,
    );
  }
  const model = values.get('--model');
  const provider = values.get('--provider');
  const customerId = values.get('--customer');
  if (model !== undefined) filter.model = model;
  if (provider !== undefined) filter.provider = provider;
  if (customerId !== undefined) filter.customerId = customerId;
  const result: RepriceArgs = { filter, dryRun, help };
  const pricesFile = values.get('--prices');
  const overridesFile = values.get('--overrides');
  if (pricesFile !== undefined) result.pricesFile = pricesFile;
  if (overridesFile !== undefined) result.overridesFile = overridesFile;
  return result;
}
