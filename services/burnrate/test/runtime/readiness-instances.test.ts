import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { type App, createApp } from '../../src/runtime/app.js';
import { createLifecycle, type Lifecycle } from '../../src/runtime/lifecycle.js';
import {
  enrichedRow,
  pollUntil,
  produceRows,
  silentLogger,
  testClickHouseServer,
  testKafka,
  testTopics,
  uniquePrefix,
} from '../fixtures.js';
import { clickHouseGate, get, sample } from './ops-harness.js';

/**
 * Two ledger instances in one consumer group, each reaching the same real ClickHouse through its own
 * gate. Holding one instance's inserts turns only that instance unready: each judges the partitions
 * it was assigned, so a healthy instance never reports another's stall (the negative control).
 */
const prefix = uniquePrefix();
const kafka = testKafka();
let ch: Awaited<ReturnType<typeof testClickHouseServer>>;
const gates: Array<Awaited<ReturnType<typeof clickHouseGate>>> = [];
const ledgers: Array<{ app: App; lifecycle: Lifecycle; url: () => string }> = [];
let topics: Awaited<ReturnType<typeof testTopics>>;

beforeAll(async () => {
  ch = await testClickHouseServer();
  topics = await testTopics(kafka, prefix);
  for (let i = 0; i < 2; i++) {
    const gate = await clickHouseGate(ch.url);
    gates.push(gate);
    const config = loadConfig({
      BURNRATE_ROLES: 'ledger',
      KAFKA_BROKERS: inject('kafkaBrokers'),
      BURNRATE_TOPIC_PREFIX: prefix,
      CLICKHOUSE_URL: gate.url,
      CLICKHOUSE_DATABASE: ch.database,
      LEDGER_FETCH_WAIT_MS: '100',
      LEDGER_MIN_BATCH_BYTES: '1',
      METRICS_PORT: '0',
      READY_PROBE_INTERVAL_MS: '200',
      READY_STALL_MS: '6000',
      READY_DEPENDENCY_GRACE_MS: '600000',
    });
    const app = createApp(config, { logger: silentLogger, fatal: () => {} });
    const lifecycle = createLifecycle(app.components, silentLogger, 20_000);
    ledgers.push({ app, lifecycle, url: () => app.ops.url() });
  }
  await Promise.all(ledgers.map((l) => l.lifecycle.start()));
});

afterAll(async () => {
  for (const g of gates) g.set('pass');
  for (const l of ledgers) await l.lifecycle.stop();
  for (const g of gates) await g.close();
  await ch?.stop();
});

const assigned = async (l: (typeof ledgers)[number]) =>
  sample((await get(`${l.url()}/metrics`)).text, 'burnrate_consumer_assigned_partitions', {
    role: 'ledger',
  }) ?? 0;
const status = async (l: (typeof ledgers)[number]) => (await get(`${l.url()}/readyz`)).status;
let n = 0;
const rows = () => Array.from({ length: 28 }, () => enrichedRow(n++));

describe('readiness with several instances of a role', { timeout: 120_000 }, () => {
  it('turns red only in the instance that stalls, and green again when it resumes', async () => {
    const [a, b] = ledgers as [(typeof ledgers)[0], (typeof ledgers)[0]];
    // The group has settled: the 5 partitions (usage.enriched has 4, usage.dlq 1) are shared.
    const shares = await pollUntil(
      async () => [await assigned(a), await assigned(b)],
      ([x, y]) => x! > 0 && y! > 0 && x! + y! === 5,
      60_000,
    );
    expect(shares[0]! + shares[1]!).toBe(5);
    await produceRows(kafka, topics.enriched, rows());
    expect(
      await pollUntil(
        () => status(a),
        (s) => s === 200,
        20_000,
      ),
    ).toBe(200);
    expect(
      await pollUntil(
        () => status(b),
        (s) => s === 200,
        20_000,
      ),
    ).toBe(200);

    gates[0]!.set('hold');
    const heldAt = Date.now();
    const seenByB: number[] = [];
    const red = await pollUntil(
      async () => {
        await produceRows(kafka, topics.enriched, rows());
        seenByB.push(await status(b));
        return get(`${a.url()}/readyz`);
      },
      (r) => r.status === 503,
      40_000,
    );
    expect(red.status).toBe(503);
    // Not before the records it holds have waited READY_STALL_MS.
    expect(Date.now() - heldAt).toBeGreaterThanOrEqual(6_000);
    const stalled = red.json().checks.find((c) => c.name === 'consumer:ledger')!;
    expect(stalled.ok).toBe(false);
    expect(stalled.reason).toMatch(/has not advanced/);
    // The other instance went on storing its partitions and never reported A's stall.
    expect(seenByB.length).toBeGreaterThan(5);
    expect(seenByB.filter((s) => s !== 200)).toEqual([]);
    expect(await status(b)).toBe(200);

    gates[0]!.set('pass');
    expect(
      await pollUntil(
        () => status(a),
        (s) => s === 200,
        30_000,
      ),
    ).toBe(200);
  });
});
