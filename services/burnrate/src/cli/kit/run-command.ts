import { BurnrateError, ValidationError } from '@burnrate/core';
import { type Command, CommanderError } from 'commander';
import { type CliOutput, processOutput } from './output.js';

/** Thrown by an action to end with an exit code after it has printed what it had to say. */
export class CommandExit extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}

/** A commander parse error as our ValidationError, naming the flag (or argument) at fault. */
export function argumentError(error: CommanderError, commandName: string): ValidationError {
  const quoted = /'([^' ]+)[^']*'/.exec(error.message)?.[1];
  const field = quoted ?? commandName;
  const text = error.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ');
  return new ValidationError(
    field,
    `${text.charAt(0).toUpperCase()}${text.slice(1).replace(/\.$/, '')}; see burnrate ${commandName} --help.`,
    'invalid_argument',
  );
}

/** Makes commander throw instead of exiting and write where `output` says, for the command and its subcommands. */
export function prepareCommand(command: Command, output: CliOutput): Command {
  command.exitOverride();
  command.configureOutput({
    writeOut: (text) => output.out(text),
    writeErr: (text) => output.err(text),
    outputError: () => {}, // runCommand prints one sentence of its own
  });
  for (const sub of command.commands) prepareCommand(sub, output);
  return command;
}

/**
 * Runs a commander command and turns the outcome into an exit code: 0 done (or help shown); 2 bad
 * arguments, with one sentence naming the flag; 1 a refused file or failed operation, with its sentence.
 */
export async function runCommand(
  command: Command,
  argv: readonly string[],
  output: CliOutput = processOutput,
): Promise<number> {
  prepareCommand(command, output);
  const name = command.name();
  try {
    await command.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (caught) {
    if (caught instanceof CommandExit) return caught.exitCode;
    let error: unknown = caught;
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return 0;
      if (error.code === 'commander.help') return 2; // a command group called without a subcommand
      error = argumentError(error, name);
    }
    if (!(error instanceof BurnrateError)) throw error;
    output.err(`burnrate ${name}: ${error.message}\n`);
    return error instanceof ValidationError && error.code === 'invalid_argument' ? 2 : 1;
  }
}
