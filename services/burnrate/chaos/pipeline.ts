import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateWebhookSecret } from '@burnrate/core';
import type { KafkaCluster, ScratchRedis } from '@burnrate/devstack';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { type ClickHouseClient, createClickHouseClient } from '../src/clickhouse/client.js';
import { createKafka } from '../src/kafka/client.js';
import { ensureTopics, type TopicNames, topicNames, whileTopicPropagates } from '../src/kafka/topics.js';
import { aggregateKeys } from '../src/redis/aggregate-keys.js';
import { publishCustomers } from '../src/roles/customers-publisher.js';
import { bullPrefix } from '../src/runtime/alerting-roles.js';
import { CHAOS_CATALOG, customerRecords, type EventPlan, rulesYaml } from './event-plan.js';
import { type Figures, formatFigures, mismatches, readFigures, redisTotals } from './figures.js';
import { type Load, type LoadResult, startLoad } from './load.js';
import { type RoleProcess, startRoleProcess } from './role-process.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';
import { type ChaosReceiver, startChaosReceiver } from './webhook-receiver.js';

/** What every scenario of one chaos run shares: the cluster, a Redis of its own, ports, a log. */
export interface ChaosRun {
  rootDir: string;
  /** Per-run state: one folder per scenario (chDB data, role logs, rules and prices files). */
  stateDir: string;
  cluster: KafkaCluster;
  redis: ScratchRedis;
  /** Ports for the next pipeline (its ClickHouse and the proxy in front of it), different from the last 15 pipelines'. */
  nextPorts(): { clickhouse: number; proxy: number };
  log(line: string): void;
}

export type RoleName = 'clickhouse' | 'enricher' | 'ledger' | 'aggregator' | 'notifier';

export interface PipelineOptions {
  /** Scenario name, also in the topic prefix and the state folder. */
  name: string;
  plan: EventPlan;
  /** The negative control: a guarantee switched off (by `env`, `roleEnv` or the load's options). */
  control: boolean;
  enrichers?: number;
  ledgers?: number;
  /** Settings for every role process (the negative controls switch a guarantee off here). */
  env?: Record<string, string>;
  /** Settings for one kind of role. */
  roleEnv?: Partial<Record<RoleName, Record<string, string>>>;
  /** Replicas of the scenario's topics; the cluster's default (3, min.insync.replicas 2) unless given. */
  replicationFactor?: number;
}

export interface Pipeline {
  name: string;
  control: boolean;
  prefix: string;
  topics: TopicNames;
  dir: string;
  receiver: ChaosReceiver;
  /** ClickHouse as the roles reach it: through this proxy, which a scenario may cut. */
  proxy: TcpProxy;
  /** Role processes by kind (the clickhouse role first). */
  roles: Record<RoleName, RoleProcess[]>;
  all(): RoleProcess[];
  startLoad(ratePerSecond: number, options?: { maxAttempts?: number }): Load;
  /** Facts stored so far, and events counted in Redis so far (-1 when it cannot be read). */
  progress(): Promise<{ facts: number; redisEvents: number }>;
  /**
   * Polls until every figure is exact (then once more after a settle time) or stops changing while
   * the pipeline is settled: every role running, every group at the log end, nothing waiting in Redis.
   */
  drain(
    load: LoadResult,
    timeoutMs?: number,
    stableMs?: number,
  ): Promise<{ figures: Figures; off: string[]; settled: boolean }>;
  stop(): Promise<void>;
}

const silent = pino({ level: 'silent' });

/**
 * Starts one scenario's pipeline: topics (replicated on the cluster), customers, an embedded
 * ClickHouse owned by its own `clickhouse` role process behind a TCP proxy, and every other role as
 * its own supervised `burnrate run` process, all on a fresh topic and Redis key prefix.
 */
