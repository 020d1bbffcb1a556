import { randomUUID } from 'node:crypto';
import { encodeUsageEvent, newEventId, type UsageEvent } from '@burnrate/core';
import type { Kafka } from 'kafkajs';

const MODELS = ['gpt-4o-mini', 'gpt-4.1', 'o4-mini'];

/** A realistic event for benchmarks: 500 customers, 20 workflows, three OpenAI models, tags. */
export function benchEvent(i: number): UsageEvent {
  return {
    event_id: newEventId(),
    occurred_at: Date.now() - 60_000,
    service: 'bench',
    customer_ref: `org_${i % 500}`,
    user_ref: `u${i % 5000}`,
    workflow: `wf-${i % 20}`,
    // A run belongs to one customer, as in life: 8 steps each (events i, i + 500, i + 1000, …).
    workflow_run_id: `run-${i % 500}-${Math.floor(i / 4_000)}`,
    step_id: `s${i}`,
    parent_step_id: null,
    step_kind: 'llm_call',
    depth: i % 4,
    attempt: 1,
    feature: `f${i % 10}`,
    provider: 'openai',
    model: MODELS[i % 3]!,
    tokens: {
      input: 1200 + (i % 900),
      cached_input: 300,
      cache_write: 0,
      output: 250,
      reasoning: i % 3 === 2 ? 120 : 0,
    },
    requests: 1,
    units: { images: 0, audio_ms: 0, web_search_calls: 0 },
    latency_ms: 800,
    status: 'ok',
    provider_reported_cost_nanos: null,
    quality_score: null,
    tags: { region: 'eu' },
  };
}

/** Produces `n` benchmark events (Avro, keyed by customer_ref) to `topic`, acks from all replicas. */
export async function produceBenchEvents(
  kafka: Kafka,
  topic: string,
  n: number,
  perRequest = 5_000,
): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  for (let i = 0; i < n; i += perRequest) {
    const messages = [];
    for (let j = i; j < Math.min(n, i + perRequest); j++)
      messages.push({ key: `org_${j % 500}`, value: encodeUsageEvent(benchEvent(j)) });
    await producer.send({ topic, acks: -1, messages });
  }
  await producer.disconnect();
}

/**
 * The baseline every pipeline benchmark reports against: a KafkaJS consumer that reads the first
 * `n` records of `topic` and does nothing with them. Events/s from its first batch to the n-th record.
 */
export async function rawConsumeRate(kafka: Kafka, topic: string, n: number): Promise<number> {
  const consumer = kafka.consumer({ groupId: `raw-${randomUUID()}`, maxBytesPerPartition: 4 * 1024 * 1024 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  let first = 0;
  const end = await new Promise<number>((resolve) => {
    void consumer.run({
      eachBatch: async ({ batch }) => {
        if (!first) first = performance.now();
        seen += batch.messages.length;
        if (seen >= n) resolve(performance.now());
      },
    });
  });
  await consumer.disconnect();
  return n / ((end - first) / 1000);
}
