import { type ChildProcess, spawn } from 'node:child_process';
import { inject } from 'vitest';

/** Runs `burnrate run` as a real child process (so tests can SIGKILL it) with the given env. */
export function spawnBurnrate(env: Record<string, string>): { child: ChildProcess; output: () => string } {
  const root = inject('rootDir');
  let output = '';
  const child = spawn(
    process.execPath,
    ['--conditions=@burnrate/source', '--import', 'tsx', 'services/burnrate/src/main.ts', 'run'],
    {
      cwd: root,
      env: { ...process.env, LOG_LEVEL: 'info', METRICS_PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return { child, output: () => output };
}

export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function kill(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  child.kill(signal);
  await exited(child);
}

/** A field of the first JSON log line with message `msg` a `burnrate run` process printed; undefined until then. */
export function logField(output: string, msg: string, field: string): string | undefined {
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as Record<string, unknown>;
    if (entry.msg === msg) return entry[field] as string | undefined;
  }
  return undefined;
}
