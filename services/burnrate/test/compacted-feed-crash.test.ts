import { EventEmitter } from 'node:events';
import type { BurnrateError } from '@burnrate/core';
import type { Kafka } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createReferenceData } from '../src/roles/enricher/reference-data.js';
import { silentLogger } from './fixtures.js';

/** A Kafka whose consumers can be made to crash the way KafkaJS reports it. */
function fakeKafka() {
  const consumers: EventEmitter[] = [];
  const kafka = {
    admin: () => ({
      connect: async () => {},
      disconnect: async () => {},
      fetchTopicOffsets: async () => [{ partition: 0, high: '0', low: '0', offset: '0' }],
    }),
    consumer: () => {
      const emitter = new EventEmitter();
      consumers.push(emitter);
      return Object.assign(emitter, {
        events: { CRASH: 'consumer.crash' },
        connect: async () => {},
        subscribe: async () => {},
        run: async () => {},
        disconnect: async () => {},
      });
    },
  } as unknown as Kafka;
  const crash = (restart: boolean) => {
    for (const c of consumers)
      c.emit('consumer.crash', { payload: { error: new Error('broker said no'), restart } });
  };
  return { kafka, crash, consumers };
}

describe('reference-data followers that crash for good', () => {
  it('stop the process through fatal when KafkaJS will not restart the consumer, and not when it will', async () => {
    const { kafka, crash, consumers } = fakeKafka();
    const fatals: BurnrateError[] = [];
    const reference = createReferenceData(
      { topic: 'customers', pricesTopic: 'prices', pricesFile: undefined },
      { kafka, logger: silentLogger, fatal: (e) => void fatals.push(e) },
    );
    await reference.start();
    expect(consumers).toHaveLength(2); // the customers follower and the prices follower
    crash(true); // negative control: KafkaJS restarts it, nothing is fatal
    expect(fatals).toEqual([]);
    crash(false);
    expect(fatals.map((e) => e.message)).toEqual([
      expect.stringMatching(/^The customers follower stopped for good: .*broker said no/),
      expect.stringMatching(/^The prices follower stopped for good: .*broker said no/),
    ]);
    await reference.stop();
  });
});
