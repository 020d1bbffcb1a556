import { join } from 'node:path';
import { StackError } from './errors.js';
import { startKafkaBroker } from './kafka-broker.js';
import { startKafkaCluster } from './kafka-cluster.js';
import { ensureKafkaJars } from './kafka-jars.js';
import { canConnect } from './process.js';
import { ensureRedis } from './redis.js';

export interface LocalStackOptions {
  /** The repository root (holds infra/ and .burnrate/). */
  rootDir: string;
  /** Name of the state folder under .burnrate/ (e.g. 'dev' or 'test'). */
  name: string;
  /** Use this broker instead of starting one. */
  kafkaBrokers?: string | undefined;
  kafkaPort: number;
  kafkaControllerPort: number;
  /**
   * 1 (default): one broker on kafkaPort. More: a KRaft cluster of that many nodes, node i (0-based)
   * on kafkaPort + 2i and kafkaControllerPort + 2i, topics with 3 replicas and min.insync.replicas 2.
   */
  kafkaNodes?: number;
  redisUrl: string;
  /** Port for a redis-server we start when `redisUrl` does not answer. */
  redisPort: number;
  freshKafka?: boolean;
  log: (message: string) => void;
}

export interface LocalStack {
  kafkaBrokers: string;
  redisUrl: string;
  stateDir: string;
  kafkaLibsDir: string | undefined;
  /** Stops what this stack started, in reverse order. Idempotent. */
  stop(): Promise<void>;
}

/** Brings up Kafka and Redis for development or tests, reusing what is already reachable. */
export async function startLocalStack(o: LocalStackOptions): Promise<LocalStack> {
  const stateDir = join(o.rootDir, '.burnrate', o.name);
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const s of stops.splice(0).reverse()) await s();
  };
  try {
    const redis = await ensureRedis({ url: o.redisUrl, dataDir: join(stateDir, 'redis'), port: o.redisPort });
    stops.push(redis.stop);
    o.log(redis.started ? `Started redis-server at ${redis.url}` : `Using Redis at ${redis.url}`);

    let kafkaBrokers = o.kafkaBrokers;
    let kafkaLibsDir: string | undefined;
    if (kafkaBrokers) {
      const [host, port] = (kafkaBrokers.split(',')[0] ?? '').split(':');
      if (!(await canConnect(host ?? '127.0.0.1', Number(port)))) {
        throw new StackError(
          'kafka_unreachable',
          `KAFKA_BROKERS is set to ${kafkaBrokers} but nothing answers there: start that broker or unset KAFKA_BROKERS to let burnrate start one.`,
        );
      }
      o.log(`Using Kafka at ${kafkaBrokers}`);
    } else {
      kafkaLibsDir = await ensureKafkaJars({ pomPath: join(o.rootDir, 'infra/kafka/pom.xml'), log: o.log });
      const nodes = o.kafkaNodes ?? 1;
      const common = {
        libsDir: kafkaLibsDir,
        log4jConfigPath: join(o.rootDir, 'infra/kafka/log4j2.properties'),
        port: o.kafkaPort,
        controllerPort: o.kafkaControllerPort,
        fresh: o.freshKafka ?? false,
      };
      if (nodes > 1) {
        o.log(`Starting a ${nodes}-node Kafka cluster from 127.0.0.1:${o.kafkaPort}…`);
        const cluster = await startKafkaCluster({
          ...common,
          size: nodes,
          dataDir: join(stateDir, 'kafka-cluster'),
        });
        stops.push(cluster.stop);
        kafkaBrokers = cluster.brokers;
      } else {
        o.log(`Starting Kafka on 127.0.0.1:${o.kafkaPort}…`);
        const broker = await startKafkaBroker({ ...common, dataDir: join(stateDir, 'kafka') });
        stops.push(broker.stop);
        kafkaBrokers = broker.brokers;
      }
      o.log(`Kafka is ready at ${kafkaBrokers}`);
    }
    return { kafkaBrokers, redisUrl: redis.url, stateDir, kafkaLibsDir, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
