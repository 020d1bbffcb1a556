import { encodeUsageEvent, newEventId } from '@burnrate/core';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { makeUsageEvent } from '../../../core/test/fixtures/usage-events.js';
import { REQUEUED_FROM_HEADER } from '../../src/cli/dlq.js';
import { packRows } from '../../src/kafka/pack-rows.js';
import type { TopicNames } from '../../src/kafka/topics.js';
import { deadLetter } from '../../src/roles/enricher/enrich-message.js';
import { pollUntil, testKafka, testTopics, uniquePrefix } from '../fixtures.js';
import { cli, oneLine } from './cli-harness.js';

// dlq list/show/requeue against the real broker, with letters written as the enricher writes them:
// rows packed into one message, in a Kafka transaction (so the topic ends in a commit marker).
let kafka: Kafka;
let topics: TopicNames;
const events = [0, 1].map(() => makeUsageEvent({ event_id: newEventId(), occurred_at: Date.now() }));
const ids: string[] = [];
const requeued: Array<{ key: string | null; value: Buffer; from: string }> = [];
let consumer: ReturnType<Kafka['consumer']>;

async function eventsHigh(): Promise<string> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topics.events)).map((p) => `${p.partition}:${p.high}`).join(',');
  } finally {
    await admin.disconnect();
  }
}

