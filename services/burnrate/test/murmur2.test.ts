import { randomUUID } from 'node:crypto';
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { partitionForKey } from '../src/kafka/murmur2.js';

describe('partitionForKey', () => {
  it('agrees with the KafkaJS (Java-compatible) default partitioner', () => {
    const partitioner = Partitioners.DefaultPartitioner();
    const partitionMetadata = Array.from({ length: 12 }, (_, i) => ({
      partitionId: i,
      leader: 0,
      partitionErrorCode: 0,
      replicas: [0],
      isr: [0],
    }));
    for (const key of [
      '',
      'a',
      'ab',
      'abc',
      'acme',
      'unmapped:org_ü',
      ...Array.from({ length: 200 }, () => randomUUID()),
    ]) {
      expect(partitionForKey(key, 12), key).toBe(
        partitioner({ topic: 't', partitionMetadata, message: { key, value: null } }),
      );
    }
  });
});
