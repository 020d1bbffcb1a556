import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ClickHouseClient, ClickHouseLogLevel, createClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClickHouseClient } from '../src/clickhouse/client.js';
import { decodeBlocks, encodeBlock, encodeBlocks, METHOD } from '../src/clickhouse/http/compressed-block.js';
import { createClickHouseHttpServer } from '../src/clickhouse/http/index.js';
import { silentLogger } from './fixtures.js';

/** The wire features analysts' drivers need: block compression, sessions, binary inserts. */
const WRITER = { name: 'writer', password: 'w-secret', readonly: false };
const ANALYST = { name: 'analyst', password: 'a-secret', readonly: true };
const DATABASE = 'wire_test';

const owner = createClickHouseClient({
  kind: 'embedded',
  path: mkdtempSync(join(tmpdir(), 'burnrate-chwire-')),
});
const server = createClickHouseHttpServer({
  client: owner,
  host: '127.0.0.1',
  port: 0,
  users: [WRITER, ANALYST],
  defaultDatabase: DATABASE,
  logger: silentLogger,
  maxSessions: 4,
});
let url = '';
const remotes: ClickHouseClient[] = [];

interface Call {
  method?: 'GET' | 'POST';
  query?: string;
  body?: string | Buffer;
  params?: Record<string, string>;
  user?: { name: string; password: string };
}

async function call({ method = 'POST', query, body, params = {}, user = WRITER }: Call) {
  const target = new URL(url);
  if (query !== undefined) target.searchParams.set('query', query);
  for (const [key, value] of Object.entries(params)) target.searchParams.set(key, value);
  const response = await fetch(target, {
    method,
    headers: { 'X-ClickHouse-User': user.name, 'X-ClickHouse-Key': user.password },
    ...(method === 'POST' ? { body: body ?? '' } : {}),
  });
  const bytes = Buffer.from(await response.arrayBuffer());
  return { status: response.status, headers: response.headers, bytes, text: bytes.toString('utf8') };
}

const count = async (table: string) => (await call({ body: `SELECT count() FROM ${table}` })).text.trim();

beforeAll(async () => {
  ({ url } = await server.start());
  for (const sql of [
    `CREATE DATABASE ${DATABASE}`,
    `CREATE TABLE ${DATABASE}.facts (id UInt64, customer String, at DateTime64(3, 'UTC'), cost UInt64) ENGINE = MergeTree ORDER BY id`,
  ]) {
    expect((await call({ body: sql, params: { database: 'default' } })).status).toBe(200);
  }
});

afterAll(async () => {
  await Promise.all(remotes.map((client) => client.close()));
  await server.stop();
  await owner.close();
});

describe('compress=1 and decompress=1 (ClickHouse block compression)', () => {
  const query = "SELECT number, repeat('burnrate', 8) AS s FROM numbers(100000) FORMAT TSV";

  it('compresses buffered and streamed responses into checksummed LZ4 blocks', async () => {
    const plain = await call({ body: query });
    const compressed = await call({ body: query, params: { compress: '1' } });
    expect(compressed.status).toBe(200);
    expect(compressed.bytes[16]).toBe(METHOD.LZ4);
    expect(compressed.bytes.length).toBeLessThan(plain.bytes.length / 2);
    expect(decodeBlocks(compressed.bytes, { maxBytes: 1 << 30 }).equals(plain.bytes)).toBe(true);
    const json = await call({ body: 'SELECT 1 AS one FORMAT JSON', params: { compress: '1' } });
    expect(JSON.parse(decodeBlocks(json.bytes, { maxBytes: 1 << 20 }).toString()).data).toEqual([{ one: 1 }]);
  });

  it('compresses error bodies after authentication, not authentication failures', async () => {
    const failed = await call({ body: 'SELECT nope', params: { compress: '1' } });
    expect(failed.status).toBe(404);
    expect(decodeBlocks(failed.bytes, { maxBytes: 1 << 20 }).toString()).toMatch(/^Code: 47\./);
    const denied = await call({
      body: 'SELECT 1',
      params: { compress: '1' },
      user: { name: 'writer', password: 'wrong' },
    });
    expect(denied.status).toBe(403);
    expect(denied.text).toMatch(/^Code: 516\./);
  });

  it('reads a compressed request body: a query, and rows for an INSERT', async () => {
    const select = await call({
      body: encodeBlock(Buffer.from('SELECT 40 + 2')),
      params: { decompress: '1' },
    });
    expect(select).toMatchObject({ status: 200, text: '42\n' });
    const rows = '{"id":1,"customer":"c1","at":"2026-01-02 03:04:05.678","cost":5}\n';
    const insert = await call({
      query: 'INSERT INTO facts FORMAT JSONEachRow',
      body: encodeBlocks(Buffer.from(rows), METHOD.NONE),
      params: { decompress: '1' },
    });
    expect(insert.status).toBe(200);
    expect(await count('facts')).toBe('1');
  });

  it('answers a hostile compressed body with one clear error and no effect', async () => {
    const rows = Buffer.from('{"id":2,"customer":"c2","at":"2026-01-02 03:04:05","cost":7}\n');
    const good = encodeBlock(rows);
    const badChecksum = Buffer.from(good);
    badChecksum[0]! ^= 1;
    const wrongMethod = Buffer.from(good);
    wrongMethod[16] = 0x90;
    const oversized = Buffer.from(good);
    oversized.writeUInt32LE(0x50000000, 17);
    const cases: Array<[string, Buffer, number, number]> = [
      ['bad checksum', badChecksum, 40, 500],
      ['truncated block', good.subarray(0, good.length - 3), 33, 500],
      ['wrong method byte', wrongMethod, 89, 500],
      ['oversized declared size', oversized, 39, 500],
    ];
    const before = await count('facts');
    for (const [name, body, code, status] of cases) {
      const response = await call({
        query: 'INSERT INTO facts FORMAT JSONEachRow',
        body,
        params: { decompress: '1' },
      });
      expect([name, response.status, response.headers.get('x-clickhouse-exception-code')]).toEqual([
        name,
        status,
        String(code),
      ]);
      expect(response.text.trim().split('\n')).toHaveLength(1);
    }
    expect(await count('facts')).toBe(before);
    // negative control: the intact block inserts
    expect(
      (await call({ query: 'INSERT INTO facts FORMAT JSONEachRow', body: good, params: { decompress: '1' } }))
        .status,
    ).toBe(200);
    expect(Number(await count('facts'))).toBe(Number(before) + 1);
  });
});