export async function startPipeline(run: ChaosRun, o: PipelineOptions): Promise<Pipeline> {
  const prefix = `chaos-${o.name}-${Date.now().toString(36)}.`;
  const dir = join(run.stateDir, o.name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const topics = topicNames(prefix);
  const kafka = createKafka({ brokers: run.cluster.brokers.split(','), clientId: 'chaos', logger: silent });
  await ensureTopics(kafka, topics, { partitions: 4, replicationFactor: o.replicationFactor });
  // Brokers learn of new topics a moment apart; pipelines starting together make that moment longer.
  await whileTopicPropagates(
    () => publishCustomers(kafka, topics.customers, customerRecords(o.plan)),
    60_000,
  );

  const secret = generateWebhookSecret();
  const ports = run.nextPorts();
  const receiver = await startChaosReceiver(0, [secret]);
  const rulesFile = join(dir, 'alerting.yaml');
  writeFileSync(rulesFile, rulesYaml(receiver.url));
  const pricesFile = join(dir, 'prices.json');
  writeFileSync(pricesFile, JSON.stringify(CHAOS_CATALOG, null, 2));
  const proxy = await startTcpProxy(ports.proxy, ports.clickhouse);
  const database = 'burnrate';
  const common: Record<string, string> = {
    KAFKA_BROKERS: run.cluster.brokers,
    KAFKA_CLIENT_ID: `chaos-${o.name}`,
    BURNRATE_TOPIC_PREFIX: prefix,
    REDIS_URL: run.redis.url,
    CLICKHOUSE_DATABASE: database,
    BURNRATE_PRICES_FILE: pricesFile,
    BURNRATE_RULES_FILE: rulesFile,
    CHAOS_WEBHOOK_SECRET: secret,
    NOTIFIER_ALLOWED_NETWORKS: '127.0.0.1/32',
    // A dead or frozen instance loses its partitions within 10 s.
    ENRICHER_SESSION_TIMEOUT_MS: '10000',
    LEDGER_SESSION_TIMEOUT_MS: '10000',
    AGGREGATOR_SESSION_TIMEOUT_MS: '10000',
    NOTIFIER_LOCK_MS: '5000',
    RELAY_CLAIM_MS: '5000',
    NOTIFIER_BACKOFF_BASE_MS: '500',
    NOTIFIER_BACKOFF_MAX_MS: '10000',
    // With at most 10 s between attempts, 40 attempts outlast a receiver failing for 2 minutes.
    NOTIFIER_ATTEMPTS: '40',
    LEDGER_RETRY_LOG_INTERVAL_MS: '2000',
    SHUTDOWN_TIMEOUT_MS: '10000',
    ...o.env,
  };
  const role = (kind: RoleName, index: number, env: Record<string, string>) =>
    startRoleProcess({
      name: `${kind}-${index + 1}`,
      rootDir: run.rootDir,
      logPath: join(dir, 'logs', `${kind}-${index + 1}.log`),
      env: { ...env, ...o.roleEnv?.[kind], BURNRATE_ROLES: kind },
    });
  const { CLICKHOUSE_URL: _unused, ...clickhouseEnv } = common;
  const roles: Record<RoleName, RoleProcess[]> = {
    clickhouse: [
      role('clickhouse', 0, {
        ...clickhouseEnv,
        BURNRATE_DATA_DIR: join(dir, 'chdb'),
        CLICKHOUSE_HTTP_PORT: String(ports.clickhouse),
      }),
    ],
    enricher: [],
    ledger: [],
    aggregator: [],
    notifier: [],
  };
  const viaProxy = { ...common, CLICKHOUSE_URL: `http://127.0.0.1:${ports.proxy}` };
  const all = () => Object.values(roles).flat();
  let clickhouse: ClickHouseClient | undefined;
  const loads: Load[] = [];
  const stop = async () => {
    // A load still running (its scenario failed) stops emitting before the roles stop.
    for (const load of loads) load.abort();
    await Promise.all(all().map((p) => p.stop()));
    await clickhouse?.close().catch(() => {});
    await proxy.close();
    await receiver.close();
  };
  try {
    await roles.clickhouse[0]!.ready();
    for (let i = 0; i < (o.enrichers ?? 1); i++) roles.enricher.push(role('enricher', i, viaProxy));
    for (let i = 0; i < (o.ledgers ?? 1); i++) roles.ledger.push(role('ledger', i, viaProxy));
    roles.aggregator.push(role('aggregator', 0, viaProxy));
    roles.notifier.push(role('notifier', 0, viaProxy));
    await Promise.all(all().map((p) => p.ready()));
  } catch (error) {
    await stop();
    throw error;
  }
  // The chaos run reads its figures straight from ClickHouse, never through the proxy it cuts.
  clickhouse = createClickHouseClient({
    kind: 'server',
    url: `http://127.0.0.1:${ports.clickhouse}`,
    username: 'default',
    password: '',
  });
  const ch = clickhouse;

  return {
    name: o.name,
    control: o.control,
    prefix,
    topics,
    dir,
    receiver,
    proxy,
    roles,
    all,
    startLoad: (ratePerSecond, options = {}) => {
      const load = startLoad({
        brokers: run.cluster.brokers,
        topic: topics.events,
        plan: o.plan,
        ratePerSecond,
        ...options,
      });
      loads.push(load);
      return load;
    },
    async progress() {
      const facts = await ch
        .query({ query: `SELECT count() AS n FROM ${database}.usage_events`, format: 'JSONEachRow' })
        .then((rs) => rs.json<{ n: string }>())
        .then((rows) => Number(rows[0]?.n ?? 0))
        .catch(() => -1);
      const redis = await redisTotals(run.redis.url, prefix, o.plan);
      return { facts, redisEvents: redis.events };
    },
    async drain(load, timeoutMs = 300_000, stableMs = 30_000) {
      const admin = kafka.admin();
      await admin.connect();
      const groups: Array<[string, string[]]> = [
        [`${prefix}burnrate-enricher`, [topics.events]],
        [`${prefix}burnrate-ledger`, [topics.enriched, topics.dlq]],
        [`${prefix}burnrate-aggregator`, [topics.enriched]],
      ];
      /** Every group's committed offsets at the log end (a transaction marker or two may follow the last record). */
      const caughtUp = async () => {
        for (const [groupId, names] of groups) {
          const committed = await admin.fetchOffsets({ groupId, topics: names });
          for (const name of names) {
            const high = await admin.fetchTopicOffsets(name);
            const mine = committed.find((c) => c.topic === name)?.partitions ?? [];
            for (const h of high) {
              const at = Number(mine.find((p) => p.partition === h.partition)?.offset ?? -1);
              if (Number(h.high) > 0 && at < Number(h.high) - 2) return false;
            }
          }
        }
        return true;
      };
      const redis = new Redis(run.redis.url, { maxRetriesPerRequest: null });
      redis.on('error', () => {});
      const keys = aggregateKeys(prefix);
      const queues = ['alerts', 'deliveries'].map(
        (name) => new Queue(name, { connection: redis, prefix: bullPrefix(prefix) }),
      );
      /** Nothing waits in Redis: both outboxes handed on (entries are deleted once handled), no job waiting, running or due again. */
      const quiet = async () => {
        if ((await redis.xlen(keys.alertOutbox)) + (await redis.xlen(keys.deliveryOutbox)) > 0) return false;
        for (const q of queues) {
          const counts = await q.getJobCounts(
            'waiting',
            'active',
            'delayed',
            'prioritized',
            'waiting-children',
          );
          if (Object.values(counts).some((n) => n > 0)) return false;
        }
        return true;
      };
      try {
        return await drainFigures(load, timeoutMs, stableMs, async () => {
          if (!all().every((p) => p.isRunning())) return false;
          return (await caughtUp().catch(() => false)) && (await quiet().catch(() => false));
        });
      } finally {
        await admin.disconnect().catch(() => {});
        await Promise.all(queues.map((q) => q.close().catch(() => {})));
        redis.disconnect();
      }
    },
    stop,
  };

  async function drainFigures(
    load: LoadResult,
    timeoutMs: number,
    stableMs: number,
    settled: () => Promise<boolean>,
  ): Promise<{ figures: Figures; off: string[]; settled: boolean }> {
    const read = () =>
      readFigures({
        clickhouse: ch,
        database,
        redisUrl: run.redis.url,
        prefix,
        plan: o.plan,
        load,
        receiver,
      });
    const deadline = Date.now() + timeoutMs;
    let last: Figures | undefined;
    let lastKey = '';
    let unchangedSince = Date.now();
    for (;;) {
      const figures = await read().catch(() => undefined);
      if (figures) {
        if (mismatches(figures).length === 0) {
          // Exact: wait a little for anything late (a zombie's write, a repeated delivery), then judge.
          await new Promise((r) => setTimeout(r, 5_000));
          const final = (await read().catch(() => undefined)) ?? figures;
          return { figures: final, off: mismatches(final), settled: true };
        }
        const key = formatFigures(figures);
        // The clock for "nothing moves" runs only while every role is up and has read everything.
        if (key !== lastKey || !(await settled())) {
          lastKey = key;
          unchangedSince = Date.now();
        }
        last = figures;
        // Not exact and nothing moved for a while: this is where it ends.
        if (Date.now() - unchangedSince > stableMs)
          return { figures, off: mismatches(figures), settled: true };
      }
      if (Date.now() > deadline) {
        if (!last) throw new Error(`${o.name}: no figures could be read within ${timeoutMs} ms`);
        return { figures: last, off: mismatches(last), settled: false };
      }
      await new Promise((r) => setTimeout(r, 2_000));
    }
  }
}
