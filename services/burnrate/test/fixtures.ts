import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BurnrateError } from '@burnrate/core';
import { Kafka, logLevel, type Message } from 'kafkajs';
import { pino } from 'pino';
import { inject } from 'vitest';
import { createClickHouseClient } from '../src/clickhouse/client.js';
import { createClickHouseHttpServer } from '../src/clickhouse/http/index.js';
import { migrate } from '../src/clickhouse/migrate.js';
import { compactRow, FACT_COLUMNS } from '../src/facts/columns.js';
import { ensureTopics, type TopicNames, topicNames } from '../src/kafka/topics.js';
import type { Fatal } from '../src/runtime/fatal.js';

/** Fixture factories and per-test isolation (random topic prefix, database and chDB directory). */
export const silentLogger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** What roles under test reported as fatal; a test that expects none asserts this stays empty. */
export const fatalErrors: BurnrateError[] = [];
export const recordFatal: Fatal = (error) => {
  fatalErrors.push(error);
};

export function testKafka(): Kafka {
  return new Kafka({
    brokers: [inject('kafkaBrokers')],
    clientId: 'burnrate-test',
    logLevel: logLevel.NOTHING,
  });
}

export function uniquePrefix(): string {
  return `t${randomUUID().slice(0, 8)}.`;
}

export async function testTopics(kafka: Kafka, prefix = uniquePrefix()): Promise<TopicNames> {
  const names = topicNames(prefix);
  await ensureTopics(kafka, names, { partitions: 4, replicationFactor: 1 });
  return names;
}

/** An embedded ClickHouse (chDB) in a fresh directory, migrated. One per test file (one engine per process). */
export async function testClickHouse(database = `db_${randomUUID().slice(0, 8)}`) {
  const path = mkdtempSync(join(tmpdir(), 'burnrate-chdb-'));
  const client = createClickHouseClient({ kind: 'embedded', path });
  await migrate(client, database);
  return { client, database, path };
}

/**
 * testClickHouse() served over the ClickHouse HTTP interface, for `burnrate run` child processes (they
 * reach it as a ClickHouse server: CLICKHOUSE_URL = url). `stop()` is bounded: a slow engine shutdown
 * after the assertions have run must not fail the file.
 */
export async function testClickHouseServer() {
  const ch = await testClickHouse();
  const server = createClickHouseHttpServer({
    client: ch.client,
    host: '127.0.0.1',
    port: 0,
    defaultDatabase: ch.database,
    users: [{ name: 'default', password: '', readonly: false }],
    logger: silentLogger,
  });
  const { url } = await server.start();
  const bounded = (p: Promise<unknown>) => Promise.race([p, new Promise((r) => setTimeout(r, 20_000))]);
  return {
    ...ch,
    url,
    async stop() {
      await bounded(server.stop());
      await bounded(ch.client.close());
    },
  };
}

/** A complete usage_events row as the enricher publishes it to usage.enriched (kafka_* added by the ledger). */
export function enrichedRow(i: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const customer = `cust-${i % 7}`;
  const costInput = 1_000 + (i % 13) * 17;
  const costOutput = 5_000 + (i % 11) * 29;
  return {
    event_id: randomUUID(),
    occurred_at: 1_790_000_000_000 + i * 1_000,
    ingested_at: 1_790_000_000_500 + i * 1_000,
    service: 'fixture',
    customer_ref: `ref-${customer}`,
    customer_id: customer,
    customer_name: customer.toUpperCase(),
    team: 'team-a',
    plan_kind: 'flat_rate',
    plan_currency: 'USD',
    plan_revenue_nanos: 200_000_000_000,
    monthly_budget_nanos: 150_000_000_000,
    billing_period_start: '2026-09-01',
    unmapped: 0,
    user_ref: null,
    workflow: `wf-${i % 3}`,
    workflow_run_id: `run-${Math.floor(i / 5)}`,
    step_id: `step-${i}`,
    parent_step_id: null,
    step_kind: 'llm_call',
    depth: i % 3,
    attempt: 1,
    feature: 'chat',
    provider: 'openai',
    model: 'gpt-4o-mini',
    tokens_input: 100 + (i % 50),
    tokens_cached_input: 10,
    tokens_cache_write: 0,
    tokens_output: 50,
    tokens_reasoning: 0,
    requests: 1,
    units_images: 0,
    units_audio_ms: 0,
    units_web_search_calls: 0,
    latency_ms: 321,
    status: 'ok',
    provider_reported_cost_nanos: null,
    quality_score: null,
    tags: { env: 'test' },
    cost_input_nanos: costInput,
    cost_cached_input_nanos: 0,
    cost_cache_write_nanos: 0,
    cost_output_nanos: costOutput,
    cost_reasoning_nanos: 0,
    cost_request_nanos: 0,
    cost_units_nanos: 0,
    cost_total_nanos: costInput + costOutput,
    price_version: 'test:1',
    unpriced: 0,
    byok: 0,
    source_topic: 'usage.events',
    source_partition: i % 4,
    source_offset: i,
    ...overrides,
  };
}

/**
 * Produces fact rows to usage.enriched as the enricher does (JSON arrays, keyed by customer_id).
 * With `rowsPerMessage` > 1, consecutive rows are packed newline-separated into one message, as the
 * enricher's packRows does (partition chosen by the first row's key).
 */
export async function produceRows(
  kafka: Kafka,
  topic: string,
  rows: Array<Record<string, unknown>>,
  rowsPerMessage = 1,
): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (let i = 0; i < rows.length; i += 2_000) {
      const chunk = rows.slice(i, i + 2_000);
      const messages: Message[] = [];
      for (let j = 0; j < chunk.length; j += rowsPerMessage) {
        const packed = chunk.slice(j, j + rowsPerMessage);
        messages.push({
          key: String(packed[0]!.customer_id),
          value: packed.map((r) => compactRow(FACT_COLUMNS, r)).join('\n'),
        });
      }
      await producer.send({ topic, acks: -1, messages });
    }
  } finally {
    await producer.disconnect();
  }
}

/** Polls `read` until `done(value)` holds or the timeout passes; returns the last value either way. */
export async function pollUntil<T>(
  read: () => Promise<T>,
  done: (v: T) => boolean,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    value = await read();
  }
  return value;
}
