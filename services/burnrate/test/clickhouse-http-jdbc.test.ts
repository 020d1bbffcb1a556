import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClickHouseClient } from '../src/clickhouse/client.js';
import { createClickHouseHttpServer } from '../src/clickhouse/http/index.js';

/**
 * The official ClickHouse JDBC driver 0.10.0 (what DBeaver, Metabase and Tableau use) from Maven
 * Central, with its defaults — LZ4 block compression of responses on — against the embedded
 * interface: test/jdbc/ is a small Java program built once per run (Maven caches the driver in
 * ~/.m2). It connects to 127.0.0.1 on a random port.
 */
const run = promisify(execFile);
const PROBE = join(import.meta.dirname, 'jdbc');
const WRITER = { name: 'writer', password: 'w-secret', readonly: false };
const ANALYST = { name: 'analyst', password: 'a-secret', readonly: true };
const DATABASE = 'jdbc_test';

/** The server's request log lines, to see what the driver asked for. */
const logged: Array<Record<string, unknown>> = [];
const logger = pino(
  { level: 'debug' },
  new Writable({
    write(chunk, _encoding, done) {
      logged.push(JSON.parse(String(chunk)));
      done();
    },
  }),
);

const owner = createClickHouseClient({
  kind: 'embedded',
  path: mkdtempSync(join(tmpdir(), 'burnrate-chjdbc-')),
});
const server = createClickHouseHttpServer({
  client: owner,
  host: '127.0.0.1',
  port: 0,
  users: [WRITER, ANALYST],
  defaultDatabase: DATABASE,
  logger,
});
let port = 0;

beforeAll(async () => {
  // asynchronous: the server under test runs in this process and must keep answering
  await run('mvn', ['-B', '-q', 'package', '-DskipTests'], { cwd: PROBE, maxBuffer: 16 << 20 });
  ({ port } = await server.start());
  await owner.command({ query: `CREATE DATABASE ${DATABASE}` });
  await owner.command({
    query: `CREATE TABLE ${DATABASE}.facts (id UInt64, customer String, at DateTime64(3, 'UTC'), cost UInt64) ENGINE = MergeTree ORDER BY id`,
  });
}, 600_000);

afterAll(async () => {
  await server.stop();
  await owner.close();
});

describe('the ClickHouse JDBC driver 0.10.0 against the embedded interface', () => {
  it('connects with its defaults, reads metadata, inserts and reads typed rows, keeps a session, and the analyst cannot DROP', async () => {
    const classpath = `${join(PROBE, 'target', 'classes')}:${readFileSync(join(PROBE, 'target', 'classpath.txt'), 'utf8').trim()}`;
    const { stdout } = await run(
      'java',
      [
        '-cp',
        classpath,
        'burnrate.JdbcProbe',
        '127.0.0.1',
        String(port),
        DATABASE,
        WRITER.name,
        WRITER.password,
        ANALYST.name,
        ANALYST.password,
      ],
      { maxBuffer: 16 << 20, timeout: 120_000 },
    ).catch((error: { stdout?: string; stderr?: string }) => {
      throw new Error(`JdbcProbe failed:\n${error.stdout ?? ''}\n${error.stderr ?? ''}`);
    });
    const lines = stdout.trim().split('\n');
    const value = (key: string) =>
      lines.filter((line) => line.startsWith(`${key}=`)).map((line) => line.slice(key.length + 1));
    expect(value('product')).toEqual(['ClickHouse']);
    expect(value('tables')).toEqual(['facts']);
    expect(value('columns')).toEqual(["id:UInt64 customer:String at:DateTime64(3, 'UTC') cost:UInt64"]);
    expect(value('inserted')).toEqual(['3']);
    expect(value('row')).toEqual([
      '101|jdbc-1|2026-03-01T12:30:15.250Z|18446744073709551614|BigInteger',
      '102|jdbc-2|2026-03-02T12:30:15.250Z|18446744073709551613|BigInteger',
      '103|jdbc-3|2026-03-03T12:30:15.250Z|18446744073709551612|BigInteger',
    ]);
    expect(value('sum')).toEqual(['55340232221128654839']);
    expect(value('temporary_sum')).toEqual(['10']);
    expect(value('compressed_request')).toEqual(['compressed']);
    expect(value('analyst_count')).toEqual(['4']);
    expect(value('drop')[0]).toMatch(/^refused .*(164|READONLY|readonly)/);
    expect(value('done')).toEqual(['true']);
    // the driver asked for compressed responses (its default) and used a session for the temporary table
    const queries = logged.filter((line) => line.query !== undefined);
    expect(queries.length).toBeGreaterThan(5);
    expect(queries.every((line) => line.compress === true)).toBe(true);
    expect(queries.filter((line) => line.decompress === true).map((line) => line.query)).toContain(
      "INSERT INTO facts (id, customer, at, cost) VALUES (200, 'compressed', '2026-03-04 05:06:07.890', 1)",
    );
    expect(
      queries.filter((line) => String(line.query).includes('scratch')).every((line) => line.session),
    ).toBe(true);
    expect(JSON.stringify(logged)).not.toContain(WRITER.password);
    // the DROP had no effect
    const rows = await owner.query({
      query: `SELECT count() AS n FROM ${DATABASE}.facts`,
      format: 'JSONEachRow',
    });
    expect(await rows.json()).toEqual([{ n: '4' }]);
  }, 300_000);
});
