// `npm run stack -- up|down|status`: the local Kafka (and redis-server if needed) in the background,
// for benchmarks and for running roles by hand. `npm start` does this itself.
// KAFKA_NODES=3 starts a 3-node KRaft cluster instead of one broker (docs/reliability.md).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeStackFailure, isAlive, startLocalStack, terminate } from '@burnrate/devstack';

const root = fileURLToPath(new URL('..', import.meta.url));
const [command = 'status'] = process.argv.slice(2);

/** Pids of the brokers `up` started: the single broker's, or every cluster node's. */
function brokerPids(): number[] {
  const clusterDir = join(root, '.burnrate/dev/kafka-cluster');
  const files = [join(root, '.burnrate/dev/kafka/broker.pid')];
  if (existsSync(clusterDir)) {
    for (const node of readdirSync(clusterDir)) files.push(join(clusterDir, node, 'broker.pid'));
  }
  return files
    .filter((f) => existsSync(f))
    .map((f) => Number(readFileSync(f, 'utf8')))
    .filter((pid) => pid > 0 && isAlive(pid));
}

if (command === 'up') {
  try {
    const stack = await startLocalStack({
      rootDir: root,
      name: 'dev',
      kafkaPort: Number(process.env.KAFKA_PORT ?? 9092),
      kafkaControllerPort: Number(process.env.KAFKA_CONTROLLER_PORT ?? 9093),
      kafkaNodes: Number(process.env.KAFKA_NODES ?? 1),
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
  await Promise.all(brokerPids().map((pid) => terminate(pid, 30_000)));
  console.log('[stack] down');
} else {
  const pids = brokerPids();
  console.log(
    pids.length > 0 ? `[stack] Kafka running (pids ${pids.join(', ')})` : '[stack] Kafka not running',
  );
}
