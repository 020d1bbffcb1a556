import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ClickHouseClient, ClickHouseLogLevel, createClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClickHouseClient } from '../src/clickhouse/client.js';
import { decodeBlocks, encodeBlock, encodeBlocks, METHOD } from '../src/clickhouse/http/compressed-block.js';
import { createClickHouseHttpServer } from '../src/clickhouse/http/index.js';
import { LZ4_CLI_FRAME } from './clickhouse-http-lz4-fixture.js';
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

describe('sessions (session_id)', () => {
  const inSession = (id: string, body: string, params: Record<string, string> = {}, user = WRITER) =>
    call({ body, params: { session_id: id, ...params }, user });

  it('keeps temporary tables, SET and USE between requests of one session, and nowhere else', async () => {
    expect((await inSession('s1', 'CREATE TEMPORARY TABLE scratch (x UInt64)')).status).toBe(200);
    expect((await inSession('s1', 'INSERT INTO scratch SELECT number FROM numbers(10)')).status).toBe(200);
    expect((await inSession('s1', 'SET max_threads = 3')).status).toBe(200);
    expect((await inSession('s1', 'USE system')).status).toBe(200);
    expect(
      (await inSession('s1', "SELECT sum(x), getSetting('max_threads'), currentDatabase() FROM scratch"))
        .text,
    ).toBe('45\t3\tsystem\n');
    // the database parameter still names the database for its own request
    expect((await inSession('s1', 'SELECT currentDatabase()', { database: DATABASE })).text).toBe(
      `${DATABASE}\n`,
    );
    const other = await inSession('s2', 'SELECT count() FROM scratch');
    expect(other.status).toBe(404);
    expect((await call({ body: 'SELECT count() FROM scratch' })).status).toBe(404);
    // sessions are per user: the analyst's s1 is another session
    expect((await inSession('s1', 'SELECT count() FROM scratch', {}, ANALYST)).status).toBe(404);
  });

  it('runs one query at a time per session: a second one gets SESSION_IS_LOCKED (373)', async () => {
    const slow = inSession(
      'locked',
      'SELECT sleepEachRow(0.3) FROM numbers(5) SETTINGS max_block_size = 1 FORMAT Null',
      {
        wait_end_of_query: '1',
      },
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    const second = await inSession('locked', 'SELECT 1');
    expect(second.status).toBe(500);
    expect(second.headers.get('x-clickhouse-exception-code')).toBe('373');
    expect(second.text).toMatch(
      /^Code: 373\. DB::Exception: Session locked is locked by a concurrent client\. \(SESSION_IS_LOCKED\)/,
    );
    expect((await slow).status).toBe(200);
    expect((await inSession('locked', 'SELECT 1')).text).toBe('1\n');
  });

  it('answers session_check for an unknown session with SESSION_NOT_FOUND (372) and creates none', async () => {
    for (let i = 0; i < 2; i++) {
      const missing = await inSession('never-made', 'SELECT 1', { session_check: '1' });
      expect(missing.headers.get('x-clickhouse-exception-code')).toBe('372');
    }
    expect((await inSession('s1', 'SELECT count() FROM scratch', { session_check: '1' })).text).toBe('10\n');
  });

  it('expires a session session_timeout seconds after its last request', async () => {
    await inSession('brief', 'CREATE TEMPORARY TABLE t (x UInt8)', { session_timeout: '1' });
    expect(
      (await inSession('brief', 'SELECT count() FROM t', { session_check: '1', session_timeout: '1' })).text,
    ).toBe('0\n');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const gone = await inSession('brief', 'SELECT count() FROM t', { session_check: '1' });
    expect(gone.headers.get('x-clickhouse-exception-code')).toBe('372');
  });

  it('refuses bad session parameters with one clear error', async () => {
    for (const timeout of ['abc', '-1', '999999']) {
      const bad = await inSession('bad-timeout', 'SELECT 1', { session_timeout: timeout });
      expect(bad.headers.get('x-clickhouse-exception-code')).toBe('374');
    }
    const badId = await inSession('has space', 'SELECT 1');
    expect(badId.status).toBe(400);
  });

  it('keeps the analyst read-only in a session, and refuses a read-write GET in one', async () => {
    const temp = await inSession('a1', 'CREATE TEMPORARY TABLE t (x UInt8)', {}, ANALYST);
    expect(temp.headers.get('x-clickhouse-exception-code')).toBe('164');
    expect((await inSession('a1', 'SELECT 1', {}, ANALYST)).text).toBe('1\n');
    expect(
      (await inSession('a1', 'SET readonly = 0', {}, ANALYST)).headers.get('x-clickhouse-exception-code'),
    ).toBe('164');
    const analystGet = await call({
      method: 'GET',
      query: 'SELECT 2',
      params: { session_id: 'a1' },
      user: ANALYST,
    });
    expect(analystGet.text).toBe('2\n');
    const writerGet = await call({ method: 'GET', query: 'SELECT 2', params: { session_id: 's1' } });
    expect(writerGet.headers.get('x-clickhouse-exception-code')).toBe('164');
    expect(writerGet.text).toMatch(/POST/);
    // and the writer's session still writes
    expect((await inSession('s1', 'INSERT INTO scratch VALUES (1)')).status).toBe(200);
  });

  it('does not keep a session whose first request could not set it up', async () => {
    const failed = await inSession('half', 'SELECT 1', { max_threads: 'lots' }, ANALYST);
    expect(failed.status).not.toBe(200);
    const after = await inSession('half', 'SELECT 1', { session_check: '1' }, ANALYST);
    expect(after.headers.get('x-clickhouse-exception-code')).toBe('372');
  });

  it('sets a session up on its first request that gets that far', async () => {
    // the first request is refused before setup (an unreadable body); the session exists, not set up
    const refused = await inSession('late', 'SELECT 1', { decompress: '1' });
    expect(refused.headers.get('x-clickhouse-exception-code')).toBe('33');
    const next = await inSession('late', 'SELECT currentDatabase(), toUInt64(1) AS n FORMAT JSONEachRow', {
      session_check: '1',
    });
    expect(next.text).toBe(`{"currentDatabase()":"${DATABASE}","n":"1"}\n`);
  });

  it('bounds the number of open sessions', async () => {
    const small = createClickHouseHttpServer({
      client: owner,
      host: '127.0.0.1',
      port: 0,
      users: [WRITER],
      defaultDatabase: DATABASE,
      logger: silentLogger,
      maxSessions: 2,
      maxSessionsPerUser: 2,
    });
    const { url: smallUrl } = await small.start();
    try {
      const open = (id: string) =>
        fetch(`${smallUrl}/?session_id=${id}`, {
          method: 'POST',
          body: 'SELECT 1',
          headers: { 'X-ClickHouse-User': WRITER.name, 'X-ClickHouse-Key': WRITER.password },
        });
      expect((await open('one')).status).toBe(200);
      expect((await open('two')).status).toBe(200);
      const third = await open('three');
      expect(third.headers.get('x-clickhouse-exception-code')).toBe('202');
      expect(await third.text()).toMatch(/Too many sessions/);
      expect((await open('one')).status).toBe(200);
    } finally {
      await small.stop();
    }
  });
});

describe('sessions per user', () => {
  it("caps each user's sessions, so the analyst cannot exhaust the read-write user's, and keeps read-only sessions short", async () => {
    const small = createClickHouseHttpServer({
      client: owner,
      host: '127.0.0.1',
      port: 0,
      users: [WRITER, ANALYST],
      defaultDatabase: DATABASE,
      logger: silentLogger,
      maxSessions: 4,
    });
    const { url: smallUrl } = await small.start();
    try {
      const open = (user: typeof WRITER, id: string, timeout?: string) =>
        fetch(`${smallUrl}/?session_id=${id}${timeout ? `&session_timeout=${timeout}` : ''}`, {
          method: 'POST',
          body: 'SELECT 1',
          headers: { 'X-ClickHouse-User': user.name, 'X-ClickHouse-Key': user.password },
        });
      expect((await open(ANALYST, 'a1')).status).toBe(200);
      expect((await open(ANALYST, 'a2')).status).toBe(200);
      const third = await open(ANALYST, 'a3');
      expect(third.headers.get('x-clickhouse-exception-code')).toBe('202');
      expect(await third.text()).toMatch(
        /Too many sessions for user analyst: 2 are open \(at most 2 per user\)/,
      );
      // The read-write user still gets its share.
      expect((await open(WRITER, 'w1', '3600')).status).toBe(200);
      expect((await open(WRITER, 'w2')).status).toBe(200);
      // A read-only user may not hold a session for an hour.
      const long = await open(ANALYST, 'a1', '3600');
      expect(long.headers.get('x-clickhouse-exception-code')).toBe('374');
      expect(await long.text()).toMatch(/larger than max_session_timeout: 300/);
      expect((await open(ANALYST, 'a1', '300')).status).toBe(200);
    } finally {
      await small.stop();
    }
  });
});

/** RowBinary of facts rows: UInt64 id, String customer, DateTime64(3) at (ms), UInt64 cost. */
function rowBinary(rows: Array<[bigint, string, bigint, bigint]>): Buffer {
  const parts: Buffer[] = [];
  for (const [id, customer, atMs, cost] of rows) {
    const head = Buffer.alloc(8);
    head.writeBigUInt64LE(id);
    const name = Buffer.from(customer);
    const tail = Buffer.alloc(16);
    tail.writeBigInt64LE(atMs, 0);
    tail.writeBigUInt64LE(cost, 8);
    parts.push(head, Buffer.from([name.length]), name, tail);
  }
  return Buffer.concat(parts);
}

function varString(text: string): Buffer {
  const bytes = Buffer.from(text);
  return Buffer.concat([Buffer.from([bytes.length]), bytes]);
}

describe('binary INSERT bodies', () => {
  const ids = async (from: number, to: number) =>
    (
      await call({
        body: `SELECT id, customer, at, cost FROM facts WHERE id BETWEEN ${from} AND ${to} ORDER BY id`,
      })
    ).text;

  it('inserts RowBinary and RowBinaryWithNamesAndTypes bodies as the engine parses them', async () => {
    const bytes = rowBinary([
      [1001n, 'rb-\u00e9\u00ff', 1767225600123n, 18446744073709551615n],
      [1002n, 'rb-2', 1767225600456n, 7n],
    ]);
    expect(bytes.includes(0xff)).toBe(true);
    const insert = await call({
      query: 'INSERT INTO facts (id, customer, at, cost) FORMAT RowBinary',
      body: bytes,
    });
    expect(insert.status).toBe(200);
    expect(JSON.parse(insert.headers.get('x-clickhouse-summary')!).written_rows).toBe('2');
    const header = Buffer.concat([
      Buffer.from([4]),
      ...['id', 'customer', 'at', 'cost'].map(varString),
      ...['UInt64', 'String', "DateTime64(3, 'UTC')", 'UInt64'].map(varString),
    ]);
    const named = await call({
      query: 'INSERT INTO `facts` FORMAT RowBinaryWithNamesAndTypes',
      body: Buffer.concat([header, rowBinary([[1003n, 'named', 0n, 1n]])]),
    });
    expect(named.status).toBe(200);
    expect(await ids(1001, 1003)).toBe(
      '1001\trb-\u00e9\u00ff\t2026-01-01 00:00:00.123\t18446744073709551615\n' +
        '1002\trb-2\t2026-01-01 00:00:00.456\t7\n' +
        '1003\tnamed\t1970-01-01 00:00:00.000\t1\n',
    );
  });

  it('inserts a Native body, also inside compressed blocks', async () => {
    const native = await call({
      body: "SELECT toUInt64(1100 + number) AS id, 'native' AS customer, toDateTime64('2026-02-03 04:05:06.789', 3, 'UTC') AS at, toUInt64(number) AS cost FROM numbers(3) FORMAT Native",
    });
    expect(native.status).toBe(200);
    expect((await call({ query: 'INSERT INTO facts FORMAT Native', body: native.bytes })).status).toBe(200);
    const shifted = await call({
      body: "SELECT toUInt64(1200 + number) AS id, 'native-lz4' AS customer, now64(3, 'UTC') AS at, toUInt64(1) AS cost FROM numbers(2) FORMAT Native",
    });
    const compressed = await call({
      query: 'INSERT INTO facts FORMAT Native',
      body: encodeBlocks(shifted.bytes),
      params: { decompress: '1' },
    });
    expect(compressed.status).toBe(200);
    expect((await call({ body: 'SELECT count() FROM facts WHERE id BETWEEN 1100 AND 1299' })).text).toBe(
      '5\n',
    );
  });

  it('refuses a malformed binary body with the engine error and no rows, and binary inserts for the analyst', async () => {
    const before = await count('facts');
    const good = rowBinary([[1300n, 'cut', 0n, 1n]]);
    const cut = await call({
      query: 'INSERT INTO facts FORMAT RowBinary',
      body: good.subarray(0, good.length - 3),
    });
    expect(cut.headers.get('x-clickhouse-exception-code')).toBe('33');
    const analyst = await call({ query: 'INSERT INTO facts FORMAT RowBinary', body: good, user: ANALYST });
    expect(analyst.headers.get('x-clickhouse-exception-code')).toBe('164');
    const unknownTable = await call({ query: 'INSERT INTO nope FORMAT RowBinary', body: good });
    expect(unknownTable.status).toBe(404);
    expect(await count('facts')).toBe(before);
  });
});

describe('Content-Encoding: lz4 (clickhouse-connect compresses inserts so by default)', () => {
  it('inserts an LZ4-framed body and refuses a corrupt one with no effect', async () => {
    const before = Number(await count('facts'));
    const send = (body: Buffer) =>
      fetch(`${url}/?query=${encodeURIComponent('INSERT INTO facts FORMAT JSONEachRow')}`, {
        method: 'POST',
        body,
        headers: {
          'Content-Encoding': 'lz4',
          'X-ClickHouse-User': WRITER.name,
          'X-ClickHouse-Key': WRITER.password,
        },
      });
    const corrupt = Buffer.from(LZ4_CLI_FRAME);
    corrupt[corrupt.length - 10]! ^= 0x20;
    const refused = await send(corrupt);
    expect(refused.headers.get('x-clickhouse-exception-code')).toBe('271');
    expect(await refused.text()).toMatch(/lz4/);
    expect(Number(await count('facts'))).toBe(before);
    const ok = await send(LZ4_CLI_FRAME);
    expect(ok.status).toBe(200);
    await ok.text();
    expect(Number(await count('facts'))).toBe(before + 50);
  });
});

describe('@clickhouse/client unchanged', () => {
  it('inserts and reads with HTTP compression both ways, and keeps a session', async () => {
    const client = createClient({
      url,
      username: WRITER.name,
      password: WRITER.password,
      database: DATABASE,
      compression: { request: true, response: true },
      session_id: 'node-client',
      log: { level: ClickHouseLogLevel.OFF },
    });
    remotes.push(client);
    await client.insert({
      table: 'facts',
      values: [{ id: 2001, customer: 'node', at: '2026-04-05 06:07:08.009', cost: '18446744073709551615' }],
      format: 'JSONEachRow',
    });
    const rows = await client.query({
      query: 'SELECT id, cost FROM facts WHERE id = 2001',
      format: 'JSONEachRow',
    });
    expect(await rows.json()).toEqual([{ id: '2001', cost: '18446744073709551615' }]);
    await client.command({ query: 'CREATE TEMPORARY TABLE node_scratch (x UInt8)' });
    await client.insert({ table: 'node_scratch', values: [{ x: 1 }, { x: 2 }], format: 'JSONEachRow' });
    const scratch = await client.query({
      query: 'SELECT sum(x) AS s FROM node_scratch',
      format: 'JSONEachRow',
    });
    expect(await scratch.json()).toEqual([{ s: '3' }]);
  });
});
