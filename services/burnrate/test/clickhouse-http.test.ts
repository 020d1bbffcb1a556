import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { type ClickHouseClient, ClickHouseLogLevel, createClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClickHouseClient } from '../src/clickhouse/client.js';
import { createClickHouseHttpServer } from '../src/clickhouse/http/index.js';
import { silentLogger } from './fixtures.js';

const WRITER = { name: 'writer', password: 'w-secret', readonly: false };
const ANALYST = { name: 'analyst', password: 'a-secret', readonly: true };
const DATABASE = 'http_test';

const owner = createClickHouseClient({
  kind: 'embedded',
  path: mkdtempSync(join(tmpdir(), 'burnrate-chhttp-')),
});
const server = createClickHouseHttpServer({
  client: owner,
  host: '127.0.0.1',
  port: 0,
  users: [WRITER, ANALYST],
  defaultDatabase: DATABASE,
  logger: silentLogger,
  maxConcurrentQueries: 2,
});
let url = '';
const remotes: ClickHouseClient[] = [];

interface Call {
  method?: 'GET' | 'POST';
  query?: string;
  body?: string | Buffer;
  params?: Record<string, string>;
  headers?: Record<string, string>;
  user?: { name: string; password: string } | null;
  /** Another server's URL; the shared one by default. */
  base?: string;
}

