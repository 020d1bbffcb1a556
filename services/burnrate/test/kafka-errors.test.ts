import { BurnrateError } from '@burnrate/core';
import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { classifyKafkaError } from '../src/kafka/errors.js';

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
