import { BurnrateError } from '@burnrate/core';
import { type Command, CommanderError } from 'commander';
import type { CliOutput } from './kit/output.js';

/**
 * Every command of the program: commander's errors are thrown (not process.exit) and printed as one
 * line naming the command whose --help explains it.
 */
export function applyCliConventions(command: Command, output: CliOutput): void {
  command.exitOverride();
  command.showSuggestionAfterError(true);
  const name = fullName(command);
  command.configureOutput({
    writeOut: (text) => output.out(text),
    writeErr: (text) => output.err(text),
    outputError: (text, write) => {
      const sentence = text
        .trim()
        .replace(/^error: /, '')
        .replace(/\.$/, '');
      write(`burnrate: ${sentence}; see ${name} --help.\n`);
    },
  });
  for (const sub of command.commands) applyCliConventions(sub, output);
}

function fullName(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Commander's own outcome as an exit code: 0 for help and version, 2 for a usage error. */
export function commanderExitCode(error: CommanderError): number {
  return error.exitCode === 0 ? 0 : 2;
}

/** Thrown by an action to end with an exit code after it has printed what it had to say. */
export class CommandExit extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}

/**
 * The exit code for whatever a command ended with — the one mapping main.ts (and every test) uses:
 * 0 help/version; 2 a usage error or a BurnrateError that is not retriable (ValidationError,
 * ConfigError: the input or a setting must change); 1 a retriable failure (a service was down, the
 * same command may work later) or anything unexpected. CommandExit carries its own code.
 */
export function exitCodeFor(error: unknown): number {
  if (error instanceof CommandExit) return error.exitCode;
  if (error instanceof CommanderError) return commanderExitCode(error);
  if (error instanceof BurnrateError) return error.retriable ? 1 : 2;
  return 1;
}

/** The line printed for a thrown error: one sentence for ours, the stack for anything unexpected. */
export function errorLine(error: unknown): string {
  if (error instanceof BurnrateError) return `burnrate: ${error.message}\n`;
  return `burnrate: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`;
}

export { CommanderError };
