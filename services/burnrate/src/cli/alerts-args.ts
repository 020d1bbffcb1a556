import { formatInstant, instantMs, ValidationError } from '@burnrate/core';

export const ALERTS_USAGE = `usage: burnrate alerts <command>

For on-call: what failed to reach its destination, sending it again, and what fired.

  failed [--json]                  delivery jobs that failed for good (all attempts used, 4xx,
                                   refused, or 410 Gone): job id, destination, rule, severity,
                                   subject, attempts, last error, when
  replay <job id> | --all          send failed deliveries again, with a fresh set of attempts
  enable <destination>             re-enable a destination disabled after it answered 410 Gone
  list [--from <ISO>] [--to <ISO>] [--limit <n>] [--json]
                                   the alerts on record in ClickHouse, newest first
                                   (--from inclusive, --to exclusive; --limit default 100)
  help                             show this text

Reads REDIS_URL, BURNRATE_TOPIC_PREFIX and, for list, the CLICKHOUSE_* settings.
Exit codes: 0 done; 1 Redis or ClickHouse failed; 2 bad arguments or an unknown job id.
`;

export type AlertsArgs =
  | { command: 'help' }
  | { command: 'failed'; json: boolean }
  | { command: 'replay'; jobId: string | undefined; all: boolean }
  | { command: 'enable'; destination: string }
  | { command: 'list'; fromMs: number | undefined; toMs: number | undefined; limit: number; json: boolean };

/** `list` shows at most this many alerts unless --limit says otherwise. */
export const DEFAULT_LIST_LIMIT = 100;
const MAX_LIST_LIMIT = 100_000;

function usageError(field: string, message: string): never {
  throw new ValidationError(field, message, 'invalid_argument');
}

/** Flags (with their value, for --flag=value or --flag value) and positional words of a subcommand. */
function split(
  sub: string,
  args: readonly string[],
  allowed: { flags: readonly string[]; valued: readonly string[] },
): { flags: Map<string, string>; words: string[] } {
  const flags = new Map<string, string>();
  const words: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('--')) {
      words.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (!allowed.flags.includes(name) && !allowed.valued.includes(name)) {
      usageError(name, `burnrate alerts ${sub} does not take ${name}; see burnrate alerts help.`);
    }
    if (flags.has(name)) usageError(name, `${name} is given twice.`);
    if (allowed.valued.includes(name)) {
      const value = eq > 0 ? arg.slice(eq + 1) : args[++i];
      if (value === undefined || value === '' || (eq < 0 && value.startsWith('--'))) {
        usageError(name, `${name} needs a value.`);
      }
      flags.set(name, value);
    } else {
      if (eq > 0) usageError(name, `${name} takes no value.`);
      flags.set(name, '');
    }
  }
  return { flags, words };
}

function instant(flag: string, text: string): number {
  const ms = instantMs(text);
  if (ms === undefined) {
    usageError(flag, `${flag} must be an ISO-8601 date or a date-time with a zone, got "${text}".`);
  }
  return ms;
}

function noWords(sub: string, words: string[]): void {
  if (words.length > 0) usageError(words[0]!, `burnrate alerts ${sub} takes no argument "${words[0]}".`);
}

/**
 * Parses `burnrate alerts …` arguments.
 * @throws ValidationError (code `invalid_argument`) whose field is the argument at fault.
 */
export function parseAlertsArgs(argv: readonly string[]): AlertsArgs {
  const [sub, ...rest] = argv;
  switch (sub) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      return { command: 'help' };
    case 'failed': {
      const { flags, words } = split(sub, rest, { flags: ['--json'], valued: [] });
      noWords(sub, words);
      return { command: 'failed', json: flags.has('--json') };
    }
    case 'replay': {
      const { flags, words } = split(sub, rest, { flags: ['--all'], valued: [] });
      const all = flags.has('--all');
      if (words.length > 1) usageError(words[1]!, 'burnrate alerts replay takes one job id (or --all).');
      if (all && words.length > 0) usageError('--all', 'Give either a job id or --all, not both.');
      if (!all && words.length === 0) {
        usageError('job id', 'burnrate alerts replay needs a job id (see burnrate alerts failed) or --all.');
      }
      return { command: 'replay', jobId: words[0], all };
    }
    case 'enable': {
      const { words } = split(sub, rest, { flags: [], valued: [] });
      if (words.length !== 1) {
        usageError(
          'destination',
          'burnrate alerts enable takes one destination name, as in the alerting file.',
        );
      }
      return { command: 'enable', destination: words[0]! };
    }
    case 'list': {
      const { flags, words } = split(sub, rest, { flags: ['--json'], valued: ['--from', '--to', '--limit'] });
      noWords(sub, words);
      const from = flags.get('--from');
      const to = flags.get('--to');
      const fromMs = from === undefined ? undefined : instant('--from', from);
      const toMs = to === undefined ? undefined : instant('--to', to);
      if (fromMs !== undefined && toMs !== undefined && toMs <= fromMs) {
        usageError(
          '--to',
          `--to (${formatInstant(toMs)}) must be later than --from (${formatInstant(fromMs)}).`,
        );
      }
      const limitText = flags.get('--limit');
      const limit = limitText === undefined ? DEFAULT_LIST_LIMIT : Number(limitText);
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
        usageError(
          '--limit',
          `--limit must be a whole number from 1 to ${MAX_LIST_LIMIT}, got "${limitText}".`,
        );
      }
      return { command: 'list', fromMs, toMs, limit, json: flags.has('--json') };
    }
    default:
      return usageError(
        sub,
        `Unknown command "burnrate alerts ${sub}"; the commands are failed, replay, enable and list.`,
      );
  }
}