/** One raw HTTP request, the way curl would send it. */
async function call({
  method = 'POST',
  query,
  body,
  params = {},
  headers = {},
  user = WRITER,
  base = url,
}: Call) {
  const target = new URL(base);
  if (query !== undefined) target.searchParams.set('query', query);
  for (const [key, value] of Object.entries(params)) target.searchParams.set(key, value);
  const auth: Record<string, string> = user
    ? { 'X-ClickHouse-User': user.name, 'X-ClickHouse-Key': user.password }
    : {};
  const response = await fetch(target, {
    method,
    headers: { ...auth, ...headers },
    ...(method === 'POST' ? { body: body ?? '' } : {}),
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

function remote(user: { name: string; password: string }): ClickHouseClient {
  const client = createClient({
    url,
    username: user.name,
    password: user.password,
    database: DATABASE,
    log: { level: ClickHouseLogLevel.OFF },
  });
  remotes.push(client);
  return client;
}

beforeAll(async () => {
  ({ url } = await server.start());
  for (const sql of [
    `CREATE DATABASE ${DATABASE}`,
    `CREATE TABLE ${DATABASE}.events (id UInt64, customer String, cost UInt64) ENGINE = MergeTree ORDER BY id`,
  ]) {
    // the default database does not exist yet, so these run in `default`, as they would on a server
    expect((await call({ body: sql, params: { database: 'default' } })).status).toBe(200);
  }
});

afterAll(async () => {
  await Promise.all(remotes.map((client) => client.close()));
  await server.stop();
  await owner.close();
});

describe('ClickHouse HTTP interface over chDB', () => {
  it('answers health checks', async () => {
    for (const path of ['/ping', '/', '/replicas_status']) {
      const response = await fetch(new URL(path, url));
      expect(await response.text()).toBe('Ok.\n');
    }
  });

  it('runs SELECT 1 by GET and by POST, with ClickHouse headers', async () => {
    const get = await call({ method: 'GET', query: 'SELECT 1' });
    expect(get).toMatchObject({ status: 200, text: '1\n' });
    expect(get.headers.get('content-type')).toBe('text/tab-separated-values; charset=UTF-8');
    expect(get.headers.get('x-clickhouse-format')).toBe('TabSeparated');
    expect(get.headers.get('x-clickhouse-query-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(get.headers.get('x-clickhouse-server-display-name')).toBeTruthy();
    expect(JSON.parse(get.headers.get('x-clickhouse-summary')!)).toHaveProperty('read_rows');
    const post = await call({ body: 'SELECT 1', params: { query_id: 'my-query' } });
    expect(post).toMatchObject({ status: 200, text: '1\n' });
    expect(post.headers.get('x-clickhouse-query-id')).toBe('my-query');
  });

  it('honours the FORMAT clause, default_format and X-ClickHouse-Format', async () => {
    const json = await call({
      body: 'SELECT toUInt64(18446744073709551615) AS big, 1.5::Decimal(10, 2) AS d FORMAT JSON',
    });
    expect(json.headers.get('content-type')).toBe('application/json; charset=UTF-8');
    expect(JSON.parse(json.text).data).toEqual([{ big: '18446744073709551615', d: '1.5' }]);
    const eachRow = await call({ body: "SELECT number AS n, 'x' AS s FROM numbers(2) FORMAT JSONEachRow" });
    expect(eachRow.text).toBe('{"n":"0","s":"x"}\n{"n":"1","s":"x"}\n');
    const csv = await call({ body: "SELECT 1 AS a, 'b,c' AS b FORMAT CSV" });
    expect(csv).toMatchObject({ text: '1,"b,c"\n' });
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const named = await call({ body: 'SELECT 1 AS a, 2 AS b FORMAT TabSeparatedWithNames' });
    expect(named.text).toBe('a\tb\n1\t2\n');
    const byParam = await call({ body: 'SELECT 7 AS x', params: { default_format: 'JSONCompactEachRow' } });
    expect(byParam.text).toBe('[7]\n');
    expect(byParam.headers.get('x-clickhouse-format')).toBe('JSONCompactEachRow');
    const byHeader = await call({
      body: 'SELECT 7 AS x',
      headers: { 'X-ClickHouse-Format': 'CSVWithNames' },
    });
    expect(byHeader.text).toBe('"x"\n7\n');
    const clauseWins = await call({ body: 'SELECT 7 AS x FORMAT CSV', params: { default_format: 'JSON' } });
    expect(clauseWins.text).toBe('7\n');
  });

  it('uses the database parameter or header, else the default database', async () => {
    expect((await call({ body: 'SELECT currentDatabase()' })).text).toBe(`${DATABASE}\n`);
    expect((await call({ body: 'SELECT currentDatabase()', params: { database: 'system' } })).text).toBe(
      'system\n',
    );
    const byHeader = await call({
      body: 'SELECT currentDatabase()',
      headers: { 'X-ClickHouse-Database': 'system' },
    });
    expect(byHeader.text).toBe('system\n');
    const missing = await call({ body: 'SELECT 1', params: { database: 'no_such_db' } });
    expect(missing.status).toBe(404);
    expect(missing.text).toMatch(/^Code: 81\. DB::Exception: .*\(UNKNOWN_DATABASE\) \(version /);
  });

  it('binds param_ values, quotes and backslashes included', async () => {
    const raw = await call({
      body: 'SELECT {s:String} AS s, {n:UInt64} AS n, {a:Array(String)} AS a FORMAT JSONEachRow',
      params: {
        param_s: `it's "quoted" \\\\ ok`,
        param_n: '18446744073709551615',
        param_a: "['it\\'s','b']",
      },
    });
    expect(JSON.parse(raw.text)).toEqual({
      s: `it's "quoted" \\ ok`,
      n: '18446744073709551615',
      a: ["it's", 'b'],
    });
    const tricky = 'O\'Brien \\ "tab"\there\nnext';
    const rs = await remote(WRITER).query({
      query: 'SELECT {s:String} AS s',
      query_params: { s: tricky },
      format: 'JSONEachRow',
    });
    expect(await rs.json()).toEqual([{ s: tricky }]);
  });

  it('inserts rows sent in the body, by the raw path and by the general one', async () => {
    const rows = '{"id":1,"customer":"acme","cost":10}\n{"id":2,"customer":"acme","cost":20}\n';
    const insert = await call({ query: 'INSERT INTO events FORMAT JSONEachRow', body: rows });
    expect(insert.status).toBe(200);
    expect(JSON.parse(insert.headers.get('x-clickhouse-summary')!).written_rows).toBe('2');
    const csv = await call({
      query: 'INSERT INTO events SETTINGS async_insert = 0 FORMAT CSV',
      body: '3,acme,30\n',
    });
    expect(csv.status).toBe(200);
    expect((await call({ body: "INSERT INTO events VALUES (4, 'acme', 40)" })).status).toBe(200);
    const count = await call({ body: "SELECT count(), sum(cost) FROM events WHERE customer = 'acme'" });
    expect(count.text).toBe('4\t100\n');
  });

  it('accepts a gzip-compressed body and compresses the response when asked', async () => {
    const zipped = await call({ body: gzipSync('SELECT 42'), headers: { 'Content-Encoding': 'gzip' } });
    expect(zipped).toMatchObject({ status: 200, text: '42\n' });
    const rows = gzipSync('{"id":100,"customer":"gz","cost":1}\n{"id":101,"customer":"gz","cost":2}\n');
    const insert = await call({
      query: 'INSERT INTO events FORMAT JSONEachRow',
      body: rows,
      headers: { 'Content-Encoding': 'gzip' },
    });
    expect(insert.status).toBe(200);
    expect((await call({ body: "SELECT count() FROM events WHERE customer = 'gz'" })).text).toBe('2\n');
    const target = new URL(url);
    target.searchParams.set('query', 'SELECT number FROM numbers(100000) FORMAT JSONEachRow');
    target.searchParams.set('enable_http_compression', '1');
    const response = await fetch(target, {
      headers: {
        'X-ClickHouse-User': WRITER.name,
        'X-ClickHouse-Key': WRITER.password,
        'Accept-Encoding': 'gzip',
      },
    });
    expect(response.headers.get('content-encoding')).toBe('gzip');
    const lines = (await response.text()).trimEnd().split('\n');
    expect(lines).toHaveLength(100_000);
    expect(JSON.parse(lines.at(-1)!)).toEqual({ number: '99999' });
    const broken = await call({ body: Buffer.from('not gzip'), headers: { 'Content-Encoding': 'gzip' } });
    expect(broken.headers.get('x-clickhouse-exception-code')).toBe('271');
  });

  it('serves @clickhouse/client: ping, command, insert, query, 64-bit sums as strings', async () => {
    const client = remote(WRITER);
    expect((await client.ping()).success).toBe(true);
    await client.command({
      query: 'CREATE TABLE IF NOT EXISTS money (customer String, nanos UInt64) ENGINE = Memory',
    });
    const big = '9007199254740993'; // 2^53 + 1: a JavaScript number cannot hold it
    const insert = await client.insert({
      table: 'money',
      values: [
        { customer: 'whale', nanos: big },
        { customer: 'whale', nanos: big },
      ],
      format: 'JSONEachRow',
    });
    expect(insert.summary?.written_rows).toBe('2');
    const rs = await client.query({
      query:
        'SELECT customer, sum(nanos) AS total, toDecimal128(total, 0) AS exact FROM money GROUP BY customer',
      format: 'JSONEachRow',
    });
    const [row] = await rs.json<{ customer: string; total: string; exact: string }>();
    expect(row).toEqual({ customer: 'whale', total: '18014398509481986', exact: '18014398509481986' });
    const exec = await client.exec({ query: 'SELECT 1 FORMAT TabSeparated' });
    let text = '';
    for await (const chunk of exec.stream) text += chunk;
    expect(text).toBe('1\n');
  });

  it('lets the analyst read but refuses every write with READONLY (164)', async () => {
    const analyst = remote(ANALYST);
    const rs = await analyst.query({ query: 'SELECT count() AS n FROM events', format: 'JSONEachRow' });
    expect(await rs.json()).toEqual([{ n: expect.any(String) }]);
    for (const sql of [
      "INSERT INTO events VALUES (999, 'x', 1)",
      'DROP TABLE events',
      'CREATE TABLE t2 (a Int8) ENGINE = Memory',
      'ALTER TABLE events DELETE WHERE 1',
      'TRUNCATE TABLE events',
      'SET readonly = 0',
      'SELECT 1 SETTINGS readonly = 0',
    ]) {
      const response = await call({ body: sql, user: ANALYST });
      expect([sql, response.headers.get('x-clickhouse-exception-code')]).toEqual([sql, '164']);
      expect(response.status).toBe(500); // ClickHouse maps READONLY to 500
      expect(response.text).toMatch(/^Code: 164\. DB::Exception: .*\(READONLY\)/);
    }
    const viaRawInsert = await call({
      query: 'INSERT INTO events FORMAT JSONEachRow',
      body: '{"id":9}\n',
      user: ANALYST,
    });
    expect(viaRawInsert.headers.get('x-clickhouse-exception-code')).toBe('164');
    const escalate = await call({
      body: "INSERT INTO events VALUES (998, 'x', 1)",
      params: { readonly: '0' },
      user: ANALYST,
    });
    expect(escalate.headers.get('x-clickhouse-exception-code')).toBe('164');
    const experimental = await call({
      body: 'SELECT 1',
      params: { allow_experimental_eval_table_function: '1' },
      user: ANALYST,
    });
    expect(experimental.headers.get('x-clickhouse-exception-code')).toBe('164');
    await expect(analyst.command({ query: 'DROP TABLE events' })).rejects.toMatchObject({ code: '164' });
    expect((await call({ body: 'SELECT count() FROM events' })).text).not.toBe('0\n');
  });

  it('closes the host-access gaps readonly=1 leaves in chDB for the analyst', async () => {
    const file = await call({ body: "SELECT file('/etc/hostname')", user: ANALYST });
    expect(file.headers.get('x-clickhouse-exception-code')).toBe('497');
    expect(file.status).toBe(403);
    const hidden = await call({ body: "SELECT /* c */ `file` ('/etc/hostname')", user: ANALYST });
    expect(hidden.headers.get('x-clickhouse-exception-code')).toBe('497');
    const outfile = await call({ body: "SELECT 1 INTO OUTFILE '/tmp/burnrate-outfile-test'", user: ANALYST });
    expect(outfile.headers.get('x-clickhouse-exception-code')).toBe('358');
    const multi = await call({ body: "USE system; SELECT file('/etc/hostname')", user: ANALYST });
    expect(multi.headers.get('x-clickhouse-exception-code')).toBe('62');
    const tableFunction = await call({
      body: "SELECT * FROM url('http://127.0.0.1:9/x', CSV, 'a String')",
      user: ANALYST,
    });
    expect(tableFunction.headers.get('x-clickhouse-exception-code')).toBe('164');
  });

  it('treats GET as read-only for every user, as ClickHouse does', async () => {
    const response = await call({ method: 'GET', query: "INSERT INTO events VALUES (997, 'x', 1)" });
    expect(response.headers.get('x-clickhouse-exception-code')).toBe('164');
  });

  it('refuses wrong credentials with AUTHENTICATION_FAILED (516) and 403', async () => {
    for (const user of [{ name: WRITER.name, password: 'wrong' }, { name: 'nobody', password: '' }, null]) {
      const response = await call({ body: 'SELECT 1', user });
      expect(response.status).toBe(403);
      expect(response.headers.get('x-clickhouse-exception-code')).toBe('516');
      expect(response.text).toMatch(
        /^Code: 516\. DB::Exception: .*Authentication failed.*\(AUTHENTICATION_FAILED\)/,
      );
    }
    const basic = await call({
      body: 'SELECT 1',
      user: null,
      headers: {
        Authorization: `Basic ${Buffer.from(`${ANALYST.name}:${ANALYST.password}`).toString('base64')}`,
      },
    });
    expect(basic.text).toBe('1\n');
    const byParams = await call({
      body: 'SELECT 1',
      user: null,
      params: { user: WRITER.name, password: WRITER.password },
    });
    expect(byParams.text).toBe('1\n');
    await expect(
      remote({ name: WRITER.name, password: 'wrong' }).query({ query: 'SELECT 1' }),
    ).rejects.toMatchObject({
      code: '516',
    });
  });

  it('maps engine errors to ClickHouse statuses and text', async () => {
    const syntax = await call({ body: 'SELEC 1' });
    expect(syntax.status).toBe(400);
    expect(syntax.text).toMatch(
      /^Code: 62\. DB::Exception: Syntax error.*\(SYNTAX_ERROR\) \(version [\d.]+\)\n$/s,
    );
    const table = await call({ body: 'SELECT * FROM no_such_table' });
    expect(table.status).toBe(404);
    expect(table.headers.get('x-clickhouse-exception-code')).toBe('60');
    expect(table.text).toMatch(/^Code: 60\. DB::Exception: .*\(UNKNOWN_TABLE\)/);
    const setting = await call({ body: 'SELECT 1', params: { no_such_setting: '1' } });
    expect(setting.status).toBe(404);
    expect(setting.headers.get('x-clickhouse-exception-code')).toBe('115');
    const empty = await call({ body: '' });
    expect(empty.headers.get('x-clickhouse-exception-code')).toBe('62');
    await expect(remote(WRITER).query({ query: 'SELECT * FROM no_such_table' })).rejects.toMatchObject({
      code: '60',
      type: 'UNKNOWN_TABLE',
    });
  });

  it('forwards URL settings to the query and keeps no state between requests', async () => {
    const threads = await call({ body: "SELECT getSetting('max_threads')", params: { max_threads: '3' } });
    expect(threads.text).toBe('3\n');
    expect((await call({ body: 'SET max_threads = 1' })).status).toBe(200);
    expect((await call({ body: "SELECT getSetting('max_threads')" })).text).not.toBe('1\n');
    expect((await call({ body: 'USE system' })).status).toBe(200);
    expect((await call({ body: 'SELECT currentDatabase()' })).text).toBe(`${DATABASE}\n`);
    const unquoted = await call({
      body: 'SELECT toUInt64(1) AS n FORMAT JSONEachRow',
      params: { output_format_json_quote_64bit_integers: '0' },
    });
    expect(unquoted.text).toBe('{"n":1}\n');
  });

  it('streams a large result without buffering it, and buffers formats that cannot stream', async () => {
    const tsv = await fetch(
      `${url}/?query=${encodeURIComponent('SELECT number, toString(number) FROM numbers(200000)')}`,
      {
        headers: { 'X-ClickHouse-User': WRITER.name, 'X-ClickHouse-Key': WRITER.password },
      },
    );
    expect(tsv.headers.get('transfer-encoding')).toBe('chunked');
    expect(tsv.headers.get('x-clickhouse-exception-tag')).toMatch(/^[0-9a-f]{16}$/);
    const lines = (await tsv.text()).trimEnd().split('\n');
    expect(lines).toHaveLength(200_000);
    expect(lines[199_999]).toBe('199999\t199999');
    const json = await call({ body: 'SELECT number FROM numbers(200000) FORMAT JSON' });
    const parsed = JSON.parse(json.text);
    expect(parsed.rows).toBe(200_000);
    expect(json.headers.get('content-length')).toBe(String(Buffer.byteLength(json.text)));
    const rs = await remote(WRITER).query({
      query: 'SELECT number FROM numbers(200000)',
      format: 'JSONEachRow',
    });
    let rows = 0;
    for await (const batch of rs.stream()) rows += batch.length;
    expect(rows).toBe(200_000);
  });

  it('reports an error that happens mid-stream so clients cannot take the output as complete', async () => {
    const query = "SELECT throwIf(number = 2000000, 'boom') AS x FROM numbers(3000000)";
    const rs = await remote(WRITER).query({ query, format: 'JSONEachRow' });
    await expect(rs.json()).rejects.toMatchObject({ code: '395' });
    const response = await fetch(`${url}/?query=${encodeURIComponent(`${query} FORMAT JSONEachRow`)}`, {
      headers: { 'X-ClickHouse-User': WRITER.name, 'X-ClickHouse-Key': WRITER.password },
    });
    expect(response.status).toBe(200);
    const tag = response.headers.get('x-clickhouse-exception-tag');
    const reader = response.body!.getReader();
    let received = '';
    const read = async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        received += Buffer.from(value).toString();
      }
    };
    await expect(read()).rejects.toThrow(); // no terminating chunk: the transfer is cut, never "complete"
    expect(received).toContain(`__exception__\r\n${tag}\r\nCode: 395. DB::Exception: boom`);
  });

  it('keeps the event loop free while queries run and wait for a slot', async () => {
    const heavy = 'SELECT count() FROM numbers(30000000) WHERE sipHash64(number) % 7 = 1';
    const started = Date.now();
    const running = Promise.all([1, 2, 3, 4].map(() => call({ body: heavy })));
    const pingStarted = Date.now();
    const ping = await fetch(new URL('/ping', url));
    expect(await ping.text()).toBe('Ok.\n');
    const pingMs = Date.now() - pingStarted;
    const results = await running;
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(pingMs).toBeLessThan((Date.now() - started) / 2);
  });
});

describe('ClickHouse HTTP server lifecycle', () => {
  it('reports a port in use as a typed error', async () => {
    const port = Number(new URL(url).port);
    const second = createClickHouseHttpServer({
      client: owner,
      host: '127.0.0.1',
      port,
      users: [WRITER],
      defaultDatabase: DATABASE,
      logger: silentLogger,
    });
    await expect(second.start()).rejects.toMatchObject({
      code: 'clickhouse_http_listen_failed',
      field: 'port',
    });
    await second.stop();
  });

  it('refuses queries beyond the queue with TOO_MANY_SIMULTANEOUS_QUERIES (202)', async () => {
    const small = createClickHouseHttpServer({
      client: owner,
      host: '127.0.0.1',
      port: 0,
      users: [WRITER],
      defaultDatabase: DATABASE,
      logger: silentLogger,
      maxConcurrentQueries: 1,
      maxQueuedQueries: 0,
    });
    const { url: base } = await small.start();
    let heavyDone = false;
    const heavy = call({
      base,
      body: 'SELECT count() FROM numbers(30000000) WHERE sipHash64(number) % 7 = 1',
    }).finally(() => {
      heavyDone = true;
    });
    let refused: Awaited<ReturnType<typeof call>> | undefined;
    while (!heavyDone && !refused) {
      const response = await call({ base, body: 'SELECT 1' });
      if (response.status !== 200) refused = response;
    }
    expect(refused?.headers.get('x-clickhouse-exception-code')).toBe('202');
    expect((await heavy).status).toBe(200);
    expect((await call({ base, body: 'SELECT 1' })).text).toBe('1\n');
    await small.stop();
  });

  it('stops within its deadline while a slow client holds a streaming query', async () => {
    const other = createClickHouseHttpServer({
      client: owner,
      host: '127.0.0.1',
      port: 0,
      users: [WRITER],
      defaultDatabase: DATABASE,
      logger: silentLogger,
      stopTimeoutMs: 500,
    });
    const { url: otherUrl } = await other.start();
    const response = await fetch(
      `${otherUrl}/?query=${encodeURIComponent('SELECT number FROM numbers(100000000)')}`,
      {
        headers: { 'X-ClickHouse-User': WRITER.name, 'X-ClickHouse-Key': WRITER.password },
      },
    );
    expect(response.status).toBe(200); // headers are in; the body is left unread
    const started = Date.now();
    await other.stop();
    expect(Date.now() - started).toBeLessThan(5_000);
    await expect(fetch(`${otherUrl}/ping`)).rejects.toThrow();
    // the server's own sessions are gone; the process's client still has the engine
    const rs = await owner.query({ query: 'SELECT 1 AS one', format: 'JSONEachRow' });
    expect(await rs.json()).toEqual([{ one: 1 }]);
    await response.body?.cancel().catch(() => undefined);
  });
});
