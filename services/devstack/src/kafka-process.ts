import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import { isAlive, terminate } from './process.js';

/** What every Kafka JVM of the local stack is started with. */
export interface KafkaJvmOptions {
  /** Jars from ensureKafkaJars(). */
  libsDir: string;
  /** infra/kafka/log4j2.properties */
  log4jConfigPath: string;
  /** Where the JVM writes server.log. */
  logsDir: string;
  heapMb?: number;
}

/** Runs a Kafka main class detached (Ctrl-C in a terminal must not stop a broker before the roles). */
export function kafkaJava(o: KafkaJvmOptions, mainClass: string, args: string[], out: number): ChildProcess {
  return spawn(
    'java',
    [
      `-Xmx${o.heapMb ?? 512}m`,
      '-XX:+UseG1GC',
      '-Djava.awt.headless=true',
      `-Dlog4j2.configurationFile=${o.log4jConfigPath}`,
      `-Dkafka.logs.dir=${o.logsDir}`,
      '-cp',
      `${o.libsDir}/*`,
      mainClass,
      ...args,
    ],
    { detached: true, stdio: ['ignore', out, out] },
  );
}

export function exitCodeOf(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    child.once('error', () => resolve(127));
    child.once('exit', (code) => resolve(code ?? 1));
  });
}

/** The cluster as the brokers describe it, or undefined when they do not answer (one try, no retries). */
export async function describeClusterOnce(
  brokers: string,
): Promise<{ brokers: Array<{ nodeId: number }>; controller: number | null } | undefined> {
  const admin = new Kafka({
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
  }).admin();
  try {
    await admin.connect();
    return await admin.describeCluster();
  } catch {
    return undefined;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/** True when the brokers answer a metadata request with at least `minBrokers` brokers and a controller. */
export async function answersMetadata(brokers: string, minBrokers = 1): Promise<boolean> {
  const cluster = await describeClusterOnce(brokers);
  return cluster !== undefined && cluster.brokers.length >= minBrokers && cluster.controller !== null;
}

/** A broker left behind by a killed run would hold the ports and the data directory lock. */
export async function stopStaleBroker(pidFile: string): Promise<void> {
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
