import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
});
