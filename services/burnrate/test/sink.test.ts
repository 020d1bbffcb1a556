import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_ATTEMPT, MAX_DEPTH, MAX_LONG, MAX_TOKENS_PER_BUCKET, MAX_UINT32 } from '@burnrate/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertLines } from '../src/clickhouse/client.js';
import { classifyClickHouseError } from '../src/clickhouse/errors.js';
import { compactRow, FACT_COLUMNS, KAFKA_POSITION_COLUMNS } from '../src/facts/columns.js';
import { insertOrIsolate, insertRows } from '../src/roles/ledger/sink.js';
import { enrichedRow, testClickHouse } from './fixtures.js';

let ch: Awaited<ReturnType<typeof testClickHouse>>;
beforeAll(async () => {
  ch = await testClickHouse();
});
afterAll(() => ch.client.close());

const columns = [...FACT_COLUMNS, ...KAFKA_POSITION_COLUMNS];
const row = (i: number, extra: Record<string, unknown> = {}) => ({
  topic: 'sink',
  partition: 0,
  offset: BigInt(i),
  row: 0,
  json: compactRow(columns, {
    ...enrichedRow(i),
    kafka_topic: 'sink',
    kafka_partition: 0,
    kafka_offset: i,
    kafka_row: 0,
    ...extra,
  }),
});
const count = async () => {
  const rs = await ch.client.query({
    query: `SELECT count() AS n FROM ${ch.database}.usage_events WHERE kafka_topic = 'sink'`,
    format: 'JSONEachRow',
  });
  return Number((await rs.json<{ n: string }>())[0]!.n);
};

describe('ClickHouse sink', () => {
  it('deduplicates a retried insert by token, and the token never sticks to later inserts', async () => {
    const table = `${ch.database}.usage_events`;
    await insertRows(ch.client, table, columns, [row(1), row(2)], 'sink/0/1-2/2');
    await insertRows(ch.client, table, columns, [row(1), row(2)], 'sink/0/1-2/2');
    expect(await count()).toBe(2);
    // Different rows right after: neither an untokened nor a differently tokened insert may be dropped.
    await insertRows(ch.client, table, columns, [row(3)], undefined);
    await insertRows(ch.client, table, columns, [row(4)], 'sink/0/4-4/1');
    expect(await count()).toBe(4);
  });

  it('isolates the rows ClickHouse rejects and stores the rest', async () => {
    const table = `${ch.database}.usage_events`;
    const rows = [row(10), row(11, { tokens_input: 'lots' }), row(12)];
    const rejected = await insertOrIsolate(ch.client, table, columns, rows, () => undefined);
    expect(rejected.map((r) => r.row.offset)).toEqual([11n]);
    expect(rejected[0]!.error.code).toBe('clickhouse_rejected_rows');
    expect(await count()).toBe(6);
  });

  it('stores the largest values the contract accepts unchanged; one beyond would wrap (fuzz regression)', async () => {
    const table = `${ch.database}.usage_events`;
    const edges = {
      depth: MAX_DEPTH,
      attempt: MAX_ATTEMPT,
      requests: MAX_UINT32,
      latency_ms: MAX_LONG,
      units_images: MAX_UINT32,
      units_web_search_calls: MAX_UINT32,
      units_audio_ms: MAX_LONG,
      tokens_input: MAX_TOKENS_PER_BUCKET,
      provider_reported_cost_nanos: MAX_LONG,
    };
    await insertRows(
      ch.client,
      table,
      columns,
      [row(20, edges), row(21, { depth: MAX_DEPTH + 1 })],
      undefined,
    );
    const rs = await ch.client.query({
      query: `SELECT kafka_offset, ${Object.keys(edges).join(', ')} FROM ${table} WHERE kafka_topic = 'sink' AND kafka_offset IN (20, 21) ORDER BY kafka_offset`,
      format: 'JSONEachRow',
      clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
    });
    const [stored, beyond] = await rs.json<Record<string, number>>();
    expect(stored).toMatchObject(edges);
    // What the validator's bounds guard against: ClickHouse wraps an out-of-range integer silently.
    expect(beyond!.depth).toBe(0);
  });
});

describe('insertLines into chDB', () => {
  it('stores the bytes through a spool file that is gone afterwards, and first clears files a killed process left', async () => {
    const spool = join(ch.path, 'insert-spool');
    mkdirSync(spool, { recursive: true });
    writeFileSync(join(spool, 'left-by-a-killed-ledger.jsonl'), 'x');
    const before = await count();
    const bytes = Buffer.from(`${row(900).json}\n${row(901).json}\n`);
    await insertLines(ch.client, {
      table: `${ch.database}.usage_events`,
      columns,
      format: 'JSONCompactEachRow',
      bytes,
      settings: { insert_deduplication_token: 'lines/900-901' },
    });
    expect(await count()).toBe(before + 2);
    expect(readdirSync(spool)).toEqual([]);
    // A rejected body is an error with the engine's code, and leaves no file either.
    const error = await insertLines(ch.client, {
      table: `${ch.database}.usage_events`,
      columns,
      format: 'JSONCompactEachRow',
      bytes: Buffer.from('[1,2,3]\n'),
      settings: {},
    }).catch((e: unknown) => e);
    expect(classifyClickHouseError(error, 'a test insert').code).toBe('clickhouse_rejected_rows');
    expect(readdirSync(spool)).toEqual([]);
  });
});
