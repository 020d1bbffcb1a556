import { type ChildProcess, spawn } from 'node:child_process';
import { inject } from 'vitest';
import type { CliOutput } from '../../src/cli/kit/output.js';
import { runCliToExitCode } from '../../src/cli/run-cli.js';

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

/**
 * `burnrate …` in this process, exactly as main.ts runs it (runCliToExitCode): usage errors and
 * settings to fix exit 2, retriable failures 1, each printed as one line. `onSignal` receives the stop handler (tail).
 */
export function cli(argv: string[], onSignal: (stop: () => void) => void = () => {}): Promise<CliResult> {
  return cliLive(argv, onSignal).done;
}

/** As cli(), with the output readable while the command runs. */
export function cliLive(
  argv: string[],
  onSignal: (stop: () => void) => void = () => {},
): { live: CliResult; done: Promise<CliResult> } {
  const result = { code: 0, out: '', err: '' };
  return { live: result, done: runInProcess(argv, onSignal, result) };
}

async function runInProcess(
  argv: string[],
  onSignal: (stop: () => void) => void,
  result: CliResult,
): Promise<CliResult> {
  const output: CliOutput = {
    out: (t) => {
      result.out += t;
    },
    err: (t) => {
      result.err += t;
    },
    interactive: false,
  };
  result.code = await runCliToExitCode(argv, { onSignal }, output);
  return result;
}

/** `burnrate …` as a child process (node + tsx on the sources), for real exit codes. */
export function cliProcess(argv: string[], env: Record<string, string>): Promise<CliResult> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--conditions=@burnrate/source', '--import', 'tsx', 'services/burnrate/src/main.ts', ...argv],
    { cwd: inject('rootDir'), env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr!.on('data', (c: Buffer) => {
    err += c.toString();
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? -1, out, err }));
  });
}

/** A single line (the sentence that says what to do), no stack trace. */
export function oneLine(text: string): boolean {
  const lines = text.trim().split('\n');
  return lines.length === 1 && lines[0]!.startsWith('burnrate: ') && !/\bat .*\.ts:\d+/.test(text);
}
