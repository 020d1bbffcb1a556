// The api role under load, on the local stack, as deployed: one `burnrate run` process owns chDB and
// runs the enricher, ledger and aggregator; the api role is a process of its own.
//
// 1. GET /v1/budget at a fixed rate (open loop: requests leave on schedule whether or not earlier ones
//    have answered, so a slow server shows up as latency, not as a lower rate): p50, p99, max.
// 2. GET /v1/forecast the same way, answered from the cache.
// 3. POST /v1/events in 100-event batches from 8 concurrent clients, events/s until every request is
//    answered (Kafka acknowledged, acks=all) — next to the client library's own emit() + flush() of
//    the same events to the same broker, in the same run (the baseline).
//
//   npm run stack -- up
//   KAFKA_BROKERS=127.0.0.1:9092 node --conditions=@burnrate/source --import tsx scripts/bench-api.ts [rps] [seconds] [events]
//   BENCH_QUIET_PIPELINE=1: stop the pipeline process before the GET phases (the api alone)
//   BENCH_PIN=1: the api on core 1, everything else on core 0 (taskset)
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEmitter, type EmitInput } from '@burnrate/sdk';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { createKafka } from '../services/burnrate/src/kafka/client.js';
import { ensureTopics, topicNames } from '../services/burnrate/src/kafka/topics.js';
import { createKey } from '../services/burnrate/src/roles/api/keys.js';
import { publishCustomers } from '../services/burnrate/src/roles/customers-publisher.js';
import { benchEvent } from './bench-events.js';
import { dropRedisPrefix, exitOf, spawnRole } from './bench-process.js';
import { brokerPid, redisPid } from './proc-stats.js';

const RPS = Number(process.argv[2] ?? 2_000);
const SECONDS = Number(process.argv[3] ?? 20);
const EVENTS = Number(process.argv[4] ?? 200_000);
const BATCH = 100;
const CLIENTS = 8;
const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const kafka = createKafka({
  brokers: brokers.split(','),
  clientId: 'bench-api',
  logger: pino({ level: 'error' }),
});
const prefix = `api${Date.now()}.`;
const topics = topicNames(prefix);
const chPort = 18_123 + Math.floor(Math.random() * 1000);
const apiPort = 19_787 + Math.floor(Math.random() * 1000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.floor(q * (xs.length - 1))]!;
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

