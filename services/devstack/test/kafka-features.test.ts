import { randomUUID } from 'node:crypto';
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitFor } from '../src/process.js';

// Proves every KafkaJS feature burnrate relies on against the real local broker (Kafka 4.x).
const kafka = new Kafka({
  brokers: [inject('kafkaBrokers')],
  logLevel: logLevel.NOTHING,
  clientId: 'feature-test',
});
const admin = kafka.admin();
const topic = `features-${randomUUID()}`;

beforeAll(async () => {
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
});
afterAll(() => admin.disconnect());

describe('KafkaJS against the local Kafka 4 broker', () => {
  it('produces with acks=all and gzip, consumes in a group and commits offsets', async () => {
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const messages = Array.from({ length: 50 }, (_, i) => ({ key: `k${i % 5}`, value: `v${i}` }));
    await producer.send({ topic, acks: -1, compression: CompressionTypes.GZIP, messages });
    await producer.disconnect();

    const groupId = `g-${randomUUID()}`;
    const consumer = kafka.consumer({ groupId });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const seen: string[] = [];
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ message, partition }) => {
        seen.push(message.value!.toString());
        await consumer.commitOffsets([
          { topic, partition, offset: (BigInt(message.offset) + 1n).toString() },
        ]);
      },
    });
    await waitFor(
      () => seen.length >= 50,
      30_000,
      () => new Error(`consumed ${seen.length} of 50`),
    );
    await consumer.disconnect();
    expect(new Set(seen).size).toBe(50);
    const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
    const committed = offsets[0]!.partitions.reduce((s, p) => s + Number(p.offset), 0);
    expect(committed).toBe(50);
  });

  it('runs transactions: aborted records are invisible to read-committed consumers', async () => {
    const txTopic = `${topic}-tx`;
    await admin.createTopics({ topics: [{ topic: txTopic, numPartitions: 1 }], waitForLeaders: true });
    const producer = kafka.producer({
      transactionalId: `tx-${randomUUID()}`,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    const aborted = await producer.transaction();
    await aborted.send({ topic: txTopic, messages: [{ value: 'aborted' }] });
    await aborted.abort();
    const committed = await producer.transaction();
    await committed.send({ topic: txTopic, messages: [{ value: 'committed' }] });
    await committed.commit();
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: `g-${randomUUID()}`, readUncommitted: false });
    await consumer.connect();
    await consumer.subscribe({ topic: txTopic, fromBeginning: true });
    const seen: string[] = [];
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
    await waitFor(
      () => seen.length >= 1,
      30_000,
      () => new Error('nothing consumed'),
    );
    await consumer.disconnect();
    expect(seen).toEqual(['committed']);
  });
});
