import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BurnrateError } from '@burnrate/core';
import { createEmitter, fromOpenAIChat } from '@burnrate/sdk';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { ensureTopics, topicNames } from '../../src/kafka/topics.js';
import { publishCustomers } from '../../src/roles/customers-publisher.js';
import { type App, createApp } from '../../src/runtime/app.js';
import { createLifecycle, type Lifecycle } from '../../src/runtime/lifecycle.js';
import { privateRedis } from '../aggregator/private-redis.js';
import { pollUntil, silentLogger, testClickHouseServer, testKafka, uniquePrefix } from '../fixtures.js';
import { type Receiver, startReceiver } from '../notifier/receiver.js';
import { clickHouseGate, get, sample } from './ops-harness.js';

/**
 * /metrics, /healthz and /readyz against the real stack: two burnrate apps in this process (an
 * enricher on a private Redis; a ledger reaching a real ClickHouse HTTP interface through a gate the
 * test can make hold or refuse inserts), each with its own registry and metrics port.
 */
const prefix = uniquePrefix();
const topics = topicNames(prefix);
const kafka = testKafka();
let redis: Awaited<ReturnType<typeof privateRedis>>;
let ch: Awaited<ReturnType<typeof testClickHouseServer>>;
let gate: Awaited<ReturnType<typeof clickHouseGate>>;
const apps: Array<{ app: App; lifecycle: Lifecycle; fatal: BurnrateError[] }> = [];

function start(env: Record<string, string>) {
  const config = loadConfig({
    KAFKA_BROKERS: inject('kafkaBrokers'),
    BURNRATE_TOPIC_PREFIX: prefix,
    METRICS_PORT: '0',
    READY_PROBE_INTERVAL_MS: '200',
    // Well above what one slow insert takes on a loaded 2-core machine (seen: over 2 s).
    READY_STALL_MS: '6000',
    ...env,
  });
  const fatal: BurnrateError[] = [];
  const app = createApp(config, { logger: silentLogger, fatal: (e) => void fatal.push(e) });
  const lifecycle = createLifecycle(app.components, silentLogger, 20_000);
  apps.push({ app, lifecycle, fatal });
  return { app, lifecycle, fatal, url: () => app.ops.url() };
}

let enricher: ReturnType<typeof start>;
let ledger: ReturnType<typeof start>;
let alerting: ReturnType<typeof start>;
let receiver: Receiver;
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

/** Only the two rules the test's events cross: an unknown customer and a model without a price. */
function rulesFile(url: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'burnrate-obs-rules-')), 'rules.yaml');
  const off = ['budget', 'forecast', 'whale', 'spike', 'runaway'].map((r) => `  ${r}: { enabled: false }`);
  const hook = ['  - name: oncall', '    kind: webhook', `    url: ${url}`, `    secrets: ["${SECRET}"]`];
  writeFileSync(file, ['defaults:', ...off, 'destinations:', ...hook].join('\n'));
  return file;
}

beforeAll(async () => {
  redis = await privateRedis();
  ch = await testClickHouseServer();
  gate = await clickHouseGate(ch.url);
  await ensureTopics(kafka, topics, { partitions: 2, replicationFactor: 1 });
  await publishCustomers(kafka, topics.customers, [
    {
      customer_ref: 'org_9',
      customer_id: 'initech',
      plan: { kind: 'enterprise', revenue_nanos: '5000000000000', currency: 'USD' },
    },
  ]);
  enricher = start({
    BURNRATE_ROLES: 'enricher',
    REDIS_URL: redis.url,
    READY_DEPENDENCY_GRACE_MS: '1000',
  });
  ledger = start({
    BURNRATE_ROLES: 'ledger',
    CLICKHOUSE_URL: gate.url,
    CLICKHOUSE_DATABASE: ch.database,
    LEDGER_FETCH_WAIT_MS: '100',
    LEDGER_MIN_BATCH_BYTES: '1',
    // Long: only the consumer-progress check may judge the held inserts.
    READY_DEPENDENCY_GRACE_MS: '600000',
  });
  receiver = await startReceiver({ secrets: [SECRET] });
  alerting = start({
    BURNRATE_ROLES: 'aggregator,notifier',
    REDIS_URL: inject('redisUrl'),
    CLICKHOUSE_URL: ch.url,
    CLICKHOUSE_DATABASE: ch.database,
    BURNRATE_RULES_FILE: rulesFile(receiver.url),
    NOTIFIER_ALLOWED_NETWORKS: '127.0.0.1/32',
    AGGREGATOR_FETCH_WAIT_MS: '50',
    AGGREGATOR_MIN_BATCH_BYTES: '1',
    READY_DEPENDENCY_GRACE_MS: '600000',
  });
  await Promise.all([enricher.lifecycle.start(), ledger.lifecycle.start(), alerting.lifecycle.start()]);
});

