import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { StackError } from './errors.js';
import { requireJava } from './kafka-jars.js';
import { canConnect, isAlive, tailFile, terminate, waitFor } from './process.js';

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

function java(o: KafkaBrokerOptions, mainClass: string, args: string[], out: number): ChildProcess {
  return spawn(
    'java',
    [
      `-Xmx${o.heapMb ?? 512}m`,
      '-XX:+UseG1GC',
      '-Djava.awt.headless=true',
      `-Dlog4j2.configurationFile=${o.log4jConfigPath}`,
      `-Dkafka.logs.dir=${o.dataDir}`,
      '-cp',
      `${o.libsDir}/*`,
      mainClass,
      ...args,
    ],
    // Detached: Ctrl-C in a terminal must not stop the broker before the roles have committed.
    { detached: true, stdio: ['ignore', out, out] },
  );
}

function exitCode(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    child.once('error', () => resolve(127));
    child.once('exit', (code) => resolve(code ?? 1));
  });
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
  const out = openSync(stdoutPath, 'a');

  if (!existsSync(join(o.dataDir, 'log', 'meta.properties'))) {
    const code = await exitCode(
      java(o, 'kafka.tools.StorageTool', ['format', '-t', CLUSTER_ID, '-c', propsPath], out),
    );
    if (code !== 0) {
      throw new StackError(
        'kafka_format_failed',
        `Formatting the Kafka storage in ${o.dataDir} failed (exit code ${code}); delete that directory and try again.`,
        tailFile(stdoutPath),
      );
    }
  }

  const child = java(o, 'kafka.Kafka', [propsPath], out);
  const pid = child.pid ?? -1;
  writeFileSync(pidFile, String(pid));
  let exited: number | undefined;
  void exitCode(child).then((code) => {
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

async function answersMetadata(brokers: string): Promise<boolean> {
  const admin = new Kafka({ brokers: [brokers], logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0 && cluster.controller !== null;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/** A broker left behind by a killed run would hold the ports and the data directory lock. */
async function stopStaleBroker(pidFile: string): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8'));
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid) && isKafkaProcess(pid)) await terminate(pid, 20_000);
  rmSync(pidFile, { force: true });
}

function isKafkaProcess(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('kafka.Kafka');
  } catch {
    return false;
  }
}
