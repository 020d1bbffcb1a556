import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/config/load.js';
import { ensureTopics, topicNames } from '../../src/kafka/topics.js';
import { createKey, type KeyScope } from '../../src/roles/api/keys.js';
import { publishCustomers } from '../../src/roles/customers-publisher.js';
import { createApp } from '../../src/runtime/app.js';
import { createLifecycle } from '../../src/runtime/lifecycle.js';
import { recordFatal, silentLogger, testKafka, uniquePrefix } from '../fixtures.js';

export interface KeySpec {
  id: string;
  scopes: KeyScope[];
  customers: string[];
  service?: string;
}

/**
 * A real burnrate process's roles, in this test process: the embedded ClickHouse, the enricher, the
 * ledger, the aggregator and the api role, on fresh topics, with a keys file and a rules file.
 * Requests go over real HTTP to the api role's port.
 */
export async function startApi(o: {
  roles?: string;
  keys: KeySpec[];
  customers?: unknown[];
  rules?: unknown;
  env?: Record<string, string>;
}) {
  const dir = mkdtempSync(join(tmpdir(), 'burnrate-api-'));
  const made = o.keys.map((k) => createKey(k));
  const keysFile = join(dir, 'keys.yaml');
  writeFileSync(keysFile, stringify({ keys: made.map((m) => m.entry) }));
  const rulesFile = join(dir, 'rules.yaml');
  writeFileSync(rulesFile, stringify(o.rules ?? {}));
  const prefix = uniquePrefix();
  const config = loadConfig({
    BURNRATE_ROLES: o.roles ?? 'clickhouse,enricher,ledger,aggregator,api',
    KAFKA_BROKERS: inject('kafkaBrokers'),
    REDIS_URL: inject('redisUrl'),
    BURNRATE_TOPIC_PREFIX: prefix,
    BURNRATE_DATA_DIR: join(dir, 'chdb'),
    CLICKHOUSE_HTTP_PORT: '0',
    METRICS_PORT: '0',
    API_PORT: '0',
    BURNRATE_KEYS_FILE: keysFile,
    BURNRATE_RULES_FILE: rulesFile,
    BURNRATE_RULES_POLL_MS: '200',
    LEDGER_FETCH_WAIT_MS: '100',
    LEDGER_MIN_BATCH_BYTES: '1',
    AGGREGATOR_FETCH_WAIT_MS: '50',
    AGGREGATOR_MIN_BATCH_BYTES: '1',
    FORECAST_REFRESH_MS: '1000',
    ...o.env,
  });
  const kafka = testKafka();
  const topics = topicNames(prefix);
  await ensureTopics(kafka, topics, { partitions: 4, replicationFactor: 1 });
  if (o.customers?.length) await publishCustomers(kafka, topics.customers, o.customers);
  const app = createApp(config, { logger: silentLogger, fatal: recordFatal, env: {} });
  const lifecycle = createLifecycle(app.components, silentLogger, 30_000);
  await lifecycle.start();
  const server = app.components.find((c) => c.name === 'api') as unknown as { url(): string };
  const url = server.url();
  const keyOf = (id: string) => made[o.keys.findIndex((k) => k.id === id)]!.key;

  /** Sum of the high watermarks of usage.events: what has been written to it. */
  async function eventsWritten(): Promise<number> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchTopicOffsets(topics.events);
      return offsets.reduce((n, p) => n + Number(p.high), 0);
    } finally {
      await admin.disconnect();
    }
  }

  return {
    url,
    config,
    app,
    kafka,
    topics,
    dir,
    keysFile,
    key: keyOf,
    eventsWritten,
    /** A request with a key (by id) or none. */
    async call(
      path: string,
      init: {
        method?: string;
        key?: string | null;
        body?: string | Uint8Array;
        headers?: Record<string, string>;
      } = {},
    ) {
      const headers: Record<string, string> = { ...init.headers };
      if (init.key) headers.authorization = `Bearer ${keyOf(init.key)}`;
      const res = await fetch(`${url}${path}`, { method: init.method ?? 'GET', body: init.body, headers });
      const text = await res.text();
      // biome-ignore lint/suspicious/noExplicitAny: tests check the answer field by field
      let json: any;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: res.status, headers: res.headers, text, json };
    },
    async stop() {
      await lifecycle.stop();
    },
  };
}
