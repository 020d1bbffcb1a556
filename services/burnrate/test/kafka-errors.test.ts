import { BurnrateError } from '@burnrate/core';
import KafkaModule, { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { classifyKafkaError } from '../src/kafka/errors.js';
import { whileTopicPropagates } from '../src/kafka/topics.js';

describe('classifyKafkaError', () => {
  it('turns an unreachable cluster into one sentence naming KAFKA_BROKERS', async () => {
    // Nothing listens on port 1: a real KafkaJS connection failure, not a constructed one.
    const admin = new Kafka({
      brokers: ['127.0.0.1:1'],
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    }).admin();
    const failure = await admin.connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    const classified = classifyKafkaError(failure, ['127.0.0.1:1']);
    expect(classified).toBeInstanceOf(BurnrateError);
    expect((classified as BurnrateError).field).toBe('KAFKA_BROKERS');
    expect((classified as BurnrateError).message).toMatch(
      /^Kafka did not answer at 127\.0\.0\.1:1 \(KAFKA_BROKERS\): .*ECONNREFUSED/,
    );
  });

  it('passes other errors through', () => {
    const other = new Error('something else');
    expect(classifyKafkaError(other, ['x:1'])).toBe(other);
  });
});

describe('whileTopicPropagates', () => {
  const kafkajsErrors = KafkaModule as unknown as {
    KafkaJSProtocolError: new (e: {
      message: string;
      type: string;
      code: number;
      retriable: boolean;
    }) => Error;
    KafkaJSNumberOfRetriesExceeded: new (e: Error, o: { retryCount: number; retryTime: number }) => Error;
  };
  const unknownTopic = () =>
    new kafkajsErrors.KafkaJSProtocolError({
      message: 'This server does not host this topic-partition',
      type: 'UNKNOWN_TOPIC_OR_PARTITION',
      code: 3,
      retriable: true,
    });

  it('calls again while the answer is UNKNOWN_TOPIC_OR_PARTITION, bare or wrapped by KafkaJS after its retries', async () => {
    let calls = 0;
    const result = await whileTopicPropagates(async () => {
      calls++;
      if (calls === 1) throw unknownTopic();
      if (calls === 2)
        throw new kafkajsErrors.KafkaJSNumberOfRetriesExceeded(unknownTopic(), {
          retryCount: 5,
          retryTime: 1,
        });
      return 'ok';
    }, 10_000);
    expect(result).toBe('ok');
    expect(calls).toBe(3);
  });

  it('throws any other error at once, and gives up after its timeout (negative controls)', async () => {
    let calls = 0;
    const other = new Error('something else');
    await expect(
      whileTopicPropagates(async () => {
        calls++;
        throw other;
      }, 10_000),
    ).rejects.toBe(other);
    expect(calls).toBe(1);
    await expect(
      whileTopicPropagates(async () => {
        throw unknownTopic();
      }, 300),
    ).rejects.toThrow('does not host');
  });
});
