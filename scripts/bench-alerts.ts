// Alert latency, end to end: an event produced to usage.events → enricher → usage.enriched →
// aggregator (rolling aggregates, rules, outbox, relay) → BullMQ → notifier → a signed webhook
// received by an HTTP server here — while the stack carries a steady background load. Every role is
// its own `burnrate run` process (clickhouse+ledger, enricher, aggregator, notifier), all on this
// machine with the broker and Redis. Each probe is a one-step agent run over its cost cap, so each
// fires exactly one runaway alert; latency = webhook received − the probe's occurred_at.
//   npm run stack -- up
//   KAFKA_BROKERS=127.0.0.1:9092 node --conditions=@burnrate/source --import tsx scripts/bench-alerts.ts [events/s] [seconds]
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AlertPayload, encodeUsageEvent, generateWebhookSecret, verifyWebhook } from '@burnrate/core';
import { pino } from 'pino';
import { createKafka } from '../services/burnrate/src/kafka/client.js';
import { ensureTopics, topicNames } from '../services/burnrate/src/kafka/topics.js';
import { benchEvent } from './bench-events.js';
import { dropRedisPrefix, exitOf, spawnRole } from './bench-process.js';
import { brokerPid, cpuSeconds, redisPid } from './proc-stats.js';

const RATE = Number(process.argv[2] ?? 5_000);
const SECONDS = Number(process.argv[3] ?? 60);
const WARMUP_S = 15;
const PROBES_PER_S = 2;
const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const kafka = createKafka({
  brokers: brokers.split(','),
  clientId: 'bench',
  logger: pino({ level: 'error' }),
});
const prefix = `lat${Date.now()}.`;
const topics = topicNames(prefix);
const port = 18_123 + Math.floor(Math.random() * 1000);
const secret = generateWebhookSecret();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  await ensureTopics(kafka, topics, { partitions: 4, replicationFactor: 1 });
  const latencies: number[] = [];
  const toFired: number[] = [];
  const toReceived: number[] = [];
  const seen = new Set<string>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = Date.now();
      const body = Buffer.concat(chunks);
      const { id } = verifyWebhook({ headers: req.headers, body, secrets: [secret] });
      const alert = JSON.parse(body.toString('utf8')) as AlertPayload;
      if (!seen.has(id) && alert.run) {
        seen.add(id);
        latencies.push(at - Date.parse(alert.run.first_seen));
        toFired.push(Date.parse(alert.at) - Date.parse(alert.run.first_seen));
        toReceived.push(at - Date.parse(alert.at));
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const rules = join(mkdtempSync(join(tmpdir(), 'bench-alerts-')), 'rules.yaml');
  // Only the probes' runaway rule can fire: this measures the path, not an alert storm.
  writeFileSync(
    rules,
    [
      'defaults:',
      '  budget: { enabled: false }',
      '  forecast: { enabled: false }',
      '  whale: { enabled: false }',
      '  spike: { enabled: false }',
      '  unpriced_model: { enabled: false }',
      '  unmapped_customer: { enabled: false }',
      '  runaway: { max_cost_usd: "1000000" }',
      'customers:',
      '  "unmapped:probe": { runaway: { max_cost_usd: "0.000001" } }',
      'destinations:',
      `  - { name: bench, kind: webhook, url: "http://127.0.0.1:${(server.address() as AddressInfo).port}/", secrets: ["${secret}"] }`,
    ].join('\n'),
  );
  const env = {
    KAFKA_BROKERS: brokers,
    BURNRATE_TOPIC_PREFIX: prefix,
    CLICKHOUSE_HTTP_PORT: String(port),
    CLICKHOUSE_DATABASE: 'bench',
    BURNRATE_RULES_FILE: rules,
    NOTIFIER_ALLOWED_NETWORKS: '127.0.0.1/32',
  };
  const owner = spawnRole('clickhouse,ledger', {
    ...env,
    BURNRATE_DATA_DIR: mkdtempSync(join(tmpdir(), 'bench-lat-')),
  });
  await sleep(3_000); // the owner serves ClickHouse before the others migrate against it
  const remote = { ...env, CLICKHOUSE_URL: `http://127.0.0.1:${port}` };
  const procs = {
    enricher: spawnRole('enricher', env),
    aggregator: spawnRole('aggregator', remote),
    notifier: spawnRole('notifier', remote),
  };
  const pids = {
    enricher: procs.enricher.pid,
    aggregator: procs.aggregator.pid,
    notifier: procs.notifier.pid,
    'ledger+chDB': owner.pid,
    broker: brokerPid(brokers),
    redis: redisPid(),
  };

  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const tickMs = 100;
  const perTick = Math.round((RATE * tickMs) / 1000);
  let produced = 0;
  let probes = 0;
  let i = 0;
  const started = performance.now();
  let cpu0: Record<string, number> | undefined;
  let measuredFrom = 0;
  const total = (WARMUP_S + SECONDS) * 1000;
  while (performance.now() - started < total) {
    const tickStart = performance.now();
    const messages = [];
    for (let k = 0; k < perTick; k++, i++) {
      messages.push({
        key: `org_${i % 500}`,
        value: encodeUsageEvent({ ...benchEvent(i), occurred_at: Date.now() }),
      });
    }
    const warm = performance.now() - started >= WARMUP_S * 1000;
    if (warm && !cpu0) {
      cpu0 = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid)]));
      measuredFrom = produced;
    }
    if (warm && i % Math.round(RATE / PROBES_PER_S) < perTick) {
      probes++;
      const run = `probe-${probes}`;
      messages.push({
        key: 'probe',
        value: encodeUsageEvent({
          ...benchEvent(i),
          customer_ref: 'probe',
          workflow_run_id: run,
          occurred_at: Date.now(),
        }),
      });
    }
    await producer.send({ topic: topics.events, messages, acks: -1 });
    produced += messages.length;
    const left = tickMs - (performance.now() - tickStart);
    if (left > 0) await sleep(left);
  }
  const elapsed = (performance.now() - started) / 1000 - WARMUP_S;
  const cpu = Object.entries(pids)
    .map(
      ([k, pid]) => `${k} ${(((cpuSeconds(pid) - cpu0![k]!) * 1e6) / (produced - measuredFrom)).toFixed(1)}`,
    )
    .join(', ');
  // Let the last probes arrive.
  for (let w = 0; w < 100 && latencies.length < probes; w++) await sleep(100);
  await producer.disconnect();
  const quantiles = (xs: number[]) => {
    const sorted = [...xs].sort((a, b) => a - b);
    const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
    return { q, max: sorted.at(-1) };
  };
  const { q } = quantiles(latencies);
  const sorted = [...latencies].sort((a, b) => a - b);
  console.log(
    `load: ${Math.round((produced - measuredFrom) / elapsed)} events/s produced for ${Math.round(elapsed)} s (after ${WARMUP_S} s of warm-up)`,
  );
  console.log(`probes: ${probes} sent, ${latencies.length} alerts received`);
  console.log(
    `alert latency, event produced → webhook received: p50 ${q(0.5)} ms, p90 ${q(0.9)} ms, p99 ${q(0.99)} ms, max ${sorted.at(-1)} ms (target p99 ≤ 2000 ms)`,
  );
  const fired = quantiles(toFired);
  const received = quantiles(toReceived);
  console.log(
    `  of which produced → alert fired (enricher, aggregator, rules): p50 ${fired.q(0.5)} ms, p99 ${fired.q(0.99)} ms; fired → webhook received (relay, queue, notifier): p50 ${received.q(0.5)} ms, p99 ${received.q(0.99)} ms`,
  );
  console.log(`CPU µs per event under this load: ${cpu}`);
  for (const p of [...Object.values(procs), owner]) p.kill('SIGTERM');
  await Promise.all([...Object.values(procs), owner].map(exitOf));
  server.close();
  // Leave the shared Redis as it was: a benchmark's keys would otherwise skew the next one.
  await dropRedisPrefix(prefix);
}

await main();