function get(path: string, key: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: apiPort, path, agent, headers: { authorization: `Bearer ${key}` } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function post(body: string, key: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: apiPort,
        path: '/v1/events',
        method: 'POST',
        agent,
        headers: {
          authorization: `Bearer ${key}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Binds a process and all its threads to one CPU (Linux taskset). */
function pin(cpu: number, pid: number | undefined): void {
  if (pid !== undefined)
    execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
}

/** Requests at `rps` for `seconds`, each path from `next()`; latency of every one, in ms. */
async function openLoop(next: (i: number) => string, key: string, seconds = SECONDS) {
  const latencies: number[] = [];
  const perSecond: number[][] = Array.from({ length: seconds }, () => []);
  const statuses = new Map<number, number>();
  const pending: Promise<void>[] = [];
  const start = performance.now();
  const total = RPS * seconds;
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / RPS;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    const t0 = performance.now();
    pending.push(
      get(next(i), key).then((r) => {
        latencies.push(performance.now() - t0);
        perSecond[Math.floor(i / RPS)]!.push(performance.now() - t0);
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      }),
    );
  }
  await Promise.all(pending);
  const elapsed = (performance.now() - start) / 1000;
  return {
    rate: Math.round(total / elapsed),
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    max: Math.max(...latencies),
    statuses: Object.fromEntries(statuses),
    /** p99 of each second, to tell a steady tail from a few stalls. */
    secondsP99: perSecond.map((xs) => quantile(xs, 0.99).toFixed(1)).join(' '),
  };
}

/** The benchmark events as emit() input (the HTTP body and the SDK get the same events). */
function inputs(n: number, run: string): EmitInput[] {
  return Array.from({ length: n }, (_, i) => {
    const { tokens, model, customer_ref, workflow, feature, provider } = benchEvent(i);
    return {
      event_id: randomUUID(),
      customer_ref,
      workflow,
      feature,
      provider,
      model,
      tokens,
      workflow_run_id: `${run}-${i % 500}`,
    };
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-api-'));
  const key = createKey({ id: 'bench', scopes: ['ingest', 'budget', 'forecast'], customers: ['*'] });
  writeFileSync(join(dir, 'keys.yaml'), stringify({ keys: [key.entry] }));
  await ensureTopics(kafka, topics, { partitions: 4, replicationFactor: 1 });
  await publishCustomers(
    kafka,
    topics.customers,
    Array.from({ length: 500 }, (_, i) => ({
      customer_ref: `org_${i}`,
      customer_id: `cus_${i}`,
      plan: { kind: 'usage_based', revenue_nanos: '0', currency: 'USD' },
      monthly_budget_nanos: String(1_000n * 1_000_000_000n),
    })),
  );
  const env = {
    KAFKA_BROKERS: brokers,
    BURNRATE_TOPIC_PREFIX: prefix,
    CLICKHOUSE_HTTP_PORT: String(chPort),
    CLICKHOUSE_DATABASE: 'bench',
  };
  const owner = spawnRole('clickhouse,enricher,ledger,aggregator', {
    ...env,
    BURNRATE_DATA_DIR: join(dir, 'chdb'),
  });
  await sleep(3_000);
  const api = spawnRole('api', {
    ...env,
    CLICKHOUSE_URL: `http://127.0.0.1:${chPort}`,
    API_PORT: String(apiPort),
    BURNRATE_KEYS_FILE: join(dir, 'keys.yaml'),
    INGEST_RATE_LIMIT_EVENTS_PER_SECOND: '0',
    FORECAST_REFRESH_MS: '15000',
    FORECAST_MIN_SAMPLE: '5',
  });
  try {
    // Until the api answers and the aggregates hold spend for the customers.
    const deadline = Date.now() + 120_000;
    while ((await get('/healthz', key.key).catch(() => undefined))?.status !== 200) {
      if (Date.now() > deadline) throw new Error('the api role did not start');
      await sleep(200);
    }
    const seed = inputs(20_000, 'seed');
    for (let i = 0; i < seed.length; i += BATCH)
      await post(JSON.stringify(seed.slice(i, i + BATCH)), key.key).catch(() => 0);
    for (;;) {
      const r = await get('/v1/budget?customer=org_7&workflow=wf-7', key.key).catch(() => undefined);
      if (r?.status === 200 && JSON.parse(r.body).spend.nanos !== '0' && JSON.parse(r.body).forecast) break;
      if (Date.now() > deadline)
        throw new Error(`the api did not answer with spend and a forecast: ${r?.status} ${r?.body}`);
      await sleep(500);
    }

    if (process.env.BENCH_QUIET_PIPELINE) {
      // Everything the guardrail reads is in Redis and the cache: stop the pipeline (chDB merges,
      // aggregator sweeps) to see what the api costs on its own.
      owner.kill('SIGTERM');
      await exitOf(owner);
    }
    if (process.env.BENCH_PIN) {
      // The api alone on core 1; this load generator, the pipeline, Kafka and Redis on core 0 — what a
      // deployment gives the api (its own CPU), as far as a 2-core machine can.
      pin(1, api.pid);
      for (const pid of [process.pid, owner.pid, brokerPid(brokers), redisPid()]) pin(0, pid);
    }
    // Warm-up (JIT, connection pool), not measured.
    await openLoop(
      (i) => `/v1/budget?customer=org_${i % 500}&workflow=wf-${i % 20}&run=seed-${i % 500}`,
      key.key,
      3,
    );
    await openLoop((i) => `/v1/forecast?workflow=wf-${i % 20}`, key.key, 2);
    // The floor of this machine at this rate: the same server, client and connections, no work.
    const floor = await openLoop(() => '/healthz', key.key);
    console.log(
      `GET /healthz     ${floor.rate} req/s for ${SECONDS} s: p50 ${floor.p50.toFixed(2)} ms, p99 ${floor.p99.toFixed(2)} ms, max ${floor.max.toFixed(1)} ms (the baseline: an endpoint that does nothing); p99 per second: ${floor.secondsP99}`,
    );
    const budget = await openLoop(
      (i) => `/v1/budget?customer=org_${i % 500}&workflow=wf-${i % 20}&run=seed-${i % 500}`,
      key.key,
    );
    console.log(
      `GET /v1/budget   ${budget.rate} req/s for ${SECONDS} s: p50 ${budget.p50.toFixed(2)} ms, p99 ${budget.p99.toFixed(2)} ms, max ${budget.max.toFixed(1)} ms, statuses ${JSON.stringify(budget.statuses)}; p99 per second: ${budget.secondsP99}`,
    );
    const forecast = await openLoop(
      (i) => `/v1/forecast?workflow=wf-${i % 20}&scope=${i % 2 ? 'run' : 'step'}`,
      key.key,
    );
    console.log(
      `GET /v1/forecast ${forecast.rate} req/s for ${SECONDS} s: p50 ${forecast.p50.toFixed(2)} ms, p99 ${forecast.p99.toFixed(2)} ms, max ${forecast.max.toFixed(1)} ms, statuses ${JSON.stringify(forecast.statuses)}; p99 per second: ${forecast.secondsP99}`,
    );

    // The ingest comparison on a quiet machine: the pipeline stops consuming, both sides produce to the
    // same topic, two alternating rounds each.
    if (owner.exitCode === null) owner.kill('SIGTERM');
    await exitOf(owner);
    const emitter = await createEmitter({
      brokers: brokers.split(','),
      topic: topics.events,
      service: 'bench',
    });
    for (let round = 1; round <= 2; round++) {
      const bodies: string[] = [];
      const events = inputs(EVENTS, `http${round}`);
      for (let i = 0; i < events.length; i += BATCH) bodies.push(JSON.stringify(events.slice(i, i + BATCH)));
      let next = 0;
      const statuses = new Map<number, number>();
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: CLIENTS }, async () => {
          while (next < bodies.length) {
            const status = await post(bodies[next++]!, key.key);
            statuses.set(status, (statuses.get(status) ?? 0) + 1);
          }
        }),
      );
      const httpRate = EVENTS / ((performance.now() - t0) / 1000);
      const sdkEvents = inputs(EVENTS, `sdk${round}`);
      const t1 = performance.now();
      for (const e of sdkEvents) {
        try {
          emitter.emit(e);
        } catch {
          await emitter.flush();
          emitter.emit(e);
        }
      }
      await emitter.flush();
      const sdkRate = EVENTS / ((performance.now() - t1) / 1000);
      console.log(
        `POST /v1/events  round ${round}: ${Math.round(httpRate)} events/s (${BATCH}-event batches, ${CLIENTS} clients, statuses ${JSON.stringify(Object.fromEntries(statuses))}); client library emit() ${Math.round(sdkRate)} events/s; ratio ${(httpRate / sdkRate).toFixed(2)}`,
      );
    }
    await emitter.close();
  } finally {
    api.kill('SIGTERM');
    if (owner.exitCode === null) owner.kill('SIGTERM');
    await Promise.all([exitOf(api), exitOf(owner)]);
    agent.destroy();
    await dropRedisPrefix(prefix);
  }
}

await main();
process.exit(0);
