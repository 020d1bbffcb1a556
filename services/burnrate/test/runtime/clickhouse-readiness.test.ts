import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { type App, createApp } from '../../src/runtime/app.js';
import { createLifecycle, type Lifecycle } from '../../src/runtime/lifecycle.js';
import {
  pollUntil,
  silentLogger,
  testClickHouseServer,
  testKafka,
  testTopics,
  uniquePrefix,
} from '../fixtures.js';
import { clickHouseGate, get } from './ops-harness.js';

/**
 * A ledger whose ClickHouse goes away (every connection dropped, through a gate in front of a real
 * ClickHouse HTTP interface) turns unready once it has failed past READY_DEPENDENCY_GRACE_MS, stays
 * live, and turns ready again when ClickHouse is back.
 */
const prefix = uniquePrefix();
let ch: Awaited<ReturnType<typeof testClickHouseServer>>;
let gate: Awaited<ReturnType<typeof clickHouseGate>>;
let app: App;
let lifecycle: Lifecycle;

beforeAll(async () => {
  ch = await testClickHouseServer();
  gate = await clickHouseGate(ch.url);
  await testTopics(testKafka(), prefix);
  const config = loadConfig({
    BURNRATE_ROLES: 'ledger',
    KAFKA_BROKERS: inject('kafkaBrokers'),
    BURNRATE_TOPIC_PREFIX: prefix,
    CLICKHOUSE_URL: gate.url,
    CLICKHOUSE_DATABASE: ch.database,
    METRICS_PORT: '0',
    READY_PROBE_INTERVAL_MS: '200',
    READY_DEPENDENCY_GRACE_MS: '2000',
  });
  app = createApp(config, { logger: silentLogger, fatal: () => {} });
  lifecycle = createLifecycle(app.components, silentLogger, 20_000);
  await lifecycle.start();
});

afterAll(async () => {
  gate?.set('pass');
  await lifecycle?.stop();
  await gate?.close();
  await ch?.stop();
});

const readyz = async () => {
  const r = await get(`${app.ops.url()}/readyz`);
  return { status: r.status, clickhouse: r.json().checks.find((c) => c.name === 'clickhouse')! };
};

describe('readiness and ClickHouse', { timeout: 60_000 }, () => {
  it('goes red when ClickHouse is unreachable past the grace, and green when it is back', async () => {
    expect(await pollUntil(readyz, (r) => r.status === 200, 20_000)).toMatchObject({ status: 200 });
    gate.set('down');
    const downAt = Date.now();
    const red = await pollUntil(readyz, (r) => r.status === 503, 20_000);
    expect(red.status).toBe(503);
    // Not before the grace: a blip is not an outage.
    expect(Date.now() - downAt).toBeGreaterThanOrEqual(2_000);
    expect(red.clickhouse.ok).toBe(false);
    expect(red.clickhouse.reason).toMatch(/^ClickHouse unreachable for \d+ s: /);
    expect((await get(`${app.ops.url()}/healthz`)).status).toBe(200);
    gate.set('pass');
    const green = await pollUntil(readyz, (r) => r.status === 200, 20_000);
    expect(green.status).toBe(200);
    expect(green.clickhouse).toMatchObject({ ok: true, reason: '' });
  });
});
