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

export { CommanderError };
