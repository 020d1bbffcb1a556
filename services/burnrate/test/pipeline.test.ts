import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEmitter, fromOpenAIChat } from '@burnrate/sdk';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { ensureTopics, topicNames } from '../src/kafka/topics.js';
import { publishCustomers } from '../src/roles/customers-publisher.js';
import { createApp } from '../src/runtime/app.js';
import { createLifecycle } from '../src/runtime/lifecycle.js';
import { fatalErrors, pollUntil, recordFatal, silentLogger, testKafka, uniquePrefix } from './fixtures.js';

/**
 * The walking skeleton, end to end through the real path: the client library emits an OpenAI
 * response's usage → Kafka → enricher (price + customer) → Kafka → ledger → a ClickHouse row whose
 * cost comes from the catalog price, with the ledger's offset committed only once the row exists.
 */
const prefix = uniquePrefix();
const config = loadConfig({
  BURNRATE_ROLES: 'clickhouse,enricher,ledger',
  KAFKA_BROKERS: inject('kafkaBrokers'),
  REDIS_URL: inject('redisUrl'),
  BURNRATE_TOPIC_PREFIX: prefix,
  BURNRATE_DATA_DIR: mkdtempSync(join(tmpdir(), 'burnrate-pipeline-')),
  CLICKHOUSE_HTTP_PORT: '0',
  METRICS_PORT: '0',
  LEDGER_FETCH_WAIT_MS: '100',
});
const app = createApp(config, { logger: silentLogger, fatal: recordFatal });
const lifecycle = createLifecycle(app.components, silentLogger, 30_000);
const kafka = testKafka();
const topics = topicNames(prefix);

beforeAll(async () => {
  // Customers are published before the enricher starts: it loads the whole topic before enriching.
  // (Reference data is eventually consistent: a record published after an event may miss it.)
  await ensureTopics(kafka, topics, { partitions: 4, replicationFactor: 1 });
  await publishCustomers(kafka, topics.customers, [
    {
      customer_ref: 'org_9',
      customer_id: 'initech',
      plan: { kind: 'enterprise', revenue_nanos: '5000000000000', currency: 'USD' },
    },
  ]);
  await lifecycle.start();
});
afterAll(() => lifecycle.stop());

describe('pipeline', () => {
  it('turns an emitted OpenAI call into a priced, attributed ClickHouse fact', async () => {
    const emitter = await createEmitter({
      brokers: [inject('kafkaBrokers')],
      topic: topics.events,
      service: 'support-bot',
    });
    // The documented trap: OpenAI counts the 800 cached tokens inside prompt_tokens.
    const openaiResponse = {
      model: 'gpt-4o-mini',
      usage: {
        prompt_tokens: 1_000,
        completion_tokens: 500,
        prompt_tokens_details: { cached_tokens: 800 },
        completion_tokens_details: { reasoning_tokens: 0 },
      },
    };
    const id = emitter.emit({
      customer_ref: 'org_9',
      workflow: 'support-chat',
      feature: 'chat',
      ...fromOpenAIChat(openaiResponse),
    });
    const unknownCustomer = emitter.emit({ customer_ref: 'org_unknown', ...fromOpenAIChat(openaiResponse) });
    await emitter.close();

    const ch = app.clickhouse!;
    const rows = await pollUntil(
      async () => {
        const rs = await ch.query({
          query: `SELECT toString(event_id) AS id, customer_id, unmapped, tokens_input, tokens_cached_input, tokens_output,
                         cost_input_nanos, cost_cached_input_nanos, cost_output_nanos, cost_total_nanos, price_version
                  FROM ${config.CLICKHOUSE_DATABASE}.usage_events WHERE service = 'support-bot' ORDER BY customer_id`,
          format: 'JSONEachRow',
        });
        return rs.json<Record<string, string | number>>();
      },
      (r) => r.length === 2,
      60_000,
    );
    // gpt-4o-mini: $0.15/M input, $0.075/M cached input, $0.60/M output.
    expect(rows[0]).toMatchObject({
      id,
      customer_id: 'initech',
      unmapped: 0,
      tokens_input: '200',
      tokens_cached_input: '800',
      tokens_output: '500',
      cost_input_nanos: '30000',
      cost_cached_input_nanos: '60000',
      cost_output_nanos: '300000',
      cost_total_nanos: '390000',
    });
    expect(String(rows[0]!.price_version)).toContain('gpt-4o-mini');
    expect(rows[1]).toMatchObject({ id: unknownCustomer, customer_id: 'unmapped:org_unknown', unmapped: 1 });

    const admin = kafka.admin();
    await admin.connect();
    const committed = await pollUntil(
      async () =>
        (await admin.fetchOffsets({ groupId: `${prefix}burnrate-ledger`, topics: [topics.enriched] }))[0]!
          .partitions,
      (ps) => ps.some((p) => Number(p.offset) > 0),
      30_000,
    );
    await admin.disconnect();
    expect(committed.some((p) => Number(p.offset) > 0)).toBe(true);
    expect(fatalErrors).toEqual([]);
  });
});
