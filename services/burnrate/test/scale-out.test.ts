import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createClickHouseClient } from '../src/clickhouse/client.js';
import { ensureTopics, topicNames } from '../src/kafka/topics.js';
import { pollUntil, testKafka, uniquePrefix } from './fixtures.js';
import { exited, logField } from './process-harness.js';
import {
  describeGroup,
  expectedCost,
  metric,
  produceEvents,
  type RoleProcess,
  readTotals,
  scaleCatalog,
  scaleEvent,
  shareProblems,
  sharingProblems,
  startRole,
  type Totals,
  totalsProblems,
} from './scale-out-harness.js';

/**
 * Scale-out as deployed: every role its own `burnrate run` process — one owning ClickHouse (chDB)
 * and serving its HTTP interface, two enrichers, two ledgers reaching ClickHouse over HTTP — on one
 * usage.events topic of 8 partitions. Shown: both groups split the partitions between their two
 * members (read from the broker's group coordinator), each of the four processes handles a non-zero
 * share of the events (read from its own /metrics), and ClickHouse ends with exactly N facts, N
 * event_ids and the expected cost to the nano-USD, the rollups agreeing. Negative controls: the
 * sharing check fails on a group with one member (the real group, before the second joins), and
 * the totals check fails on the real totals with an expectation one event or one nano-USD off.
 */
const EVENTS = Number(process.env.SCALE_TEST_EVENTS ?? 30_000);
const PARTITIONS = 8;
const prefix = uniquePrefix();
const topics = topicNames(prefix);
const database = `db_${prefix.slice(1, 9)}`;
const kafka = testKafka();
const dir = mkdtempSync(join(tmpdir(), 'burnrate-scale-'));
const enricherGroup = `${prefix}burnrate-enricher`;
const ledgerGroup = `${prefix}burnrate-ledger`;
const eventPartitions = Array.from({ length: PARTITIONS }, (_, p) => `${topics.events}/${p}`);
const ledgerPartitions = [
  ...Array.from({ length: PARTITIONS }, (_, p) => `${topics.enriched}/${p}`),
  `${topics.dlq}/0`,
];

let admin: Admin;
let owner: RoleProcess;
let clickhouse: ReturnType<typeof createClickHouseClient>;
/** The clickhouse process's HTTP interface: the ledgers' CLICKHOUSE_URL. */
let chUrl: string;
const procs: Record<string, RoleProcess> = {};
let totals: Totals | undefined;
let expected: { events: number; cost: bigint };

function env(extra: Record<string, string>): Record<string, string> {
  return {
    KAFKA_BROKERS: inject('kafkaBrokers'),
    REDIS_URL: inject('redisUrl'),
    BURNRATE_TOPIC_PREFIX: prefix,
    KAFKA_TOPIC_PARTITIONS: String(PARTITIONS),
    CLICKHOUSE_DATABASE: database,
    ...extra,
  };
}

const enricher = (name: string) =>
  startRole(name, env({ BURNRATE_ROLES: 'enricher', BURNRATE_PRICES_FILE: join(dir, 'prices.json') }));
const ledger = (name: string, url: string) =>
  startRole(name, env({ BURNRATE_ROLES: 'ledger', CLICKHOUSE_URL: url }));

async function factCount(): Promise<number> {
  const rs = await clickhouse.query({
    query: `SELECT count() AS n FROM ${database}.usage_events`,
    format: 'JSONEachRow',
  });
  return Number((await rs.json<{ n: string }>())[0]!.n);
}

/** Fails fast with its output when a role process has died. */
function assertAlive(): void {
  for (const p of [owner, ...Object.values(procs)])
    if (p && p.child.exitCode !== null)
      throw new Error(`${p.name} exited ${p.child.exitCode}:\n${p.output()}`);
}

beforeAll(async () => {
  writeFileSync(join(dir, 'prices.json'), JSON.stringify(scaleCatalog()));
  await ensureTopics(kafka, topics, { partitions: PARTITIONS, replicationFactor: 1 });
  admin = kafka.admin();
  await admin.connect();
  owner = await startRole(
    'clickhouse',
    env({ BURNRATE_ROLES: 'clickhouse', BURNRATE_DATA_DIR: join(dir, 'chdb'), CLICKHOUSE_HTTP_PORT: '0' }),
  );
  const listening = await pollUntil(
    async () => logField(owner.output(), 'ClickHouse HTTP interface listening', 'url'),
    (u) => u !== undefined || owner.child.exitCode !== null,
    60_000,
  );
  if (!listening) throw new Error(`the clickhouse process did not listen:\n${owner.output()}`);
  chUrl = listening;
  clickhouse = createClickHouseClient({ kind: 'server', url: listening, username: 'default', password: '' });
});

