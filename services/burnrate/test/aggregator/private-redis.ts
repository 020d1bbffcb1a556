import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { Redis } from 'ioredis';
import { pollUntil } from '../fixtures.js';
import { exited } from '../process-harness.js';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * A redis-server of this test's own, without persistence, so a test can FLUSHALL it or kill and
 * restart it (losing everything) without touching the Redis other tests share.
 */
export async function privateRedis() {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => 100 });
  probe.on('error', () => {}); // expected while the server restarts
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
    await pollUntil(
      () =>
        probe.ping().then(
          () => true,
          () => false,
        ),
      Boolean,
      10_000,
    );
  };
  await up();
  return {
    url,
    client: probe,
    flushAll: () => probe.flushall(),
    /** SIGKILL and start again: Redis comes back empty. */
    async restartEmpty() {
      child?.kill('SIGKILL');
      if (child) await exited(child);
      await up();
    },
    /** SIGKILL, keeping the port: clients see Redis unreachable until start(). */
    async kill() {
      child?.kill('SIGKILL');
      if (child) await exited(child);
    },
    start: up,
    async stop() {
      probe.disconnect();
      child?.kill('SIGKILL');
      if (child) await exited(child);
    },
  };
}
