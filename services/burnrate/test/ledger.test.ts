import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compactRow, FACT_COLUMNS, KAFKA_POSITION_COLUMNS } from '../src/facts/columns.js';
import type { TopicNames } from '../src/kafka/topics.js';
import { createLedger } from '../src/roles/ledger/ledger.js';
import { insertRows } from '../src/roles/ledger/sink.js';
import {
  enrichedRow,
  pollUntil,
  produceRows,
  recordFatal,
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

/** A ledger with the test settings: short fetch waits, 1 MiB batches, deduplication on. */
function ledgerFor(t: TopicNames, groupId: string) {
  return createLedger(
    {
      database: ch.database,
      topics: t,
      groupId,
      fetchWaitMs: 100,
      maxBatchBytes: 1024 * 1024,
      dedup: true,
      retryLogIntervalMs: 1_000,
    },
    { kafka, clickhouse: ch.client, logger: silentLogger, fatal: recordFatal },
  );
}

/** All `rows` packed into ONE Kafka message on partition 0, as the enricher packs them. */
async function producePacked(topic: string, rows: Array<Record<string, unknown>>) {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  await producer.send({
    topic,
    acks: -1,
    messages: [{ partition: 0, value: rows.map((r) => compactRow(FACT_COLUMNS, r)).join('\n') }],
  });
  await producer.disconnect();
}

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
    const make = () => ledgerFor(topics, groupId);
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

  it('stores exactly the rows of a packed message that an interrupted insert left out', async () => {
    // The enricher packs many rows into one Kafka message. An earlier ledger stored only rows 1 and 3
    // of this one (its insert split into parts, then the process died) and never committed.
    const mine = await testTopics(kafka);
    const rows = Array.from({ length: 5 }, (_, i) => enrichedRow(10_000 + i));
    await producePacked(mine.enriched, rows);
    const position = (row: number) => ({
      kafka_topic: mine.enriched,
      kafka_partition: 0,
      kafka_offset: 0,
      kafka_row: row,
    });
    const columns = [...FACT_COLUMNS, ...KAFKA_POSITION_COLUMNS];
    await insertRows(
      ch.client,
      `${ch.database}.usage_events`,
      columns,
      [1, 3].map((row) => ({
        topic: mine.enriched,
        partition: 0,
        offset: 0n,
        row,
        json: compactRow(columns, { ...rows[row]!, ...position(row) }),
      })),
      undefined,
    );
    const ledger = ledgerFor(mine, `ledger-${mine.enriched}`);
    const stored = async () => {
      const rs = await ch.client.query({
        query: `SELECT count() AS n, uniqExact(event_id) AS ids, groupArray(kafka_row) AS r FROM (SELECT * FROM ${ch.database}.usage_events WHERE kafka_topic = {t:String} ORDER BY kafka_row)`,
        query_params: { t: mine.enriched },
        format: 'JSONEachRow',
      });
      return (await rs.json<{ n: string; ids: string; r: number[] }>())[0]!;
    };
    await ledger.start();
    const got = await pollUntil(stored, (t) => Number(t.n) >= 5, 30_000);
    await pollUntil(
      async () => ledger.stats().batches,
      (n) => n >= 1,
      10_000,
    );
    await ledger.stop();
    expect(got).toEqual({ n: '5', ids: '5', r: [0, 1, 2, 3, 4] });
    expect(ledger.stats()).toMatchObject({ rowsWritten: 3, rowsSkippedAsReplay: 2 });
  });

  it('isolates rejected rows inside a packed message and stores every other row', async () => {
    // Bisection inserts single rows of one message separately: their dedup tokens must differ, or
    // ClickHouse drops the later ones as "retries" of the earlier ones.
    const mine = await testTopics(kafka);
    const rows = Array.from({ length: 8 }, (_, i) =>
      enrichedRow(20_000 + i, i === 1 || i === 5 ? { tokens_input: 'lots' } : {}),
    );
    await producePacked(mine.enriched, rows);
    const ledger = ledgerFor(mine, `ledger-${mine.enriched}`);
    const count = async (sql: string) => {
      const rs = await ch.client.query({
        query: sql,
        query_params: { t: mine.enriched },
        format: 'JSONEachRow',
      });
      return (await rs.json<{ r: number[] }>())[0]!.r;
    };
    const stored = () =>
      count(
        `SELECT arraySort(groupArray(kafka_row)) AS r FROM ${ch.database}.usage_events WHERE kafka_topic = {t:String}`,
      );
    await ledger.start();
    await pollUntil(
      async () => ledger.stats().rowsRejected,
      (n) => n >= 2,
      30_000,
    );
    await ledger.stop();
    expect(await stored()).toEqual([0, 2, 3, 4, 6, 7]);
    const rejected = await count(
      `SELECT arraySort(groupArray(kafka_row)) AS r FROM ${ch.database}.dead_letters WHERE reason = 'sink_rejected' AND source_topic = {t:String}`,
    );
    expect(rejected).toEqual([1, 5]);
  });
});