afterAll(async () => {
  const stop = async (p: RoleProcess | undefined) => {
    if (!p) return;
    p.child.kill('SIGTERM');
    await Promise.race([exited(p.child), new Promise((r) => setTimeout(r, 20_000))]);
    if (p.child.exitCode === null) p.child.kill('SIGKILL');
  };
  await Promise.all(Object.values(procs).map(stop));
  await clickhouse?.close();
  await stop(owner);
  await admin?.disconnect();
  const redis = new Redis(inject('redisUrl'));
  for await (const keys of redis.scanStream({ match: `${prefix}*`, count: 1_000 }))
    if ((keys as string[]).length > 0) await redis.unlink(...(keys as string[]));
  redis.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

describe('two enrichers and two ledgers on one 8-partition usage.events', { timeout: 90_000 }, () => {
  it('negative control: with one member per group, the sharing check fails', async () => {
    [procs['enricher-a'], procs['ledger-a']] = await Promise.all([
      enricher('enricher-a'),
      ledger('ledger-a', chUrl),
    ]);
    // Each group settles with its only member owning every partition...
    const alone = await pollUntil(
      async () => {
        assertAlive();
        return [await describeGroup(admin, enricherGroup), await describeGroup(admin, ledgerGroup)] as const;
      },
      ([e, l]) =>
        sharingProblems(e, ['enricher-a'], eventPartitions).length === 0 &&
        sharingProblems(l, ['ledger-a'], ledgerPartitions).length === 0,
      60_000,
    );
    expect(sharingProblems(alone[0], ['enricher-a'], eventPartitions)).toEqual([]);
    expect(sharingProblems(alone[1], ['ledger-a'], ledgerPartitions)).toEqual([]);
    // ...which the check that the work is shared by two members rejects.
    expect(sharingProblems(alone[0], ['enricher-a', 'enricher-b'], eventPartitions)).toEqual([
      'members are [enricher-a], expected [enricher-a, enricher-b]',
    ]);
    expect(sharingProblems(alone[1], ['ledger-a', 'ledger-b'], ledgerPartitions)).toEqual([
      'members are [ledger-a], expected [ledger-a, ledger-b]',
    ]);
  });

  it('with a second member each, both groups split the partitions, every member owning some', async () => {
    [procs['enricher-b'], procs['ledger-b']] = await Promise.all([
      enricher('enricher-b'),
      ledger('ledger-b', chUrl),
    ]);
    const shared = await pollUntil(
      async () => {
        assertAlive();
        return [await describeGroup(admin, enricherGroup), await describeGroup(admin, ledgerGroup)] as const;
      },
      ([e, l]) =>
        sharingProblems(e, ['enricher-a', 'enricher-b'], eventPartitions).length === 0 &&
        sharingProblems(l, ['ledger-a', 'ledger-b'], ledgerPartitions).length === 0,
      60_000,
    );
    expect(sharingProblems(shared[0], ['enricher-a', 'enricher-b'], eventPartitions)).toEqual([]);
    expect(sharingProblems(shared[1], ['ledger-a', 'ledger-b'], ledgerPartitions)).toEqual([]);
    // Each process's own view agrees: its consumer was assigned what the coordinator says it owns.
    const owned = Object.fromEntries(
      [...shared[0].members, ...shared[1].members].map((m) => [m.clientId, m.partitions.length]),
    );
    const assigned = await pollUntil(
      async () =>
        Object.fromEntries(
          await Promise.all(
            Object.values(procs).map(async (p) => [
              p.name,
              await metric(p, 'burnrate_consumer_assigned_partitions', { role: p.name.split('-')[0]! }),
            ]),
          ),
        ) as Record<string, number>,
      (a) =>
        JSON.stringify(a, Object.keys(owned).sort()) === JSON.stringify(owned, Object.keys(owned).sort()),
      20_000,
    );
    expect(assigned).toEqual(owned);
  });

  it(`each process handles a share of ${EVENTS} events, and ClickHouse holds each exactly once at the exact cost`, async () => {
    const now = Date.now();
    const events = Array.from({ length: EVENTS }, (_, i) => scaleEvent(i, now));
    expected = { events: EVENTS, cost: events.reduce((s, e) => s + expectedCost(e), 0n) };
    const cpu = async () =>
      Object.fromEntries(
        await Promise.all(
          [owner, ...Object.values(procs)].map(async (p) => [
            p.name,
            await metric(p, 'burnrate_process_cpu_seconds_total', {}),
          ]),
        ),
      ) as Record<string, number>;
    const cpuBefore = await cpu();
    const started = performance.now();
    await produceEvents(kafka, topics.events, events);
    // A light poll (the full totals join every table); duplicates would reach N early and fail below.
    const stored = await pollUntil(
      async () => {
        assertAlive();
        return factCount();
      },
      (n) => n >= EVENTS,
      60_000,
    );
    const seconds = (performance.now() - started) / 1000;
    expect(stored).toBe(EVENTS);

    // (a) The work was shared: each process's own counters, read from its /metrics.
    const handled = async (role: 'enricher' | 'ledger', output: string) =>
      Object.fromEntries(
        await Promise.all(
          ['a', 'b'].map(async (x) => [
            `${role}-${x}`,
            await metric(procs[`${role}-${x}`]!, 'burnrate_events_out_total', { role, output }),
          ]),
        ),
      ) as Record<string, number>;
    const enriched = await pollUntil(
      () => handled('enricher', 'enriched'),
      (c) => shareProblems(c, EVENTS).length === 0,
      10_000,
    );
    const ledgered = await pollUntil(
      () => handled('ledger', 'usage_events'),
      (c) => shareProblems(c, EVENTS).length === 0,
      10_000,
    );
    expect(shareProblems(enriched, EVENTS)).toEqual([]);
    expect(shareProblems(ledgered, EVENTS)).toEqual([]);
    // No rebalance moved partitions during the run: the split shown above is the one that did the work.
    expect(
      sharingProblems(
        await describeGroup(admin, enricherGroup),
        ['enricher-a', 'enricher-b'],
        eventPartitions,
      ),
    ).toEqual([]);
    expect(
      sharingProblems(await describeGroup(admin, ledgerGroup), ['ledger-a', 'ledger-b'], ledgerPartitions),
    ).toEqual([]);

    // (b) The totals are exact: N facts, N ids, the expected nano-USD, rollups agreeing, nothing dead-lettered.
    totals = await readTotals(clickhouse, database);
    expect(totalsProblems(totals, expected)).toEqual([]);

    const cpuAfter = await cpu();
    const perEvent = Object.entries(cpuAfter)
      .map(([name, s]) => `${name} ${(((s - cpuBefore[name]!) * 1e6) / EVENTS).toFixed(1)}`)
      .join(', ');
    console.info(
      `[scale-out] ${EVENTS} events in ${seconds.toFixed(1)} s (${Math.round(EVENTS / seconds)}/s, produce included); ` +
        `enriched ${JSON.stringify(enriched)}, stored ${JSON.stringify(ledgered)}; CPU µs/event: ${perEvent}`,
    );
  });

  it('negative control: the totals check fails when the expectation is one event or one nano-USD off', () => {
    expect(totals).toBeDefined();
    expect(totalsProblems(totals!, { events: expected.events, cost: expected.cost + 1n })).toEqual([
      `cost is ${expected.cost}, expected ${expected.cost + 1n}`,
      `hourlyCost is ${expected.cost}, expected ${expected.cost + 1n}`,
      `periodCost is ${expected.cost}, expected ${expected.cost + 1n}`,
    ]);
    const fewer = String(expected.events - 1);
    expect(totalsProblems(totals!, { events: expected.events - 1, cost: expected.cost })).toEqual([
      `facts is ${EVENTS}, expected ${fewer}`,
      `uniqueIds is ${EVENTS}, expected ${fewer}`,
      `hourlyEvents is ${EVENTS}, expected ${fewer}`,
      `periodEvents is ${EVENTS}, expected ${fewer}`,
    ]);
    // And the share check rejects a load one process carried alone.
    expect(shareProblems({ 'ledger-a': EVENTS, 'ledger-b': 0 }, EVENTS)).toEqual([
      'ledger-b handled no event',
    ]);
  });
});
