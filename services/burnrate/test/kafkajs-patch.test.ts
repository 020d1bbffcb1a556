import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

// KafkaJS 2.2.4 is patched (patches/kafkajs+2.2.4.patch, applied by `npm install`): these check the
// read_committed half of the patch without a broker; the produce half is proven by the chaos runs
// (services/burnrate/test/chaos, docs/reliability.md).
const require = createRequire(import.meta.url);
const filterAbortedMessages = require('kafkajs/src/consumer/filterAbortedMessages.js') as (o: {
  messages: Array<{
    offset: string;
    key: Buffer | null;
    batchContext: { producerId: string; inTransaction: boolean };
  }>;
  abortedTransactions: Array<{ producerId: string; firstOffset: string }>;
}) => Array<{ offset: string }>;

const ABORT = Buffer.from([0, 0, 0, 0]);
const record = (offset: number, producerId: string, key: Buffer | null = null) => ({
  offset: String(offset),
  key,
  batchContext: { producerId, inTransaction: true },
});

describe('KafkaJS read_committed filtering (patched)', () => {
  it('drops every aborted transaction, even when the broker lists them by end rather than by start', () => {
    // Two producers' transactions, both aborted: producer 2's starts first (offset 15) but ends last
    // (marker at 21); the broker lists producer 1002's first because it ended first. A committed
    // record of producer 7 sits in between.
    const messages = [
      record(15, '2'),
      record(16, '2'),
      record(17, '7'),
      record(18, '1002'),
      record(19, '1002'),
      record(20, '1002', ABORT),
      record(21, '2', ABORT),
      record(22, '2'),
    ];
    const kept = filterAbortedMessages({
      messages,
      abortedTransactions: [
        { producerId: '1002', firstOffset: '18' },
        { producerId: '2', firstOffset: '15' },
      ],
    });
    // Upstream kept 15 and 16 (producer 2's aborted records) as if they were committed.
    expect(kept.map((m) => m.offset)).toEqual(['17', '20', '21', '22']);
  });
});