beforeAll(async () => {
  kafka = testKafka();
  const prefix = uniquePrefix();
  topics = await testTopics(kafka, prefix);
  Object.assign(process.env, {
    KAFKA_BROKERS: inject('kafkaBrokers'),
    BURNRATE_TOPIC_PREFIX: prefix,
    LOG_LEVEL: 'warn',
  });
  // The rejected records, as they were on usage.events.
  const producer = kafka.producer();
  await producer.connect();
  const values = [encodeUsageEvent(events[0]!), encodeUsageEvent(events[1]!), Buffer.from('not avro')];
  const sent = await producer.send({
    topic: topics.events,
    messages: values.map((value) => ({ key: 'acme', value, partition: 0 })),
  });
  await producer.disconnect();
  const first = Number(sent[0]!.baseOffset);
  const records: KafkaMessage[] = values.map((value, i) => ({
    key: Buffer.from('acme'),
    value,
    offset: String(first + i),
    timestamp: String(Date.now()),
    attributes: 0,
    headers: {},
    size: undefined,
  }));
  ids.push(...records.map((r) => `0:${r.offset}`));
  const letters = [
    deadLetter(
      records[0]!,
      topics.events,
      0,
      'too_old',
      'occurred_at',
      'occurred_at is older than the late horizon.',
    ),
    deadLetter(
      records[1]!,
      topics.events,
      0,
      'too_old',
      'occurred_at',
      'occurred_at is older than the late horizon.',
    ),
    deadLetter(
      records[2]!,
      topics.events,
      0,
      'undecodable',
      '',
      'The record is not Avro single-object encoded.',
    ),
  ].map((l) => ({ key: l.key ?? '', value: (l as { value: string }).value }));
  const tx = kafka.producer({
    transactionalId: `${prefix}test-enricher`,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await tx.connect();
  const t = await tx.transaction();
  await t.send({ topic: topics.dlq, messages: packRows(letters, 1), acks: -1 });
  await t.commit();
  await tx.disconnect();
  // Everything that reaches usage.events with the requeue header, read committed, from now on.
  consumer = kafka.consumer({ groupId: `${prefix}watch`, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topic: topics.events, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const from = message.headers?.[REQUEUED_FROM_HEADER];
      if (from)
        requeued.push({ key: message.key?.toString() ?? null, value: message.value!, from: String(from) });
    },
  });
});
afterAll(async () => {
  await consumer?.disconnect();
});

describe('burnrate dlq', () => {
  it('list: counts by reason and the newest letters', async () => {
    const r = await cli(['dlq', 'list', '--json']);
    expect(r.code).toBe(0);
    const got = JSON.parse(r.out);
    expect(got.reasons.map((x: { reason: string; letters: number }) => [x.reason, x.letters])).toEqual([
      ['too_old', 2],
      ['undecodable', 1],
    ]);
    expect(got.newest.map((l: { id: string }) => l.id).sort()).toEqual([...ids].sort());
    const table = await cli(['dlq', 'list']);
    expect(table.out).toMatch(
      /^REASON\s+FIELD\s+LETTERS\s+REQUEUED\s+NEWEST\ntoo_old\s+occurred_at\s+2\s+0\s/,
    );
  });

  it('show: one letter with its payload decoded by the Avro codec', async () => {
    const r = await cli(['dlq', 'show', ids[0]!, '--json']);
    expect(r.code).toBe(0);
    const letter = JSON.parse(r.out);
    expect(letter).toMatchObject({ id: ids[0], reason: 'too_old', key: 'acme', requeued: false });
    expect(letter.payload.event_id).toBe(events[0]!.event_id);
    const garbage = JSON.parse((await cli(['dlq', 'show', ids[2]!, '--json'])).out);
    expect(garbage.payload.error).toMatch(/^Not decodable with the Avro codec/);
    const text = await cli(['dlq', 'show', ids[0]!]);
    expect(text.out).toMatch(/^letter {5}0:\d+\nreceived .*\nreason {5}too_old\n/);
  });

  it('requeue --dry-run changes nothing', async () => {
    const before = await eventsHigh();
    const r = await cli(['dlq', 'requeue', '--reason', 'too_old', '--dry-run']);
    expect(r.out).toMatch(/^Would requeue 2 dead letters to .*usage\.events \(dry run: nothing sent\)/);
    expect(await eventsHigh()).toBe(before);
  });

  it('requeue publishes each letter once: the same bytes and key, and a second run does nothing', async () => {
    const r = await cli(['dlq', 'requeue', '--reason', 'too_old']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Requeued 2 dead letters to /);
    const seen = await pollUntil(
      async () => requeued.length,
      (n) => n >= 2,
      30_000,
    );
    expect(seen).toBe(2);
    expect(requeued.map((x) => x.from).sort()).toEqual(
      ids
        .slice(0, 2)
        .map((id) => `${topics.events}/${id}`)
        .sort(),
    );
    const byFrom = new Map(requeued.map((x) => [x.from, x]));
    expect(byFrom.get(`${topics.events}/${ids[0]}`)!.value.equals(encodeUsageEvent(events[0]!))).toBe(true);
    expect(byFrom.get(`${topics.events}/${ids[0]}`)!.key).toBe('acme');

    const high = await eventsHigh();
    const again = await cli(['dlq', 'requeue', '--reason', 'too_old']);
    expect(again.out).toMatch(/^Nothing to requeue/);
    expect(await eventsHigh()).toBe(high);
    const listed = JSON.parse((await cli(['dlq', 'list', '--json'])).out);
    expect(listed.reasons[0]).toMatchObject({ reason: 'too_old', letters: 2, requeued: 2 });

    // Without --reason: only the letter not requeued yet goes.
    const rest = await cli(['dlq', 'requeue']);
    expect(rest.out).toMatch(/^Requeued 1 dead letter to /);
    expect(
      await pollUntil(
        async () => requeued.length,
        (n) => n >= 3,
        30_000,
      ),
    ).toBe(3);
    expect(requeued[2]!.from).toBe(`${topics.events}/${ids[2]}`);
  });

  it.each([
    [['dlq', 'show', "0:1' OR 1=1"], /is not a letter id: give partition:offset/],
    [['dlq', 'show', '0:999999'], /There is no dead letter 0:999999/],
    [['dlq', 'requeue', '--bogus'], /unknown option '--bogus'; see burnrate dlq requeue --help/],
    [['dlq', 'list', '--from', 'last tuesday'], /--from "last tuesday" is not a date/],
    [['dlq', 'list', '--examples', '0'], /--examples "0" is not a whole number/],
  ])('bad input %j: exit 2, one sentence, nothing requeued', async (argv, message) => {
    const before = await eventsHigh();
    const r = await cli(argv);
    expect(r.code).toBe(2);
    expect(oneLine(r.err)).toBe(true);
    expect(r.err).toMatch(message);
    expect(await eventsHigh()).toBe(before);
  });
});