afterAll(async () => {
  for (const a of apps.reverse()) await a.lifecycle.stop();
  gate?.set('pass');
  await gate?.close();
  await receiver?.close();
  await ch?.stop();
  await redis?.stop();
});

const usage = (model: string) =>
  fromOpenAIChat({ model, usage: { prompt_tokens: 100, completion_tokens: 20 } });

async function emit(events: Array<{ customer_ref: string; model: string }>): Promise<void> {
  const emitter = await createEmitter({
    brokers: [inject('kafkaBrokers')],
    topic: topics.events,
    service: 'obs',
  });
  for (const e of events) emitter.emit({ customer_ref: e.customer_ref, ...usage(e.model) });
  await emitter.close();
}

const metricsOf = async (app: { url: () => string }) => (await get(`${app.url()}/metrics`)).text;
const ready = async (app: { url: () => string }) => {
  const r = await get(`${app.url()}/readyz`);
  return { status: r.status, body: r.json() };
};
const check = (r: Awaited<ReturnType<typeof ready>>, name: string) =>
  r.body.checks.find((c) => c.name === name);

describe('observability against the real stack', () => {
  it('counts exactly what was sent: events in/out, dead letters by reason, unpriced, unmapped, lag, alerts', async () => {
    for (const app of [enricher, ledger, alerting]) expect((await ready(app)).status).toBe(200);
    // One ordinary event first: the aggregator's first batch creates its epoch (rebuilding from
    // ClickHouse what the ledger already stored), so every counted event afterwards flows live.
    await emit([{ customer_ref: 'org_9', model: 'gpt-4o-mini' }]);
    await pollUntil(
      () => metricsOf(alerting),
      (t) => (sample(t, 'burnrate_events_in_total', { role: 'aggregator' }) ?? 0) >= 1,
      60_000,
    );
    await pollUntil(
      () => metricsOf(ledger),
      (t) => sample(t, 'burnrate_events_out_total', { role: 'ledger', output: 'usage_events' }) === 1,
      60_000,
    );
    const before = { e: await metricsOf(enricher), l: await metricsOf(ledger), a: await metricsOf(alerting) };
    const delta = (app: 'e' | 'l' | 'a', after: string, name: string, labels: Record<string, string> = {}) =>
      (sample(after, name, labels) ?? 0) - (sample(before[app], name, labels) ?? 0);

    await emit([
      ...Array.from({ length: 5 }, () => ({ customer_ref: 'org_9', model: 'gpt-4o-mini' })),
      { customer_ref: 'org_nobody', model: 'gpt-4o-mini' },
      { customer_ref: 'org_nobody', model: 'gpt-4o-mini' },
      { customer_ref: 'org_9', model: 'no-such-model-xyz' },
    ]);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: topics.events, messages: [{ key: 'x', value: 'not avro at all' }] });
    await producer.disconnect();

    const l = await pollUntil(
      () => metricsOf(ledger),
      (t) =>
        sample(t, 'burnrate_events_out_total', { role: 'ledger', output: 'usage_events' }) === 9 &&
        sample(t, 'burnrate_events_out_total', { role: 'ledger', output: 'dead_letters' }) === 1,
      60_000,
    );
    const e = await metricsOf(enricher);
    expect(delta('e', e, 'burnrate_events_in_total', { role: 'enricher' })).toBe(9);
    expect(delta('e', e, 'burnrate_events_out_total', { role: 'enricher', output: 'enriched' })).toBe(8);
    expect(delta('e', e, 'burnrate_events_out_total', { role: 'enricher', output: 'dlq' })).toBe(1);
    expect(delta('e', e, 'burnrate_dead_letters_total', { role: 'enricher', reason: 'undecodable' })).toBe(1);
    expect(delta('e', e, 'burnrate_unpriced_events_total', { role: 'enricher' })).toBe(1);
    expect(delta('e', e, 'burnrate_unmapped_events_total', { role: 'enricher' })).toBe(2);
    expect(delta('l', l, 'burnrate_events_in_total', { role: 'ledger' })).toBe(9);
    expect(delta('l', l, 'burnrate_events_out_total', { role: 'ledger', output: 'usage_events' })).toBe(8);
    expect(delta('l', l, 'burnrate_events_out_total', { role: 'ledger', output: 'dead_letters' })).toBe(1);
    expect(delta('l', l, 'burnrate_ledger_batch_rows_sum', { table: 'usage_events' })).toBe(8);
    expect(delta('l', l, 'burnrate_ledger_insert_seconds_count', { table: 'usage_events' })).toBeGreaterThan(
      0,
    );
    // Each app has its own registry: the enricher's counters are not in the ledger's, and vice versa.
    expect(sample(l, 'burnrate_events_in_total', { role: 'enricher' })).toBeUndefined();
    expect(sample(e, 'burnrate_events_in_total', { role: 'ledger' })).toBeUndefined();
    // What ClickHouse holds agrees with the counters (the warm-up event included).
    const rs = await ch.client.query({
      query: `SELECT count() AS n, sum(unpriced) AS unpriced, sum(unmapped) AS unmapped FROM ${ch.database}.usage_events`,
      format: 'JSONEachRow',
    });
    expect(await rs.json()).toEqual([{ n: '9', unpriced: '1', unmapped: '2' }]);
    // Lag per partition, from the broker: the ledger's drops to 0 once its commits are in.
    const lag = await pollUntil(
      () => metricsOf(ledger),
      (t) =>
        sample(t, 'burnrate_consumer_lag', { role: 'ledger', topic: topics.enriched }) === 0 &&
        t.includes(`topic="${topics.enriched}",partition="1"`),
      20_000,
    );
    expect(sample(lag, 'burnrate_consumer_lag', { role: 'ledger', topic: topics.enriched })).toBe(0);
    // The enricher commits its offsets inside its transactions; they show once the broker applied them.
    const enricherLag = await pollUntil(
      () => metricsOf(enricher),
      (t) => sample(t, 'burnrate_consumer_lag', { role: 'enricher' }) === 0,
      20_000,
    );
    expect(sample(enricherLag, 'burnrate_consumer_lag', { role: 'enricher', topic: topics.events })).toBe(0);

    // The aggregator applied the 8 rows; one unmapped-customer and one unpriced-model alert fired,
    // each with its latency from the record, and each was delivered to the webhook once.
    const a = await pollUntil(
      () => metricsOf(alerting),
      (t) => sample(t, 'burnrate_delivery_attempts_total', { outcome: 'delivered' }) === 2,
      60_000,
    );
    expect(delta('a', a, 'burnrate_events_in_total', { role: 'aggregator' })).toBe(8);
    expect(delta('a', a, 'burnrate_events_out_total', { role: 'aggregator', output: 'redis' })).toBe(8);
    expect(sample(a, 'burnrate_alerts_fired_total', { rule: 'unmapped_customer' })).toBe(1);
    expect(sample(a, 'burnrate_alerts_fired_total', { rule: 'unpriced_model' })).toBe(1);
    expect(sample(a, 'burnrate_alert_latency_seconds_count')).toBe(2);
    expect(sample(a, 'burnrate_alert_latency_seconds_sum')).toBeGreaterThan(0);
    expect(sample(a, 'burnrate_alert_latency_seconds_sum')).toBeLessThan(60);
    expect(
      sample(a, 'burnrate_delivery_attempts_total', { destination: 'oncall', outcome: 'delivered' }),
    ).toBe(2);
    expect(sample(a, 'burnrate_delivery_failures_total')).toBeUndefined();
    expect(sample(a, 'burnrate_alert_delivery_seconds_count', { destination: 'oncall' })).toBe(2);
    expect(receiver.requests.length).toBe(2);
    expect((await ready(alerting)).status).toBe(200);
  });

  it('readiness goes red when the ledger stalls while its lag grows, and green when it resumes', async () => {
    // Negative control: the same trickle of events for longer than READY_STALL_MS with inserts
    // flowing — lag comes and goes, the offset moves — stays ready at every probe.
    let probes = 0;
    const notReady: unknown[] = [];
    const until = Date.now() + 8_000;
    while (Date.now() < until) {
      await emit([{ customer_ref: 'org_9', model: 'gpt-4o-mini' }]);
      const r = await ready(ledger);
      probes++;
      if (r.status !== 200) notReady.push(r.body.checks.filter((c) => !c.ok));
    }
    expect(probes).toBeGreaterThan(5);
    expect(notReady).toEqual([]);

    gate.set('hold');
    const heldAt = Date.now();
    const red = await pollUntil(
      async () => {
        await emit([{ customer_ref: 'org_9', model: 'gpt-4o-mini' }]);
        return ready(ledger);
      },
      (r) => r.status === 503,
      30_000,
    );
    expect(red.status).toBe(503);
    // Not before the records it holds have waited READY_STALL_MS.
    expect(Date.now() - heldAt).toBeGreaterThanOrEqual(6_000);
    expect(check(red, 'consumer:ledger')).toMatchObject({ ok: false });
    expect(check(red, 'consumer:ledger')!.reason).toMatch(/has not advanced .* while their lag grows/);
    // ClickHouse itself still answers (only inserts are held): that check stays green.
    expect(check(red, 'clickhouse')).toMatchObject({ ok: true });
    expect(gate.held()).toBeGreaterThan(0);
    // Liveness is not readiness: the process is alive, only not making progress.
    expect((await get(`${ledger.url()}/healthz`)).status).toBe(200);

    gate.set('pass');
    const green = await pollUntil(
      () => ready(ledger),
      (r) => r.status === 200,
      30_000,
    );
    expect(green.status).toBe(200);
    expect(check(green, 'consumer:ledger')).toMatchObject({ ok: true });
  });

  it('readiness goes red while Redis is unreachable past the grace, and green when it is back', async () => {
    const before = await ready(enricher);
    expect(before.status).toBe(200);
    expect(check(before, 'redis')).toMatchObject({ ok: true });
    await redis.kill();
    const killedAt = Date.now();
    const red = await pollUntil(
      () => ready(enricher),
      (r) => r.status === 503,
      20_000,
    );
    // Not before READY_DEPENDENCY_GRACE_MS (1 s here): a blip is not an outage.
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(1_000);
    expect(check(red, 'redis')).toMatchObject({ ok: false });
    expect(check(red, 'redis')!.reason).toMatch(/^Redis unreachable for \d+ s/);
    expect((await get(`${enricher.url()}/healthz`)).status).toBe(200);
    const gauge = await pollUntil(
      () => metricsOf(enricher),
      (t) => sample(t, 'burnrate_check_ok', { check: 'redis' }) === 0,
      5_000,
    );
    expect(sample(gauge, 'burnrate_check_ok', { check: 'redis' })).toBe(0);
    await redis.start();
    const green = await pollUntil(
      () => ready(enricher),
      (r) => r.status === 200,
      30_000,
    );
    expect(green.status).toBe(200);
    expect(check(green, 'redis')).toMatchObject({ ok: true });
  });

  it('a role that crashed turns /healthz and /readyz red, with the reason', async () => {
    expect((await get(`${ledger.url()}/healthz`)).status).toBe(200);
    expect(ledger.fatal).toEqual([]);
    gate.set('refuse');
    await emit([{ customer_ref: 'org_9', model: 'gpt-4o-mini' }]);
    const live = await pollUntil(
      () => get(`${ledger.url()}/healthz`),
      (r) => r.status === 503,
      30_000,
    );
    expect(live.status).toBe(503);
    expect(live.json()).toMatchObject({ status: 'failed', ok: false });
    expect(live.json().reason).toMatch(/ledger.*UNKNOWN_TABLE/);
    expect(ledger.fatal.map((e) => e.code)).toEqual(['role_failed']);
    const r = await ready(ledger);
    expect(r.status).toBe(503);
    expect(check(r, 'roles')).toMatchObject({ ok: false });
    // The enricher's process is unaffected.
    expect((await get(`${enricher.url()}/healthz`)).status).toBe(200);
  });
});
