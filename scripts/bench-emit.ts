/**
 * Benchmarks the SDK emitter against a real broker, next to a baseline measured in the same run:
 *
 * 1. caller cost: µs per emit() call (validate + defaults + context + enqueue), as the median and
 *    p99 of 1,000-call chunks — the time a service's request path pays;
 * 2. throughput: events/s from the first emit() until flush() resolves, i.e. until Kafka has
 *    acknowledged every event with acks=-1 (idempotent producer);
 * 3. baseline: a raw KafkaJS idempotent producer (acks=-1, one request in flight, as the emitter)
 *    sending the same events pre-encoded, in batches of the same size, one send after another.
 *
 * Run: KAFKA_BROKERS=127.0.0.1:9092 [BENCH_BATCH_EVENTS=5000] \
 *   node --conditions=@burnrate/source --import tsx scripts/bench-emit.ts [events]
 */
import { randomUUID } from 'node:crypto';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { createUsageEventCodec, newEventId, type UsageEvent } from '@burnrate/core';
import { createEmitter, type EmitInput, QueueFullError } from '@burnrate/sdk';
import kafkajs from 'kafkajs';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const EVENTS = Number(process.argv[2] ?? 500_000);
const BATCH = Number(process.env.BENCH_BATCH_EVENTS ?? 5_000);
const ROUNDS = 2;
const kafka = new kafkajs.Kafka({ brokers, clientId: 'bench-emit', logLevel: kafkajs.logLevel.NOTHING });

// 1,000 distinct inputs, reused round-robin: emit() copies what it keeps.
const inputs: EmitInput[] = Array.from({ length: 1_000 }, (_, i) => ({
  customer_ref: `customer-${i % 97}`,
  user_ref: `user-${i}`,
  provider: 'openai',
  model: 'gpt-4o-2024-08-06',
  feature: 'smart-reply',
  tokens: { input: 1000 + i, cached_input: 2048, output: 300, reasoning: 128 },
  latency_ms: 840,
  tags: { region: 'eu-west-1', tier: 'pro' },
}));

const topics: string[] = [];

async function createTopic(): Promise<string> {
  const topic = `bench-emit-${randomUUID()}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 4 }], waitForLeaders: true });
  await admin.disconnect();
  topics.push(topic);
  return topic;
}

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.floor(q * (xs.length - 1))]!;

/** Emits EVENTS events as a busy service would: in bursts, yielding to the event loop between them. */
async function runEmitter(): Promise<{ eventsPerSec: number; chunkMicros: number[] }> {
  const topic = await createTopic();
  const emitter = await createEmitter({
    kafka,
    topic,
    service: 'bench',
    maxBatchEvents: BATCH,
    maxQueueEvents: 20_000,
    overflow: 'block',
  });
  const chunkMicros: number[] = [];
  const start = process.hrtime.bigint();
  for (let sent = 0; sent < EVENTS; ) {
    const n = Math.min(1_000, EVENTS - sent);
    const t0 = process.hrtime.bigint();
    let i = 0;
    try {
      for (; i < n; i++) emitter.emit(inputs[(sent + i) % 1_000]!);
      chunkMicros.push(Number(process.hrtime.bigint() - t0) / 1_000 / n);
    } catch (error) {
      if (!(error instanceof QueueFullError)) throw error;
      await emitter.emitAsync(inputs[(sent + i) % 1_000]!); // wait for room: backpressure
      i++;
    }
    sent += i;
    await yieldToLoop();
  }
  await emitter.flush();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const report = await emitter.close();
  if (report.stats.sent !== EVENTS) throw new Error(`emitter sent ${report.stats.sent} of ${EVENTS}`);
  return { eventsPerSec: EVENTS / seconds, chunkMicros };
}

/** The same events, encoded up front, sent by a bare KafkaJS producer in the same batch size. */
async function runBaseline(encoded: Array<{ key: string; value: Buffer }>): Promise<number> {
  const topic = await createTopic();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const start = process.hrtime.bigint();
  for (let i = 0; i < encoded.length; i += BATCH) {
    await producer.send({ topic, acks: -1, messages: encoded.slice(i, i + BATCH) });
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await producer.disconnect();
  return encoded.length / seconds;
}

function encodeAll(): Array<{ key: string; value: Buffer }> {
  const codec = createUsageEventCodec();
  return Array.from({ length: EVENTS }, (_, i) => {
    const input = inputs[i % 1_000]!;
    const event: UsageEvent = {
      event_id: newEventId(),
      occurred_at: Date.now(),
      service: 'bench',
      customer_ref: input.customer_ref!,
      user_ref: input.user_ref ?? null,
      workflow: null,
      workflow_run_id: null,
      step_id: null,
      parent_step_id: null,
      step_kind: 'llm_call',
      depth: 0,
      attempt: 1,
      feature: input.feature ?? null,
      provider: input.provider,
      model: input.model,
      tokens: { input: 1000 + (i % 1_000), cached_input: 2048, cache_write: 0, output: 300, reasoning: 128 },
      requests: 1,
      units: { images: 0, audio_ms: 0, web_search_calls: 0 },
      latency_ms: 840,
      status: 'ok',
      provider_reported_cost_nanos: null,
      quality_score: null,
      tags: { region: 'eu-west-1', tier: 'pro' },
      environment: null,
      request_id: null,
    };
    return { key: event.customer_ref, value: codec.encode(event) };
  });
}

const encoded = encodeAll();
console.log(
  `${EVENTS.toLocaleString('en')} events of ${encoded[0]!.value.length} B, batches of ${BATCH}, acks=-1, brokers ${brokers.join(',')}`,
);
for (let round = 1; round <= ROUNDS; round++) {
  const baseline = await runBaseline(encoded);
  const { eventsPerSec, chunkMicros } = await runEmitter();
  console.log(
    [
      `round ${round}:`,
      `emit() ${quantile(chunkMicros, 0.5).toFixed(2)} µs median, ${quantile(chunkMicros, 0.99).toFixed(2)} µs p99 (per call, 1,000-call chunks)`,
      `| emitter ${Math.round(eventsPerSec).toLocaleString('en')} events/s acknowledged`,
      `| raw KafkaJS ${Math.round(baseline).toLocaleString('en')} events/s`,
      `| ratio ${(eventsPerSec / baseline).toFixed(2)}`,
    ].join(' '),
  );
}

// The bench topics hold hundreds of MB; do not leave them on the broker.
const admin = kafka.admin();
await admin.connect();
await admin.deleteTopics({ topics });
await admin.disconnect();
