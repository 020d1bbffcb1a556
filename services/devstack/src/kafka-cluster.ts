import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { StackError } from './errors.js';
import { requireJava } from './kafka-jars.js';
import {
  answersMetadata,
  describeClusterOnce,
  exitCodeOf,
  kafkaJava,
  stopStaleBroker,
} from './kafka-process.js';
import { canConnect, isAlive, tailFile, terminate, waitFor } from './process.js';

export interface KafkaClusterOptions {
  /** Jars from ensureKafkaJars(). */
  libsDir: string;
  /** infra/kafka/log4j2.properties */
  log4jConfigPath: string;
  /** Holds one directory per node (`node-1`, …): log segments, config, pid file and logs. */
  dataDir: string;
  /** Nodes (each a broker and a controller); 3 unless given. */
  size?: number;
  /** Node i (0-based) listens for clients on `port + 2i`… */
  port: number;
  /** …and for the controller quorum on `controllerPort + 2i`. */
  controllerPort: number;
  /** Wipe the data directory before starting. */
  fresh?: boolean;
  heapMb?: number;
  readyTimeoutMs?: number;
}

export interface KafkaClusterNode {
  /** node.id, 1-based. */
  id: number;
  /** `127.0.0.1:<port>` */
  address: string;
  pid(): number | undefined;
  running(): boolean;
  /** Starts the node again on its data directory; resolves once the cluster lists it as a broker. */
  start(): Promise<void>;
  /** SIGKILL, then waits until the process is gone. */
  kill(): Promise<void>;
  /** SIGTERM (controlled shutdown: leadership moves first), SIGKILL after a grace period. */
  stop(): Promise<void>;
}

export interface KafkaCluster {
  /** Bootstrap list of every node, comma-separated. */
  brokers: string;
  nodes: KafkaClusterNode[];
  node(id: number): KafkaClusterNode;
  /** node.id of the leader of `topic`/`partition` (-1 while there is none). */
  leaderOf(topic: string, partition: number): Promise<number>;
  /** Partitions of `topics` (all when omitted) whose in-sync replicas are fewer than their replicas. */
  underReplicated(topics?: string[]): Promise<number>;
  /** Stops every node (gracefully, then SIGKILL). Idempotent. */
  stop(): Promise<void>;
}

const CLUSTER_ID = 'burnrate-local-kafka3';

interface NodePorts {
  id: number;
  port: number;
  controllerPort: number;
}

