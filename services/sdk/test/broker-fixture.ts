import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { ensureKafkaJars, type KafkaBroker, StackError, startKafkaBroker } from '../../devstack/src/index.js';

/**
 * A Kafka broker of the test's own, so it can be stopped and restarted without disturbing the
 * shared one: own data directory, random high ports, restartable on the same data.
 */
export interface OwnBroker {
  readonly brokers: string;
  stop(): Promise<void>;
  /** Starts the broker again on the same data directory and ports. */
  restart(): Promise<void>;
  /** Stops the broker and deletes its data directory. */
  destroy(): Promise<void>;
}

export async function startOwnBroker(): Promise<OwnBroker> {
  const rootDir = inject('rootDir');
  const libsDir =
    inject('kafkaLibsDir') || (await ensureKafkaJars({ pomPath: join(rootDir, 'infra/kafka/pom.xml') }));
  const dataDir = mkdtempSync(join(tmpdir(), 'sdk-broker-'));
  const log4jConfigPath = join(rootDir, 'infra/kafka/log4j2.properties');
  let broker: KafkaBroker | undefined;
  let port = 0;
  for (let attempt = 0; !broker; attempt++) {
    port = 40_000 + Math.floor(Math.random() * 10_000) * 2;
    try {
      broker = await startKafkaBroker({
        libsDir,
        log4jConfigPath,
        dataDir,
        port,
        controllerPort: port + 1,
        fresh: true,
      });
    } catch (error) {
      if (!(error instanceof StackError && error.code === 'port_in_use') || attempt >= 5) throw error;
    }
  }
  const start = () => startKafkaBroker({ libsDir, log4jConfigPath, dataDir, port, controllerPort: port + 1 });
  return {
    brokers: broker.brokers,
    stop: async () => broker?.stop(),
    restart: async () => {
      await broker?.stop();
      broker = await start();
    },
    destroy: async () => {
      await broker?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
