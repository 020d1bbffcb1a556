import { Writable } from 'node:stream';
import { ClickHouseLogLevel, createClient } from '@clickhouse/client';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClickHouseHttpServer } from '../src/clickhouse/http/index.js';
import type { TopicNames } from '../src/kafka/topics.js';
import { createLedger } from '../src/roles/ledger/ledger.js';
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

/**
 * ClickHouse goes away (its HTTP endpoint stops) while events keep arriving: the ledger must hold
 * its batch, commit nothing it has not stored, warn once per interval, and resume by itself.
 */
const kafka = testKafka();
let ch: Awaited<ReturnType<typeof testClickHouse>>;
let topics: TopicNames;
const logs: Array<{ level: number; msg: string }> = [];
const logger = pino(
  { level: 'info' },
  new Writable({
    write(chunk, _enc, done) {
      logs.push(JSON.parse(chunk.toString()));
      done();
    },
  }),
);

function server(port: number) {
  return createClickHouseHttpServer({
    client: ch.client,
    host: '127.0.0.1',
    port,
    defaultDatabase: ch.database,
    users: [{ name: 'default', password: '', readonly: false }],
    logger: silentLogger,
  });
}

beforeAll(async () => {
  ch = await testClickHouse();
  topics = await testTopics(kafka);
});
afterAll(() => ch.client.close());

const count = async () => {
  const rs = await ch.client.query({
    query: `SELECT count() AS n FROM ${ch.database}.usage_events`,
    format: 'JSONEachRow',
  });
  return Number((await rs.json<{ n: string }>())[0]!.n);
};

describe('ledger backpressure', () => {
  it('holds, commits nothing unstored while ClickHouse is down, and resumes by itself', async () => {
    let http = server(0);
    const { port, url } = await http.start();
    const client = createClient({ url, request_timeout: 2_000, log: { level: ClickHouseLogLevel.OFF } });
    const groupId = `ledger-${topics.enriched}`;
    const ledger = createLedger(
      {
        database: ch.database,
        topics,
        groupId,
        fetchWaitMs: 100,
        maxBatchBytes: 256 * 1024,
        dedup: true,
        retryLogIntervalMs: 2_000,
      },
      { kafka, clickhouse: client, logger, fatal: recordFatal },
    );
    await ledger.start();
    const rows = Array.from({ length: 4_000 }, (_, i) => enrichedRow(i));
    await produceRows(kafka, topics.enriched, rows.slice(0, 1_000));
    expect(await pollUntil(count, (n) => n === 1_000, 30_000)).toBe(1_000);

    await http.stop();
    const downAt = Date.now();
    await produceRows(kafka, topics.enriched, rows.slice(1_000));
    const admin = kafka.admin();
    await admin.connect();
    const committed = async () => {
      const offsets = await admin.fetchOffsets({ groupId, topics: [topics.enriched] });
      return offsets[0]!.partitions.reduce((s, p) => s + Math.max(0, Number(p.offset)), 0);
    };
    // For five seconds of outage, every committed offset must be covered by stored rows
    // (one row per record here, so committed records ≤ stored rows at every poll).
    while (Date.now() - downAt < 5_000) {
      const [c, n] = [await committed(), await count()];
      expect(c).toBeLessThanOrEqual(n);
      expect(n).toBe(1_000);
      await new Promise((r) => setTimeout(r, 250));
    }
    const warnings = logs.filter((l) => l.level === 40 && l.msg.includes('ClickHouse is unavailable'));
    expect(warnings.length).toBeGreaterThanOrEqual(1);
    expect(warnings.length).toBeLessThanOrEqual(Math.ceil((Date.now() - downAt) / 2_000) + 1);

    http = server(port);
    await http.start();
    expect(await pollUntil(count, (n) => n >= 4_000, 60_000)).toBe(4_000);
    expect(await pollUntil(committed, (c) => c === 4_000, 30_000)).toBe(4_000);
    expect(logs.some((l) => l.msg.includes('ClickHouse is reachable again'))).toBe(true);
    await admin.disconnect();
    await ledger.stop();
    await client.close();
    await http.stop();
  }, 180_000);
});
