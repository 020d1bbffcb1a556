import type { Kafka } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { requeue } from '../../src/cli/dlq.js';
import type { DeadLetter } from '../../src/cli/dlq-topic.js';

// The order that keeps two concurrent requeues from sending a letter twice: fence (start the
// transaction with the fixed transactional id) first, then read what was requeued, then send.
function fakeKafka(steps: string[]): Kafka {
  return {
    admin: () => ({
      connect: async () => {},
      disconnect: async () => {},
      listTopics: async () => ['t.dlq.requeued'],
    }),
    producer: () => ({
      connect: async () => steps.push('connect'),
      disconnect: async () => steps.push('disconnect'),
      transaction: async () => {
        steps.push('transaction (fences the other run)');
        return {
          send: async ({ topic }: { topic: string }) => steps.push(`send ${topic}`),
          commit: async () => steps.push('commit'),
          abort: async () => steps.push('abort'),
        };
      },
    }),
  } as unknown as Kafka;
}

const letter: DeadLetter = {
  id: '0:1',
  received_at: '2026-10-01T00:00:00.000Z',
  reason: 'too_old',
  field: 'occurred_at',
  message: 'old',
  source_topic: 't.usage.events',
  source_partition: 0,
  source_offset: '1',
  key: 'acme',
  payload_base64: 'AA==',
  dlq_position: '0:0#0',
};
const output = { out: () => {}, err: () => {}, interactive: false };

describe('dlq requeue: fence, then read the markers, then send', () => {
  it('reads what was requeued only after its transaction has started', async () => {
    const steps: string[] = [];
    const sent = await requeue(
      fakeKafka(steps),
      't.dlq',
      't.usage.events',
      async () => {
        steps.push('read markers and letters');
        return [letter];
      },
      output,
    );
    expect(sent).toBe(1);
    expect(steps).toEqual([
      'connect',
      'transaction (fences the other run)',
      'read markers and letters',
      'send t.usage.events',
      'send t.dlq.requeued',
      'commit',
      'disconnect',
    ]);
  });

  it('sends nothing and ends the transaction when everything was requeued already', async () => {
    const steps: string[] = [];
    expect(await requeue(fakeKafka(steps), 't.dlq', 't.usage.events', async () => [], output)).toBe(0);
    expect(steps).toEqual(['connect', 'transaction (fences the other run)', 'abort', 'disconnect']);
  });
});
