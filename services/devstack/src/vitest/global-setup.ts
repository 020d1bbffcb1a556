import { fileURLToPath } from 'node:url';
import './provided-context.js';
import type { TestProject } from 'vitest/node';
import { describeStackFailure } from '../errors.js';
import { startLocalStack } from '../stack.js';

const rootDir = fileURLToPath(new URL('../../../../', import.meta.url));

/**
 * Brings up the real stack the integration tests run against: a fresh single-node Kafka on test
 * ports (or KAFKA_BROKERS) and Redis (REDIS_URL, else a redis-server of our own).
 */
export default async function setup(project: TestProject) {
  try {
    const stack = await startLocalStack({
      rootDir,
      name: 'test',
      kafkaBrokers: process.env.KAFKA_BROKERS,
      kafkaPort: Number(process.env.TEST_KAFKA_PORT ?? 39092),
      kafkaControllerPort: Number(process.env.TEST_KAFKA_CONTROLLER_PORT ?? 39093),
      redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      redisPort: 36379,
      freshKafka: true,
      log: (m) => console.log(`[stack] ${m}`),
    });
    project.provide('kafkaBrokers', stack.kafkaBrokers);
    project.provide('redisUrl', stack.redisUrl);
    project.provide('kafkaLibsDir', stack.kafkaLibsDir ?? '');
    project.provide('rootDir', rootDir);
    return () => stack.stop();
  } catch (error) {
    throw new Error(`The test stack could not start: ${describeStackFailure(error)}`);
  }
}
