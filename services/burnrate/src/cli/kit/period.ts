import { formatInstant, instantMs, ValidationError } from '@burnrate/core';
import type { Command } from 'commander';

/** A half-open time range [fromMs, toMs) that a read command covers. */
export interface Period {
  fromMs: number;
  toMs: number;
}

const RELATIVE = /^(\d{1,6})([mhdw])$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/**
 * One end of a period: an ISO 8601 date (`2026-11-01`, UTC midnight) or instant
 * (`2026-11-01T12:00:00Z`, `…+02:00`), `now`, or a span back from now (`90m`, `24h`, `7d`, `2w`).
 */
export function parseWhen(text: string, flag: string, nowMs: number): number {
  const trimmed = text.trim();
  if (trimmed === 'now') return nowMs;
  const relative = RELATIVE.exec(trimmed);
  if (relative) return nowMs - Number(relative[1]) * UNIT_MS[relative[2] as keyof typeof UNIT_MS];
  const ms = instantMs(trimmed);
  if (ms === undefined) {
    throw new ValidationError(
      flag,
      `${flag} "${text}" is not a date: give an ISO date or instant (2026-11-01, 2026-11-01T12:00:00Z), now, or a span back from now (24h, 7d).`,
      'invalid_argument',
    );
  }
  return ms;
}

/** --from (inclusive) and --to (exclusive); by default the last `defaultDays` days up to now. */
export function resolvePeriod(
  options: { from?: string; to?: string },
  nowMs: number,
  defaultDays = 30,
): Period {
  const toMs = options.to === undefined ? nowMs : parseWhen(options.to, '--to', nowMs);
  const fromMs =
    options.from === undefined ? toMs - defaultDays * UNIT_MS.d : parseWhen(options.from, '--from', nowMs);
  if (fromMs >= toMs) {
    throw new ValidationError(
      '--from',
      `--from ${formatInstant(fromMs)} is not before --to ${formatInstant(toMs)}: give a --from earlier than --to.`,
      'invalid_argument',
    );
  }
  return { fromMs, toMs };
}

/** Adds --from/--to to a read command, with the same help text everywhere. */
export function withPeriodOptions(command: Command, defaultDays = 30): Command {
  return command
    .option(
      '--from <when>',
      `start, inclusive: ISO date or instant, now, or 24h/7d back (default: ${defaultDays}d)`,
    )
    .option('--to <when>', 'end, exclusive: ISO date or instant, now, or 24h/7d back (default: now)');
}
