import { ValidationError } from '@burnrate/core';
import type { Command } from 'commander';

/** A commander parser for a whole number from 1 to `max`, naming the flag when it is not one. */
export function wholeNumber(flag: string, max: number): (text: string) => number {
  return (text) => {
    const n = /^\d{1,9}$/.test(text.trim()) ? Number(text) : Number.NaN;
    if (!Number.isInteger(n) || n < 1 || n > max) {
      throw new ValidationError(
        flag,
        `${flag} "${text}" is not a whole number from 1 to ${max}: give one, e.g. ${flag} 20.`,
        'invalid_argument',
      );
    }
    return n;
  };
}

/** --limit <n> and --json, with the same help text on every read command. */
export function withListOptions(command: Command, defaultLimit: number, max = 10_000): Command {
  return command
    .option('--limit <n>', `at most this many rows (default: ${defaultLimit})`, wholeNumber('--limit', max))
    .option('--json', 'print JSON: every row, money as exact nano-USD strings');
}

/** One of a fixed list of words (never passed into SQL as written). */
export function oneOf<T extends string>(what: string, allowed: readonly T[], text: string): T {
  if ((allowed as readonly string[]).includes(text)) return text as T;
  throw new ValidationError(
    what,
    `${what} "${text.slice(0, 60)}" is not one of ${allowed.join(', ')}: give one of those.`,
    'invalid_argument',
  );
}
