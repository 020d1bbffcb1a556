import { BurnrateError, ConfigError, ValidationError } from '@burnrate/core';
import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { CommandExit, exitCodeFor } from '../../src/cli/program.js';
import { runCliToExitCode } from '../../src/cli/run-cli.js';

describe('exitCodeFor: the one error → exit-code mapping main.ts uses', () => {
  it('2 for usage errors and settings or input to fix, 1 for retriable or unexpected failures', () => {
    expect(exitCodeFor(new CommanderError(1, 'commander.unknownOption', 'bad'))).toBe(2);
    expect(exitCodeFor(new CommanderError(0, 'commander.helpDisplayed', 'help'))).toBe(0);
    expect(exitCodeFor(new ValidationError('--to', 'bad', 'invalid_argument'))).toBe(2);
    expect(exitCodeFor(new ConfigError('BURNRATE_PRICES_FILE', 'unreadable'))).toBe(2);
    expect(exitCodeFor(new BurnrateError('kafka_unavailable', 'down', { retriable: true }))).toBe(1);
    expect(exitCodeFor(new BurnrateError('clickhouse_query_failed', 'refused'))).toBe(2);
    expect(exitCodeFor(new Error('bug'))).toBe(1);
    expect(exitCodeFor(new CommandExit(1))).toBe(1);
  });

  it('gives the same code through runCliToExitCode as exitCodeFor, printing one line', async () => {
    const err: string[] = [];
    const output = { out: () => {}, err: (t: string) => err.push(t), interactive: false };
    const host = { onSignal: () => {}, env: { BURNRATE_PRICES_FILE: '/nonexistent/prices.json' } };
    expect(await runCliToExitCode(['prices', 'list'], host, output)).toBe(2);
    expect(err.join('')).toMatch(/^burnrate: .*\/nonexistent\/prices\.json/);
    err.length = 0;
    expect(await runCliToExitCode(['export', 'focus', '--grain', 'week'], host, output)).toBe(2);
    expect(err.join('')).toMatch(/^burnrate: --grain "week"/);
  });
});