function nodeProperties(n: NodePorts, all: NodePorts[], dir: string): string {
  const replicas = Math.min(3, all.length);
  const minIsr = Math.max(1, replicas - 1);
  return [
    // Combined mode: every node is a broker and a quorum voter. Three voters keep a quorum with one
    // node down, which is what the chaos scenarios take away (one node at a time).
    'process.roles=broker,controller',
    `node.id=${n.id}`,
    `controller.quorum.voters=${all.map((v) => `${v.id}@127.0.0.1:${v.controllerPort}`).join(',')}`,
    `listeners=PLAINTEXT://127.0.0.1:${n.port},CONTROLLER://127.0.0.1:${n.controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${n.port}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'inter.broker.listener.name=PLAINTEXT',
    `log.dirs=${join(dir, 'log')}`,
    'num.partitions=4',
    'auto.create.topics.enable=false',
    // Topics created without a replication factor (and the internal ones) get three replicas, and an
    // acks=all write needs two of them: one node can die without losing an acknowledged record.
    `default.replication.factor=${replicas}`,
    `min.insync.replicas=${minIsr}`,
    'unclean.leader.election.enable=false',
    `offsets.topic.replication.factor=${replicas}`,
    'offsets.topic.num.partitions=8',
    `transaction.state.log.replication.factor=${replicas}`,
    `transaction.state.log.min.isr=${minIsr}`,
    'transaction.state.log.num.partitions=8',
    `share.coordinator.state.topic.replication.factor=${replicas}`,
    `share.coordinator.state.topic.min.isr=${minIsr}`,
    'group.initial.rebalance.delay.ms=0',
    // A killed node is noticed in 6 s (default 9 s) and its partitions get new leaders.
    'broker.session.timeout.ms=6000',
    'broker.heartbeat.interval.ms=1000',
    // A restarted node takes its preferred leaderships back within 30 s (default 300 s).
    'leader.imbalance.check.interval.seconds=30',
    '',
  ].join('\n');
}

/**
 * Starts a KRaft cluster of `size` (default 3) nodes on 127.0.0.1 from the same Maven Central jars as
 * the single broker, and resolves once every node is registered as a broker. Each node is a broker
 * and a controller (combined mode); topics default to min(3, size) replicas with
 * min.insync.replicas = replicas - 1.
 */
export async function startKafkaCluster(o: KafkaClusterOptions): Promise<KafkaCluster> {
  requireJava();
  const size = o.size ?? 3;
  const ports: NodePorts[] = Array.from({ length: size }, (_, i) => ({
    id: i + 1,
    port: o.port + 2 * i,
    controllerPort: o.controllerPort + 2 * i,
  }));
  const clientPorts = new Set(ports.map((p) => p.port));
  if (ports.some((p) => clientPorts.has(p.controllerPort))) {
    throw new StackError(
      'port_overlap',
      `The cluster's client ports (${o.port}, +2, …) and controller ports (${o.controllerPort}, +2, …) overlap: use an odd offset between them, e.g. KAFKA_CONTROLLER_PORT = KAFKA_PORT + 1.`,
    );
  }
  for (const n of ports) await stopStaleBroker(join(o.dataDir, `node-${n.id}`, 'broker.pid'));
  if (o.fresh) rmSync(o.dataDir, { recursive: true, force: true });
  for (const n of ports) {
    for (const port of [n.port, n.controllerPort]) {
      if (await canConnect('127.0.0.1', port)) {
        throw new StackError(
          'port_in_use',
          `Port ${port} on 127.0.0.1 is already in use, so Kafka node ${n.id} cannot listen on it: stop what holds it (ss -ltnp 'sport = :${port}') or choose other ports (KAFKA_PORT / KAFKA_CONTROLLER_PORT).`,
        );
      }
    }
  }
  const brokers = ports.map((p) => `127.0.0.1:${p.port}`).join(',');
  const nodes = ports.map((n) => clusterNode(o, n, ports, brokers));
  await Promise.all(nodes.map((n) => n.format()));
  const readyMs = o.readyTimeoutMs ?? 120_000;
  try {
    await Promise.all(nodes.map((n) => n.launch()));
    await waitFor(
      async () => {
        const dead = nodes.find((n) => n.exited !== undefined);
        if (dead) throw dead.exitError();
        return answersMetadata(brokers, size);
      },
      readyMs,
      () =>
        new StackError(
          'kafka_not_ready',
          `The ${size}-node Kafka cluster did not become ready on ${brokers} within ${Math.round(readyMs / 1000)} s; the tail of node 1's log follows.`,
          nodes[0]!.logTail(),
        ),
      500,
    );
  } catch (error) {
    await Promise.all(nodes.map((n) => n.stop()));
    throw error;
  }

  const admin = () =>
    new Kafka({ brokers: brokers.split(','), logLevel: logLevel.NOTHING, retry: { retries: 2 } }).admin();
  async function withAdmin<T>(fn: (a: ReturnType<typeof admin>) => Promise<T>): Promise<T> {
    const a = admin();
    await a.connect();
    try {
      return await fn(a);
    } finally {
      await a.disconnect().catch(() => {});
    }
  }
  let stopped = false;
  return {
    brokers,
    nodes,
    node(id) {
      const n = nodes.find((x) => x.id === id);
      if (!n) throw new Error(`no Kafka node ${id}`);
      return n;
    },
    leaderOf: (topic, partition) =>
      withAdmin(async (a) => {
        const meta = await a.fetchTopicMetadata({ topics: [topic] });
        return meta.topics[0]?.partitions.find((p) => p.partitionId === partition)?.leader ?? -1;
      }),
    underReplicated: (topics) =>
      withAdmin(async (a) => {
        const names = topics ?? (await a.listTopics());
        const meta = await a.fetchTopicMetadata({ topics: names });
        return meta.topics
          .flatMap((t) => t.partitions)
          .filter((p) => p.isr.length < p.replicas.length || p.leader < 0).length;
      }),
    async stop() {
      if (stopped) return;
      stopped = true;
      await Promise.all(nodes.map((n) => n.stop()));
    },
  };
}

