import { existsSync, mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StackError } from './errors.js';
import { requireJava } from './kafka-jars.js';
import { answersMetadata, exitCodeOf, kafkaJava, stopStaleBroker } from './kafka-process.js';
import { canConnect, tailFile, terminate, waitFor } from './process.js';

export interface KafkaBrokerOptions {
  /** Jars from ensureKafkaJars(). */
  libsDir: string;
  /** infra/kafka/log4j2.properties */
  log4jConfigPath: string;
  /** Holds the broker's log segments, config, pid file and logs. */
  dataDir: string;
  port: number;
  controllerPort: number;
  /** Wipe the data directory before starting (tests want a clean broker). */
  fresh?: boolean;
  heapMb?: number;
  readyTimeoutMs?: number;
}

export interface KafkaBroker {
  brokers: string;
  pid: number;
  /** Graceful stop (SIGTERM, then SIGKILL after a grace period). Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL: for fault-injection tests. */
  kill(): Promise<void>;
}

const CLUSTER_ID = 'burnrate-local-kafka1';

function serverProperties(o: KafkaBrokerOptions): string {
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${o.controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${o.port},CONTROLLER://127.0.0.1:${o.controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${o.port}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'inter.broker.listener.name=PLAINTEXT',
    `log.dirs=${join(o.dataDir, 'log')}`,
    'num.partitions=4',
    'auto.create.topics.enable=false',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=8',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=8',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    '',
  ].join('\n');
}

/** Starts a single-node KRaft broker on 127.0.0.1 and resolves once it answers metadata requests. */
export async function startKafkaBroker(o: KafkaBrokerOptions): Promise<KafkaBroker> {
  requireJava();
  const pidFile = join(o.dataDir, 'broker.pid');
  await stopStaleBroker(pidFile);
  if (o.fresh) rmSync(o.dataDir, { recursive: true, force: true });
  mkdirSync(o.dataDir, { recursive: true });
  for (const port of [o.port, o.controllerPort]) {
    if (await canConnect('127.0.0.1', port)) {
      throw new StackError(
        'port_in_use',
        `Port ${port} on 127.0.0.1 is already in use, so the local Kafka broker cannot listen on it: stop what holds it (ss -ltnp 'sport = :${port}') or choose other ports (KAFKA_PORT / KAFKA_CONTROLLER_PORT).`,
      );
    }
  }
  const propsPath = join(o.dataDir, 'server.properties');
  writeFileSync(propsPath, serverProperties(o));
  const stdoutPath = join(o.dataDir, 'stdout.log');
  const jvm = { ...o, logsDir: o.dataDir };
  const out = openSync(stdoutPath, 'a');

  if (!existsSync(join(o.dataDir, 'log', 'meta.properties'))) {
    const code = await exitCodeOf(
      kafkaJava(jvm, 'kafka.tools.StorageTool', ['format', '-t', CLUSTER_ID, '-c', propsPath], out),
    );
    if (code !== 0) {
      throw new StackError(
        'kafka_format_failed',
        `Formatting the Kafka storage in ${o.dataDir} failed (exit code ${code}); delete that directory and try again.`,
        tailFile(stdoutPath),
      );
    }
  }

  const child = kafkaJava(jvm, 'kafka.Kafka', [propsPath], out);
  const pid = child.pid ?? -1;
  writeFileSync(pidFile, String(pid));
  let exited: number | undefined;
  void exitCodeOf(child).then((code) => {
    exited = code;
  });
  const brokers = `127.0.0.1:${o.port}`;
  const logTail = () => [tailFile(join(o.dataDir, 'server.log'), 15), tailFile(stdoutPath, 5)].join('\n');
  try {
    await waitFor(
      async () => {
        if (exited !== undefined) {
          throw new StackError(
            'kafka_exited',
            `The Kafka broker exited with code ${exited} before it was ready; the tail of its log follows (${o.dataDir}/server.log).`,
            logTail(),
          );
        }
        return (await canConnect('127.0.0.1', o.port)) && (await answersMetadata(brokers));
      },
      o.readyTimeoutMs ?? 60_000,
      () =>
        new StackError(
          'kafka_not_ready',
          `The Kafka broker did not become ready on ${brokers} within ${Math.round((o.readyTimeoutMs ?? 60_000) / 1000)} s; the tail of its log follows.`,
          logTail(),
        ),
      300,
    );
  } catch (error) {
    await terminate(pid, 5_000);
    throw error;
  }

  let stopped = false;
  const finish = async (graceMs: number) => {
    if (stopped) return;
    stopped = true;
    await terminate(pid, graceMs);
    rmSync(pidFile, { force: true });
  };
  return { brokers, pid, stop: () => finish(30_000), kill: () => finish(0) };
}
