import net from 'node:net';
import { startScratchRedis } from '@burnrate/devstack';
import { Redis } from 'ioredis';

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
 * restart it (losing everything) without touching the Redis other tests share; `client` is
 * connected to it and reconnects across restarts.
 */
export async function privateRedis() {
  const server = await startScratchRedis(await freePort());
  const client = new Redis(server.url, { maxRetriesPerRequest: 1, retryStrategy: () => 100 });
  client.on('error', () => {}); // expected while the server restarts
  return {
    ...server,
    client,
    flushAll: () => client.flushall(),
    async stop() {
      client.disconnect();
      await server.stop();
    },
  };
}
