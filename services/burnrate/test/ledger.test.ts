import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TopicNames } from '../src/kafka/topics.js';
import { createLedger } from '../src/roles/ledger/ledger.js';
import {
  enrichedRow,
  pollUntil,
  produceRows,
  silentLogger,
  testClickHouse,
  testKafka,
  testTopics,
} from './fixtures.js';

const kafka = testKafka();
let ch: Awaited<ReturnType<typeof testClickHouse>>;
let topics: TopicNames;

beforeAll(async () => {
  ch = await testClickHouse();
  topics = await testTopics(kafka);
});
afterAll(() => ch.client.close());

async function facts() {
  const rs = await ch.client.query({
    query: `SELECT count() AS n, uniqExact(event_id) AS ids, sum(cost_total_nanos) AS cost FROM ${ch.database}.usage_events`,
    format: 'JSONEachRow',
  });
  return (await rs.json<{ n: string; ids: string; cost: string }>())[0]!;
}

describe('ledger', () => {
  it('writes enriched events to ClickHouse, then commits their offsets; a restart writes nothing twice', async () => {
    const rows = Array.from({ length: 3_000 }, (_, i) => enrichedRow(i));
    const expectedCost = rows.reduce((s, r) => s + BigInt(r.cost_total_nanos as number), 0n);
    await produceRows(kafka, topics.enriched, rows);
    const groupId = `ledger-${topics.enriched}`;
    const make = () =>
      createLedger({
        kafka,
        clickhouse: ch.client,
        database: ch.database,
        topics,
        groupId,
        fetchWaitMs: 100,
        maxBatchBytes: 1024 * 1024,
        dedup: true,
        retryLogIntervalMs: 1_000,
        logger: silentLogger,
      });
    const ledger = make();
    await ledger.start();
    const got = await pollUntil(facts, (f) => f.n === '3000', 60_000);
    await ledger.stop();
    expect(got).toEqual({ n: '3000', ids: '3000', cost: expectedCost.toString() });

    const admin = kafka.admin();
    await admin.connect();
    const committed = await admin.fetchOffsets({ groupId, topics: [topics.enriched] });
    const high = await admin.fetchTopicOffsets(topics.enriched);
    await admin.disconnect();
    const sum = (xs: Array<{ offset: string }>) => xs.reduce((s, p) => s + Number(p.offset), 0);
    expect(sum(committed[0]!.partitions)).toBe(sum(high.map((h) => ({ offset: h.high }))));

    // Reset the group to the beginning: every row is a replay and must be skipped, not re-inserted.
    const admin2 = kafka.admin();
    await admin2.connect();
    await admin2.resetOffsets({ groupId, topic: topics.enriched, earliest: true });
    await admin2.disconnect();
    const replay = make();
    await replay.start();
    await pollUntil(
      async () => replay.stats().rowsSkippedAsReplay,
      (n) => n >= 3000,
      60_000,
    );
    await replay.stop();
    expect(replay.stats().rowsSkippedAsReplay).toBe(3000);
    expect(await facts()).toEqual({ n: '3000', ids: '3000', cost: expectedCost.toString() });

    const hourly = await ch.client.query({
      query: `SELECT sum(events) AS e, sum(cost_total_nanos) AS c FROM ${ch.database}.usage_hourly`,
      format: 'JSONEachRow',
    });
    expect((await hourly.json())[0]).toEqual({ e: '3000', c: expectedCost.toString() });
  });
});
