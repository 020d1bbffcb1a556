import { randomUUID } from 'node:crypto';
import { encodeUsageEvent, newEventId, type UsageEvent } from '@burnrate/core';
import type { KafkaMessage } from 'kafkajs';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeUsageEvent } from '../../core/test/fixtures/usage-events.js';
import { DEAD_LETTER_COLUMNS, expandRow, FACT_COLUMNS } from '../src/facts/columns.js';
import { unpackRows } from '../src/kafka/pack-rows.js';
import type { TopicNames } from '../src/kafka/topics.js';
import { deadLetter, MAX_DEAD_LETTER_RECORD_BYTES } from '../src/roles/enricher/enrich-message.js';
import { createEnricher } from '../src/roles/enricher/enricher.js';
import { createReferenceData } from '../src/roles/enricher/reference-data.js';
import { fatalErrors, pollUntil, recordFatal, silentLogger, testKafka, testTopics } from './fixtures.js';

/**
 * Regressions for two records the fuzz found that stopped the enricher for good (each one stopped
 * it again after every restart, holding its partition): a valid event whose cost passes 2^53 nano-USD
 * (enrichEvent's money_overflow was thrown out of the batch), and a record near the broker's 1 MiB
 * limit (its dead letter, with the payload in base64, was larger than the broker accepts).
 */
const kafka = testKafka();
let topics: TopicNames;

const event = (overrides: Partial<UsageEvent> = {}): UsageEvent =>
  makeUsageEvent({ event_id: newEventId(), occurred_at: Date.now() - 1_000, model: 'gpt-4o', ...overrides });

async function readRows(topic: string, expected: number): Promise<string[]> {
  const consumer = kafka.consumer({ groupId: `read-${randomUUID()}` });
  const out: string[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void out.push(...unpackRows(message.value!)) });
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
});

describe('records that stopped the enricher', () => {
  it('dead-letters an unpriceable event and an oversized record, and goes on with the next', async () => {
    // gpt-4o charges $0.025 per web search: 2^32 - 1 of them cost ~1.07e17 nano-USD, beyond 2^53.
    const overflow = event({ units: { images: 0, audio_ms: 0, web_search_calls: 4_294_967_295 } });
    const huge = encodeUsageEvent(event({ workflow: 'w'.repeat(900_000) }));
    const good = event();
    const producer = kafka.producer();
    await producer.connect();
    for (const value of [encodeUsageEvent(overflow), huge, encodeUsageEvent(good)]) {
      await producer.send({ topic: topics.events, messages: [{ key: 'acme', value, partition: 0 }] });
    }
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
        deduper: undefined,
        logger: silentLogger,
        fatal: recordFatal,
      },
    );
    const before = fatalErrors.length;
    await enricher.start();
    try {
      const facts = (await readRows(topics.enriched, 1)).map((r) => expandRow(FACT_COLUMNS, r));
      const dead = (await readRows(topics.dlq, 2)).map((r) => expandRow(DEAD_LETTER_COLUMNS, r));
      expect(facts.map((f) => f.event_id)).toEqual([good.event_id]);
      const byReason = Object.fromEntries(dead.map((d) => [d.reason, d]));
      expect(Object.keys(byReason).sort()).toEqual(['invalid_value', 'money_overflow']);
      expect(byReason.money_overflow).toMatchObject({ field: 'cost_total_nanos', source_offset: '0' });
      expect(
        Buffer.from(byReason.money_overflow!.payload_base64 as string, 'base64').equals(
          encodeUsageEvent(overflow),
        ),
      ).toBe(true);
      expect(byReason.invalid_value).toMatchObject({
        field: 'workflow',
        payload_base64: '',
        source_offset: '1',
      });
      expect(byReason.invalid_value!.message).toMatch(
        /too large to keep in a dead letter; it is at .* partition 0 offset 1/,
      );
      expect(fatalErrors.length).toBe(before);
      expect(enricher.stats()).toMatchObject({ consumed: 3, enriched: 1, deadLettered: 2 });
    } finally {
      await enricher.stop();
      await reference.stop();
    }
  });

  it('keeps a dead letter within its budget, whatever the size of the record (key included)', () => {
    const message = (key: number, value: number): KafkaMessage =>
      ({
        key: Buffer.alloc(key, 'k'),
        value: Buffer.alloc(value, 1),
        timestamp: '0',
        offset: '7',
        attributes: 0,
        headers: {},
      }) as KafkaMessage;
    const small = deadLetter(message(4, 1_000), 't', 0, 'undecodable', '', 'Bad.');
    expect(small.kind === 'dead' && JSON.parse(small.value)[8]).toBe(
      Buffer.alloc(1_000, 1).toString('base64'),
    );
    for (const [k, v] of [
      [10, 1_000_000],
      [900_000, 10],
      [200_000, 200_000],
    ] as const) {
      const letter = deadLetter(message(k, v), 't', 0, 'undecodable', '', 'Bad.');
      expect(letter.kind).toBe('dead');
      expect(letter.kind === 'dead' && letter.value.length).toBeLessThan(
        MAX_DEAD_LETTER_RECORD_BYTES + 1_000,
      );
    }
  });
});
