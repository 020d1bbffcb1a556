/**
 * Micro-benchmark of the usage-event hot path: encode (single-object Avro), decode (with schema
 * resolution), validate and newEventId, against JSON.stringify / JSON.parse of the same events
 * measured in the same run as the baseline. Prints µs per event and the ratio to the baseline.
 *
 * Run: node --conditions=@burnrate/source --import tsx scripts/bench-usage-event-codec.ts
 */
import { createUsageEventCodec, newEventId, type UsageEvent, validateUsageEvent } from '@burnrate/core';

const EVENTS = 1024;
const ITERATIONS = Number(process.argv[2] ?? 400_000);

const events: UsageEvent[] = Array.from({ length: EVENTS }, (_, i) => ({
  event_id: newEventId(),
  occurred_at: Date.UTC(2026, 0, 2) + i,
  service: 'support-bot',
  customer_ref: `customer-${i % 97}`,
  user_ref: `user-${i}`,
  workflow: 'triage',
  workflow_run_id: `run-${i >> 4}`,
  step_id: `step-${i % 16}`,
  parent_step_id: i % 16 === 0 ? null : `step-${(i % 16) - 1}`,
  step_kind: 'llm_call',
  depth: i % 4,
  attempt: 1,
  feature: 'smart-reply',
  provider: 'openai',
  model: 'gpt-4o-2024-08-06',
  tokens: { input: 1000 + i, cached_input: 2048, cache_write: 0, output: 300, reasoning: 128 },
  requests: 1,
  units: { images: 0, audio_ms: 0, web_search_calls: 0 },
  latency_ms: 840,
  status: 'ok',
  provider_reported_cost_nanos: null,
  quality_score: null,
  tags: { region: 'eu-west-1', tier: 'pro' },
  environment: 'production',
  request_id: `req_${i}`,
}));

function time(name: string, run: (i: number) => unknown): number {
  for (let i = 0; i < 50_000; i++) run(i);
  const start = process.hrtime.bigint();
  for (let i = 0; i < ITERATIONS; i++) run(i);
  const micros = Number(process.hrtime.bigint() - start) / 1000 / ITERATIONS;
  console.log(
    `${name.padEnd(34)} ${micros.toFixed(3)} µs/event  ${Math.round(1e6 / micros).toLocaleString('en')} events/s`,
  );
  return micros;
}

const codec = createUsageEventCodec();
const v1Writer = createUsageEventCodec({ writeVersion: 1 });
const encoded = events.map((e) => codec.encode(e));
const encodedV1 = events.map((e) => v1Writer.encode(e));
const json = events.map((e) => JSON.stringify(e));
console.log(
  `${ITERATIONS} iterations over ${EVENTS} events; Avro ${encoded[0]!.length} B vs JSON ${json[0]!.length} B`,
);

const jsonEncode = time('baseline JSON.stringify', (i) => Buffer.from(JSON.stringify(events[i % EVENTS])));
const jsonDecode = time('baseline JSON.parse', (i) => JSON.parse(json[i % EVENTS]!));
const encode = time('encode', (i) => codec.encode(events[i % EVENTS]!));
const validated = time('validate + encode', (i) => codec.encode(validateUsageEvent(events[i % EVENTS])));
const decode = time('decode (same version)', (i) => codec.decode(encoded[i % EVENTS]!));
const resolved = time('decode (v1 data, v2 reader)', (i) => codec.decode(encodedV1[i % EVENTS]!));
time('validate', (i) => validateUsageEvent(events[i % EVENTS]));
time('newEventId', () => newEventId());

console.log(
  `ratios to JSON: encode ${(encode / jsonEncode).toFixed(2)}, validate+encode ${(validated / jsonEncode).toFixed(2)}, ` +
    `decode ${(decode / jsonDecode).toFixed(2)}, resolving decode ${(resolved / jsonDecode).toFixed(2)}`,
);
