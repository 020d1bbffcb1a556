import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Kafka } from 'kafkajs';
import { pino } from 'pino';
import { createClickHouseClient } from '../clickhouse/client.js';
import { createClickHouseHttpServer } from '../clickhouse/http/index.js';
import { migrate } from '../clickhouse/migrate.js';
import { createKafka } from '../kafka/client.js';
import { ensureTopics, type TopicNames, topicNames } from '../kafka/topics.js';
import { createKey } from '../roles/api/keys.js';
import { publishCustomers } from '../roles/customers-publisher.js';
import { FUZZ_CUSTOMERS } from './base-events.js';
import { FUZZ_KEY_ID } from './cases.js';

/** The settings the fuzz gives the process under test; expectations are computed from the same. */
export const TARGET_LIMITS = {
  lateHorizonMs: 840 * 3_600_000,
  maxFutureSkewMs: 300_000,
  maxBodyBytes: 1_048_576,
  maxBatchEvents: 100,
};

export interface FuzzTargetOptions {
  brokers: string;
  redisUrl: string;
  /** More environment for the burnrate process. */
  env?: Record<string, string>;
  log?: (line: string) => void;
}

export interface FuzzTarget {
  kafka: Kafka;
  topics: TopicNames;
  enricherGroup: string;
  clickhouse: ClickHouseClient;
  database: string;
  apiUrl: string;
  apiKey: string;
  keyId: string;
  /** The process's /readyz and /healthz, and /metrics. */
  opsUrl: string;
  pid: number | undefined;
  /** Alive (not exited) and ready (/readyz answers 200), with the reason when not. */
  health(): Promise<{ alive: boolean; ready: boolean; detail: string }>;
  /** The last 20 kB the process wrote. */
  output(): string;
  stop(): Promise<void>;
}

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const quiet = pino({ level: 'silent' });

/**
 * What the fuzz runs against: an embedded ClickHouse (chDB, served over HTTP from this process),
 * fresh topics under a random prefix, the fuzz customers, an API key, and one real `burnrate run`
 * child process with the enricher, the ledger and the api roles.
 */
export async function startFuzzTarget(o: FuzzTargetOptions): Promise<FuzzTarget> {
  const dir = mkdtempSync(join(tmpdir(), 'burnrate-fuzz-'));
  const prefix = `fuzz${randomUUID().slice(0, 8)}.`;
  const database = 'fuzz';
  const clickhouse = createClickHouseClient({ kind: 'embedded', path: join(dir, 'chdb') });
  await migrate(clickhouse, database);
  const chServer = createClickHouseHttpServer({
    client: clickhouse,
    host: '127.0.0.1',
    port: 0,
    defaultDatabase: database,
    users: [{ name: 'default', password: '', readonly: false }],
    logger: quiet,
  });
  const { url: clickhouseUrl } = await chServer.start();

  const kafka = createKafka({ brokers: o.brokers.split(','), clientId: 'burnrate-fuzz', logger: quiet });
  const topics = topicNames(prefix);
  await ensureTopics(kafka, topics, { partitions: 4, replicationFactor: 1 });
  await publishCustomers(kafka, topics.customers, FUZZ_CUSTOMERS);

  const keyId = FUZZ_KEY_ID;
  const made = createKey({ id: keyId, scopes: ['ingest'], customers: ['*'] });
  const keysFile = join(dir, 'keys.json');
  writeFileSync(keysFile, JSON.stringify({ keys: [made.entry] }));

  let output = '';
  const child: ChildProcess = spawn(
    process.execPath,
    ['--conditions=@burnrate/source', '--import', 'tsx', 'services/burnrate/src/main.ts', 'run'],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        LOG_LEVEL: 'info',
        BURNRATE_ROLES: 'enricher,ledger,api',
        KAFKA_BROKERS: o.brokers,
        REDIS_URL: o.redisUrl,
        BURNRATE_TOPIC_PREFIX: prefix,
        CLICKHOUSE_URL: clickhouseUrl,
        CLICKHOUSE_DATABASE: database,
        API_PORT: '0',
        METRICS_PORT: '0',
        BURNRATE_KEYS_FILE: keysFile,
        BURNRATE_LATE_HORIZON_HOURS: String(TARGET_LIMITS.lateHorizonMs / 3_600_000),
        BURNRATE_MAX_FUTURE_SKEW_SECONDS: String(TARGET_LIMITS.maxFutureSkewMs / 1000),
        INGEST_MAX_BODY_BYTES: String(TARGET_LIMITS.maxBodyBytes),
        INGEST_MAX_BATCH_EVENTS: String(TARGET_LIMITS.maxBatchEvents),
        INGEST_RATE_LIMIT_EVENTS_PER_SECOND: '0',
        LEDGER_FETCH_WAIT_MS: '100',
        LEDGER_MIN_BATCH_BYTES: '1',
        READY_PROBE_INTERVAL_MS: '500',
        ...o.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const cleanup = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(killer);
    }
    await Promise.race([chServer.stop(), new Promise((r) => setTimeout(r, 20_000))]);
    await Promise.race([clickhouse.close(), new Promise((r) => setTimeout(r, 20_000))]);
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 120_000;
  while (!output.includes('burnrate is running')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await cleanup();
      throw new Error(`The burnrate process under test did not start:\n${output.slice(-3_000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const urlOf = (msg: string) =>
    new RegExp(`"url":"(http://127\\.0\\.0\\.1:\\d+)","msg":"${msg}"`).exec(output)?.[1] ?? '';
  const apiUrl = urlOf('API listening');
  const opsUrl = urlOf('metrics and health listening');
  o.log?.(`burnrate process ${child.pid} is running: enricher, ledger, api at ${apiUrl}`);

  async function health() {
    if (child.exitCode !== null || child.signalCode !== null) {
      return { alive: false, ready: false, detail: `exited (${child.exitCode ?? child.signalCode})` };
    }
    try {
      const res = await fetch(`${opsUrl}/readyz`, { signal: AbortSignal.timeout(5_000) });
      const text = await res.text();
      return {
        alive: true,
        ready: res.status === 200,
        detail: res.status === 200 ? 'ready' : text.slice(0, 500),
      };
    } catch (error) {
      return { alive: true, ready: false, detail: `readyz: ${(error as Error).message}` };
    }
  }

  return {
    kafka,
    topics,
    enricherGroup: `${prefix}burnrate-enricher`,
    clickhouse,
    database,
    apiUrl,
    apiKey: made.key,
    keyId,
    opsUrl,
    pid: child.pid,
    health,
    output: () => output,
    stop: cleanup,
  };
}