function clusterNode(o: KafkaClusterOptions, n: NodePorts, all: NodePorts[], brokers: string) {
  const dir = join(o.dataDir, `node-${n.id}`);
  const pidFile = join(dir, 'broker.pid');
  const propsPath = join(dir, 'server.properties');
  const stdoutPath = join(dir, 'stdout.log');
  const jvm = { ...o, logsDir: dir };
  let child: ChildProcess | undefined;
  const node = {
    id: n.id,
    address: `127.0.0.1:${n.port}`,
    exited: undefined as number | undefined,
    pid: () => child?.pid,
    running: () => child?.pid !== undefined && node.exited === undefined && isAlive(child.pid),
    logTail: () => [tailFile(join(dir, 'server.log'), 15), tailFile(stdoutPath, 5)].join('\n'),
    exitError: () =>
      new StackError(
        'kafka_exited',
        `Kafka node ${n.id} exited with code ${node.exited} before it was ready; the tail of its log follows (${dir}/server.log).`,
        node.logTail(),
      ),
    async format() {
      mkdirSync(dir, { recursive: true });
      writeFileSync(propsPath, nodeProperties(n, all, dir));
      if (existsSync(join(dir, 'log', 'meta.properties'))) return;
      const out = openSync(stdoutPath, 'a');
      const code = await exitCodeOf(
        kafkaJava(jvm, 'kafka.tools.StorageTool', ['format', '-t', CLUSTER_ID, '-c', propsPath], out),
      );
      if (code !== 0) {
        throw new StackError(
          'kafka_format_failed',
          `Formatting the storage of Kafka node ${n.id} in ${dir} failed (exit code ${code}); delete that directory and try again.`,
          tailFile(stdoutPath),
        );
      }
    },
    /** Spawns the JVM without waiting for it to be ready. */
    async launch() {
      if (node.running()) return;
      const out = openSync(stdoutPath, 'a');
      const c = kafkaJava(jvm, 'kafka.Kafka', [propsPath], out);
      child = c;
      node.exited = undefined;
      writeFileSync(pidFile, String(c.pid ?? -1));
      void exitCodeOf(c).then((code) => {
        if (child === c) node.exited = code;
      });
    },
    async start() {
      await node.launch();
      const readyMs = o.readyTimeoutMs ?? 120_000;
      await waitFor(
        async () => {
          if (node.exited !== undefined) throw node.exitError();
          return (await canConnect('127.0.0.1', n.port)) && (await registered(brokers, n.id));
        },
        readyMs,
        () =>
          new StackError(
            'kafka_not_ready',
            `Kafka node ${n.id} did not rejoin the cluster within ${Math.round(readyMs / 1000)} s; the tail of its log follows.`,
            node.logTail(),
          ),
        500,
      );
    },
    async kill() {
      const pid = child?.pid;
      if (pid === undefined || !isAlive(pid)) return;
      // A plain SIGKILL (no SIGTERM first): the node gets no chance to hand over leadership.
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
      await terminate(pid, 10_000);
      rmSync(pidFile, { force: true });
    },
    async stop() {
      await node.end(30_000);
    },
    async end(graceMs: number) {
      const pid = child?.pid;
      if (pid === undefined) return;
      await terminate(pid, graceMs);
      rmSync(pidFile, { force: true });
    },
  };
  return node;
}

/** True when the cluster's metadata lists node `id` as a live broker. */
async function registered(brokers: string, id: number): Promise<boolean> {
  return (await describeClusterOnce(brokers))?.brokers.some((b) => b.nodeId === id) ?? false;
}
