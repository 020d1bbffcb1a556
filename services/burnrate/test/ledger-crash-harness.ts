import { afterAll, beforeAll, inject } from 'vitest';
import {
  enrichedRow,
  pollUntil,
  produceRows,
  testClickHouseServer,
  testKafka,
  testTopics,
} from './fixtures.js';
import { exited, kill, spawnBurnrate } from './process-harness.js';

/**
 * Shared by ledger-crash.test.ts and its negative control. Invariant 1 and 2 with real processes: the ledger is SIGKILLed at random moments while 100,000
 * events flow; afterwards ClickHouse holds each event exactly once and the rollups agree. The same
 * run with deduplication switched off must show duplicates (the negative control), proving the
 * test can fail.
 */
export const EVENTS = Number(process.env.CRASH_TEST_EVENTS ?? 100_000);
export const KILLS = Number(process.env.CRASH_TEST_KILLS ?? 10);
const kafka = testKafka();
let ch: Awaited<ReturnType<typeof testClickHouseServer>>;
let url: string;

beforeAll(async () => {
  ch = await testClickHouseServer();
  url = ch.url;
});
// Bounded inside: once a full-suite run saw this teardown take over 120 s under load.
afterAll(() => ch.stop());

async function totals(table: string) {
  const rs = await ch.client.query({
    query: `SELECT count() AS n, uniqExact(event_id) AS ids, sum(cost_total_nanos) AS cost FROM ${ch.database}.${table}`,
    format: 'JSONEachRow',
  });
  return (await rs.json<{ n: string; ids: string; cost: string }>())[0]!;
}

export async function rollup() {
  const rs = await ch.client.query({
    query: `SELECT (SELECT sum(events) FROM ${ch.database}.usage_hourly) AS hourly_events,
                   (SELECT sum(cost_total_nanos) FROM ${ch.database}.usage_hourly) AS hourly_cost,
                   (SELECT sum(events) FROM ${ch.database}.customer_period_cost) AS period_events,
                   (SELECT sum(cost_total_nanos) FROM ${ch.database}.customer_period_cost) AS period_cost`,
    format: 'JSONEachRow',
  });
  return (await rs.json<Record<string, string>>())[0]!;
}

export async function crashRun(dedup: boolean, prefix: string) {
  const topics = await testTopics(kafka, prefix);
  // Every other event a month earlier: each insert then becomes two parts (PARTITION BY month), which
  // a kill can leave half stored.
  const rows = Array.from({ length: EVENTS }, (_, i) =>
    enrichedRow(
      i,
      i % 2 ? { occurred_at: Date.UTC(2026, 7, 20) + i, billing_period_start: '2026-08-01' } : {},
    ),
  );
  const expectedCost = rows.reduce((s, r) => s + BigInt(r.cost_total_nanos as number), 0n).toString();
  const env = {
    BURNRATE_ROLES: 'ledger',
    KAFKA_BROKERS: inject('kafkaBrokers'),
    BURNRATE_TOPIC_PREFIX: prefix,
    CLICKHOUSE_URL: url,
    CLICKHOUSE_DATABASE: ch.database,
    LEDGER_DEDUP: String(dedup),
    LEDGER_FETCH_WAIT_MS: '50',
    LEDGER_MAX_BATCH_BYTES: String(2 * 1024 * 1024),
    // Most of the ledger's time is then spent with rows stored but not committed: the kills land
    // in the window that matters, for the real test and the negative control alike.
    LEDGER_COMMIT_DELAY_MS: '1000',
    LEDGER_SESSION_TIMEOUT_MS: '6000',
  };
  // Events keep arriving while the ledger is being killed: each incarnation gets a fresh slice
  // while it starts, so every kill lands in a ledger that is busy storing (a ledger that has caught
  // up with everything produced would be killed idle, which proves nothing).
  const slice = Math.ceil(EVENTS / (KILLS + 1));
  // Packed like the enricher's output, so kills can leave a message partly stored.
  const produceSlice = (k: number) =>
    produceRows(kafka, topics.enriched, rows.slice(k * slice, (k + 1) * slice), 25);
  for (let k = 0; k < KILLS; k++) {
    const { child } = spawnBurnrate(env);
    const before = Number((await totals('usage_events')).n);
    await produceSlice(k);
    // Kill at a random moment after this ledger has stored something: a kill before it owns
    // partitions (group join waits for the previous, dead member's session to expire) proves nothing.
    await pollUntil(
      () => totals('usage_events'),
      (t) => Number(t.n) > before || child.exitCode !== null,
      60_000,
    );
    // Every other kill lands inside the stored-but-uncommitted window (the commit delay is 1 s and
    // the insert was seen at most one poll ago); the rest at any moment of the next three seconds.
    await new Promise((r) => setTimeout(r, Math.random() * (k % 2 === 0 ? 400 : 3_000)));
    await kill(child, 'SIGKILL');
  }
  await produceSlice(KILLS);
  const final = spawnBurnrate(env);
  const facts = await pollUntil(
    () => totals('usage_events'),
    // Every distinct event stored (with dedup off, duplicates alone could reach the row count).
    (t) => Number(t.ids) >= EVENTS,
    240_000,
  );
  // Let anything in flight settle, then stop gracefully.
  final.child.kill('SIGTERM');
  await exited(final.child);
  return { facts: await totals('usage_events'), expectedCost, reached: facts };
}
