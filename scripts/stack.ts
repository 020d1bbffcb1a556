// `npm run stack -- up|down|status`: the local Kafka (and redis-server if needed) in the background,
// for benchmarks and for running roles by hand. `npm start` does this itself.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeStackFailure, isAlive, startLocalStack, terminate } from '@burnrate/devstack';

const root = fileURLToPath(new URL('..', import.meta.url));
const pidFile = join(root, '.burnrate/dev/kafka/broker.pid');
const [command = 'status'] = process.argv.slice(2);

if (command === 'up') {
  try {
    const stack = await startLocalStack({
      rootDir: root,
      name: 'dev',
      kafkaPort: Number(process.env.KAFKA_PORT ?? 9092),
      kafkaControllerPort: Number(process.env.KAFKA_CONTROLLER_PORT ?? 9093),
      redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      redisPort: 6380,
      log: (m) => console.log(`[stack] ${m}`),
    });
    console.log(
      `[stack] up: KAFKA_BROKERS=${stack.kafkaBrokers} REDIS_URL=${stack.redisUrl} (stop with: npm run stack -- down)`,
    );
    process.exit(0);
  } catch (error) {
    console.error(`[stack] ${describeStackFailure(error)}`);
    process.exit(1);
  }
} else if (command === 'down') {
  const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : 0;
  if (pid > 0 && isAlive(pid)) await terminate(pid, 30_000);
  console.log('[stack] down');
} else {
  const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : 0;
  console.log(pid > 0 && isAlive(pid) ? `[stack] Kafka running (pid ${pid})` : '[stack] Kafka not running');
}
