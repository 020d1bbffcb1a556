import { randomUUID } from 'node:crypto';
import { encodeUsageEvent, newEventId, type UsageEvent } from '@burnrate/core';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { makeUsageEvent } from '../../core/test/fixtures/usage-events.js';
import { DEAD_LETTER_COLUMNS, expandRow, FACT_COLUMNS } from '../src/facts/columns.js';
import { unpackRows } from '../src/kafka/pack-rows.js';
import type { TopicNames } from '../src/kafka/topics.js';
import { publishCustomers } from '../src/roles/customers-publisher.js';
import { EventDeduper } from '../src/roles/enricher/dedup.js';
import { createEnricher } from '../src/roles/enricher/enricher.js';
import { createReferenceData } from '../src/roles/enricher/reference-data.js';
import { pollUntil, recordFatal, silentLogger, testKafka, testTopics } from './fixtures.js';

const kafka = testKafka();
const redis = new Redis(inject('redisUrl'));
let topics: TopicNames;

/** The shared event fixture, made current (the enricher refuses events past its late horizon). */
function usageEvent(overrides: Partial<UsageEvent> = {}): UsageEvent {
  return makeUsageEvent({
    event_id: newEventId(),
    occurred_at: Date.now() - 1_000,
    customer_ref: 'org_acme',
    model: 'gpt-4o-mini',
    tokens: { input: 1_000_000, cached_input: 0, cache_write: 0, output: 1_000_000, reasoning: 0 },
    units: { images: 0, audio_ms: 0, web_search_calls: 0 },
    ...overrides,
  });
}

async function readAll(
  topic: string,
  expected: number,
): Promise<Array<{ value: string; partition: number }>> {
  const consumer = kafka.consumer({ groupId: `read-${randomUUID()}` });
  const out: Array<{ value: string; partition: number }> = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message, partition }) =>
      void out.push(...unpackRows(message.value!).map((value) => ({ value, partition }))),
  });
  await pollUntil(
    async () => out.length,
    (n) => n >= expected,
    30_000,
  );
  await consumer.disconnect();
  return out;
}

beforeAll(async () => {
  topics = await testTopics(kafka);
  await publishCustomers(kafka, topics.customers, [
    {
      customer_ref: 'org_acme',
      customer_id: 'acme',
      name: 'Acme',
      team: 'growth',
      plan: { kind: 'flat_rate', revenue_nanos: '200000000000', currency: 'USD' },
      monthly_budget_nanos: '150000000000',
      billing_anchor_day: 15,
    },
  ]);
});
afterAll(() => redis.quit());

describe('enricher', () => {
  it('prices, attributes and dead-letters, exactly once, in one transaction per batch', async () => {
    const good = usageEvent();
    const duplicate = { ...good }; // same event_id, a second Kafka record: a client resend
    const unknownModel = usageEvent({ model: 'acme-finetune-v1', provider: 'acme-labs' });
    const stranger = usageEvent({ customer_ref: 'org_nobody' });
    const negative = encodeUsageEvent(
      usageEvent({ tokens: { input: -5, cached_input: 0, cache_write: 0, output: 1, reasoning: 0 } }),
    );
    const unknownSchema = Buffer.concat([
      Buffer.from([0xc3, 0x01]),
      Buffer.alloc(8, 0xab),
      Buffer.from('body'),
    ]);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: topics.events,
      messages: [
        { key: 'org_acme', value: encodeUsageEvent(good), partition: 0 },
        { key: 'org_acme', value: encodeUsageEvent(duplicate), partition: 0 },
        { key: 'org_acme', value: encodeUsageEvent(unknownModel), partition: 0 },
        { key: 'org_nobody', value: encodeUsageEvent(stranger), partition: 0 },
        { key: 'org_acme', value: negative, partition: 0 },
        { key: 'org_acme', value: Buffer.from('not avro at all'), partition: 0 },
        { key: 'org_acme', value: unknownSchema, partition: 0 },
      ],
    });
    await producer.disconnect();

    const reference = createReferenceData(
      { topic: topics.customers, pricesFile: undefined },
      { kafka, logger: silentLogger },
    );
    await reference.start();
    const enricher = createEnricher(
      { topics, groupId: `enricher-${randomUUID()}`, transactionalIdPrefix: `enricher-${randomUUID()}` },
      {
        kafka,
        stage: reference.stage({ lateHorizonMs: 86_400_000, maxFutureSkewMs: 300_000 }),
        deduper: new EventDeduper(redis, `test:${randomUUID()}:`, 600),
        logger: silentLogger,
        fatal: recordFatal,
      },
    );
    await enricher.start();
    const enriched = (await readAll(topics.enriched, 3)).map(
      (m) => expandRow(FACT_COLUMNS, m.value) as Record<string, unknown>,
    );
    const dead = (await readAll(topics.dlq, 4)).map(
      (m) => expandRow(DEAD_LETTER_COLUMNS, m.value) as Record<string, unknown>,
    );
    await enricher.stop();
    await reference.stop();

    expect(enriched).toHaveLength(3);
    const byId = new Map(enriched.map((r) => [r.event_id, r]));
    const priced = byId.get(good.event_id)!;
    // gpt-4o-mini list price: $0.15 / M input, $0.60 / M output → exactly 150,000,000 + 600,000,000 nano-USD.
    expect(priced).toMatchObject({
      customer_id: 'acme',
      plan_kind: 'flat_rate',
      unpriced: 0,
      unmapped: 0,
      cost_input_nanos: 150_000_000,
      cost_output_nanos: 600_000_000,
      cost_total_nanos: 750_000_000,
      plan_revenue_nanos: '200000000000',
    });
    expect(priced.price_version).toMatch(/gpt-4o-mini/);
    expect(byId.get(unknownModel.event_id)).toMatchObject({
      unpriced: 1,
      price_version: '',
      cost_total_nanos: 0,
    });
    expect(byId.get(stranger.event_id)).toMatchObject({ customer_id: 'unmapped:org_nobody', unmapped: 1 });

    expect(dead.map((d) => d.reason).sort()).toEqual([
      'duplicate_event_id',
      'invalid_value',
      'undecodable',
      'unknown_schema',
    ]);
    const invalid = dead.find((d) => d.reason === 'invalid_value')!;
    expect(invalid.field).toMatch(/tokens/);
    expect(Buffer.from(invalid.payload_base64 as string, 'base64').equals(negative)).toBe(true);
    expect(dead.find((d) => d.reason === 'unknown_schema')!.message).toContain('abababababababab');
    expect(enricher.stats()).toMatchObject({
      consumed: 7,
      enriched: 3,
      deadLettered: 4,
      duplicates: 1,
      unpriced: 1,
      unmapped: 1,
    });
  });
});
