import { type ChildProcess, spawn } from 'node:child_process';
import { pingRedis, waitFor } from '@burnrate/devstack';

/**
 * A redis-server of the chaos run's own, without persistence (no RDB, no AOF), so a scenario can
 * kill it and start it again empty without touching any Redis someone else uses.
 */
export interface ChaosRedis {
  url: string;
  /** SIGKILL and start again on the same port: everything it held is gone. */
  restartEmpty(): Promise<void>;
  stop(): Promise<void>;
}

export async function startChaosRedis(port: number): Promise<ChaosRedis> {
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const up = async () => {
    child = spawn(
      'redis-server',
      [
        '--bind',
        '127.0.0.1',
        '--port',
        String(port),
        '--save',
        '',
        '--appendonly',
        'no',
        '--maxmemory-policy',
        'noeviction',
      ],
      { stdio: 'ignore' },
    );
    await waitFor(
      () => pingRedis(url),
      15_000,
      () => new Error(`redis-server did not answer on ${url} within 15 s (is the port free?)`),
      100,
    );
  };
  const down = async () => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await gone;
  };
  await up();
  return {
    url,
    async restartEmpty() {
      await down();
      await up();
    },
    stop: down,
  };
}
