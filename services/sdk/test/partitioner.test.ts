import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { keyHashPartitioner } from '../src/kafka/partitioner.js';

describe('key-hash partitioner', () => {
  it('puts every key on the same partition as KafkaJS’s Java-compatible DefaultPartitioner', () => {
    const ours = keyHashPartitioner();
    const reference = kafkajs.Partitioners.DefaultPartitioner();
    const keys = [
      '',
      'a',
      'ab',
      'abc',
      'abcd',
      'customer-42',
      'ünïcødé-客户',
      '🙂🙃',
      ...Array.from({ length: 2_000 }, (_, i) => `cust-${i * 7919}-${'x'.repeat(i % 13)}`),
    ];
    for (const partitions of [1, 3, 4, 12, 50]) {
      const partitionMetadata = Array.from({ length: partitions }, (_, p) => ({
        partitionId: p,
        leader: 1,
        partitionErrorCode: 0,
        replicas: [1],
        isr: [1],
      }));
      for (const key of keys) {
        const args = { topic: 't', partitionMetadata, message: { key, value: 'v' } };
        const expected = reference(args);
        expect(ours(args)).toBe(expected);
        expect(ours(args)).toBe(expected); // cached path
        expect(ours({ ...args, message: { key: Buffer.from(key), value: 'v' } })).toBe(expected);
      }
    }
  });
});
