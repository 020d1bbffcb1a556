import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createAuthenticator, credentialsOf } from '../src/clickhouse/http/auth.js';
import { parseBinaryInsert } from '../src/clickhouse/http/binary-insert.js';
import {
  codeNamesFrom,
  httpStatusOf,
  reasonOf,
  toClickHouseException,
} from '../src/clickhouse/http/errors.js';
import { parseSimpleInsert, sessionSetup } from '../src/clickhouse/http/execute.js';
import { planOutput } from '../src/clickhouse/http/formats.js';
import { createLimiter } from '../src/clickhouse/http/limiter.js';
import { checkCanonicalQuery } from '../src/clickhouse/http/readonly-guard.js';
import type { QueryRequest } from '../src/clickhouse/http/request.js';
import { formatClauses, leadingKeyword } from '../src/clickhouse/http/sql-scan.js';

const FORMATS = new Map(
  ['TabSeparated', 'TSV', 'JSON', 'JSONEachRow', 'CSV', 'CSVWithNames', 'Native', 'Pretty'].map((f) => [
    f.toLowerCase(),
    f,
  ]),
);

describe('sql-scan', () => {
  it('finds the leading keyword past comments', () => {
    expect(leadingKeyword(' -- note\n/* a /* nested */ b */ select 1')).toBe('SELECT');
    expect(leadingKeyword('# comment\n(SELECT 1)')).toBe('(');
    expect(leadingKeyword('  ')).toBe('');
  });

  it('sees only top-level FORMAT clauses, not strings, comments or subqueries', () => {
    expect(formatClauses('SELECT 1 FORMAT JSON')).toEqual(['JSON']);
    expect(formatClauses("SELECT 'x FORMAT JSON' AS s FORMAT CSV")).toEqual(['CSV']);
    expect(formatClauses('SELECT 1 -- FORMAT JSON\nFORMAT CSV')).toEqual(['CSV']);
    expect(formatClauses('SELECT 1 /* FORMAT /* JSON */ x */ FORMAT CSV')).toEqual(['CSV']);
    expect(formatClauses('SELECT * FROM (SELECT 1 FORMAT JSON) FORMAT TSV')).toEqual(['TSV']);
    expect(formatClauses('SELECT $tag$ FORMAT JSON $tag$ FORMAT `CSV`')).toEqual(['CSV']);
    expect(formatClauses("SELECT 'it\\'s FORMAT JSON', 'a''b FORMAT JSON' FORMAT CSV")).toEqual(['CSV']);
    expect(formatClauses("SELECT format('{}', 1)")).toEqual([]);
  });
});

describe('planOutput', () => {
  it('streams row formats and buffers formats whose chunks do not concatenate', () => {
    expect(planOutput('SELECT 1', undefined, FORMATS)).toEqual({ format: 'TabSeparated', stream: true });
    expect(planOutput('SELECT 1 format jsoneachrow', undefined, FORMATS)).toEqual({
      format: 'JSONEachRow',
      stream: true,
    });
    expect(planOutput('SELECT 1 FORMAT JSON', 'CSV', FORMATS)).toEqual({ format: 'JSON', stream: false });
    expect(planOutput('SELECT 1', 'CSVWithNames', FORMATS)).toEqual({
      format: 'CSVWithNames',
      stream: false,
    });
    expect(planOutput('WITH 1 AS x SELECT x FORMAT Native', undefined, FORMATS)).toEqual({
      format: 'Native',
      stream: true,
    });
  });

  it('never streams statements chDB cannot stream, and ignores an INSERT input format', () => {
    expect(planOutput('SHOW TABLES FORMAT JSON', undefined, FORMATS)).toEqual({
      format: 'JSON',
      stream: false,
    });
    expect(planOutput('INSERT INTO t FORMAT CSV', 'JSON', FORMATS)).toEqual({
      format: 'JSON',
      stream: false,
    });
  });

  it('does not take a column named format for a clause', () => {
    expect(planOutput('SELECT format FROM t', undefined, FORMATS)).toEqual({
      format: 'TabSeparated',
      stream: true,
    });
  });
});

describe('readonly guard', () => {
  it('refuses file(), eval() and INTO OUTFILE in the canonical query', () => {
    expect(() => checkCanonicalQuery("SELECT file('/etc/passwd')")).toThrow(
      expect.objectContaining({ exceptionCode: 497 }),
    );
    expect(() => checkCanonicalQuery("SELECT * FROM eval('SELECT 1')")).toThrow(
      expect.objectContaining({ exceptionCode: 497 }),
    );
    expect(() => checkCanonicalQuery("SELECT 1 INTO OUTFILE 'x'")).toThrow(
      expect.objectContaining({ exceptionCode: 358 }),
    );
  });

  it('lets ordinary reads through, including a column named file', () => {
    expect(() => checkCanonicalQuery("SELECT file, profile('x') FROM t WHERE s = 'file(1)'")).not.toThrow();
  });
});

describe('errors', () => {
  const names = codeNamesFrom(
    new Map([
      [60, 'UNKNOWN_TABLE'],
      [62, 'SYNTAX_ERROR'],
      [164, 'READONLY'],
    ]),
  );

  it('maps codes to statuses as ClickHouse does', () => {
    expect(httpStatusOf(60, names)).toBe(404);
    expect(httpStatusOf(62, names)).toBe(400);
    expect(httpStatusOf(164, names)).toBe(500);
    expect(httpStatusOf(516, names)).toBe(403);
  });

  it('keeps the engine sentence once when chDB wraps it repeatedly', () => {
    const wrapped =
      "Code: 73. DB::Exception: Code: 73. DB::Exception: Unknown format Nope. Maybe you meant: ['One']. (UNKNOWN_FORMAT) (version 26.7.2.1 (official build)). (UNKNOWN_FORMAT)";
    expect(reasonOf(wrapped)).toBe("Unknown format Nope. Maybe you meant: ['One']");
  });

  it('reads the code chDB leaves only in the text of a stream error', () => {
    const streamError = Object.assign(
      new Error("Code: 60. DB::Exception: Unknown table 'x'. (UNKNOWN_TABLE)"),
      {
        code: 'CHDB_STREAM',
      },
    );
    expect(toClickHouseException(streamError).exceptionCode).toBe(60);
    expect(toClickHouseException(new Error('Code: 60. but not from chDB')).exceptionCode).toBe(1002);
  });
});

describe('request session setup', () => {
  const request = (overrides: Partial<QueryRequest> = {}): QueryRequest => ({
    queryId: 'q',
    queryParam: undefined,
    database: 'default',
    defaultFormat: undefined,
    settings: new Map(),
    params: new Map(),
    waitEndOfQuery: false,
    responseEncoding: undefined,
    databaseNamed: false,
    compressResponse: false,
    decompressRequest: false,
    verifyChecksum: true,
    session: undefined,
    ...overrides,
  });
  const writer = { name: 'w', password: '', readonly: false };
  const analyst = { name: 'a', password: '', readonly: true };

  it('sets readonly last and never weaker than the user or the method allows', () => {
    const sql = sessionSetup(
      request({
        settings: new Map([
          ['readonly', '0'],
          ['max_threads', '2'],
        ]),
      }),
      analyst,
      'POST',
    );
    expect(sql).toMatch(/max_threads = '2', readonly = 1$/);
    expect(sessionSetup(request(), writer, 'GET')).toMatch(/readonly = 2$/);
    expect(sessionSetup(request(), writer, 'POST')).not.toContain('readonly');
  });

  it('quotes values and the database name', () => {
    const sql = sessionSetup(
      request({ database: 'we`ird', params: new Map([['s', "it\\'s"]]) }),
      writer,
      'POST',
    );
    expect(sql).toContain('USE `we\\`ird`; SET ');
    expect(sql).toContain("param_s = 'it\\\\\\'s'");
  });

  it('refuses allow_* settings to a read-only user', () => {
    const settings = new Map([['allow_experimental_eval_table_function', '1']]);
    expect(() => sessionSetup(request({ settings }), analyst, 'POST')).toThrow(
      expect.objectContaining({ exceptionCode: 164 }),
    );
  });
});

describe('parseSimpleInsert', () => {
  it('recognises what @clickhouse/client sends, and nothing fancier', () => {
    expect(parseSimpleInsert('INSERT INTO db.t (a, b) FORMAT jsoneachrow')).toEqual({
      table: 'db.t',
      columns: ['a', 'b'],
      format: 'JSONEachRow',
    });
    expect(parseSimpleInsert('INSERT INTO t FORMAT CSV')).toEqual({
      table: 't',
      columns: undefined,
      format: 'CSV',
    });
    expect(parseSimpleInsert('INSERT INTO t SETTINGS x = 1 FORMAT CSV')).toBeUndefined();
    expect(parseSimpleInsert('INSERT INTO t FORMAT Parquet')).toBeUndefined();
    expect(parseSimpleInsert("INSERT INTO FUNCTION file('x') FORMAT CSV")).toBeUndefined();
  });
});

describe('limiter', () => {
  it('runs at most maxConcurrent, queues up to maxQueued, refuses the rest with 202', async () => {
    const limiter = createLimiter(1, 1);
    const release = await limiter.acquire();
    const queued = limiter.acquire();
    await expect(limiter.acquire()).rejects.toMatchObject({ exceptionCode: 202, retriable: true });
    expect(limiter.queued).toBe(1);
    release();
    release(); // a second call must not free a slot twice
    (await queued)();
    expect(limiter.running).toBe(0);
  });

  it('drops a queued request whose client went away', async () => {
    const limiter = createLimiter(1, 5);
    const release = await limiter.acquire();
    const abort = new AbortController();
    const waiting = limiter.acquire(abort.signal);
    abort.abort();
    await expect(waiting).rejects.toMatchObject({ exceptionCode: 394 });
    expect(limiter.queued).toBe(0);
    release();
    expect(limiter.running).toBe(0);
  });
});

describe('auth', () => {
  const message = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

  it('reads credentials from headers, Basic, then URL parameters', () => {
    const url = new URL('http://x/?user=p&password=q');
    expect(credentialsOf(message({ 'x-clickhouse-user': 'h', 'x-clickhouse-key': 'k' }), url)).toEqual({
      name: 'h',
      password: 'k',
    });
    const basic = `Basic ${Buffer.from('b:pa:ss').toString('base64')}`;
    expect(credentialsOf(message({ authorization: basic }), url)).toEqual({ name: 'b', password: 'pa:ss' });
    expect(credentialsOf(message({}), url)).toEqual({ name: 'p', password: 'q' });
    expect(credentialsOf(message({}), new URL('http://x/'))).toEqual({ name: 'default', password: '' });
  });

  it('refuses duplicate users and wrong passwords', () => {
    expect(() =>
      createAuthenticator([
        { name: 'a', password: '', readonly: false },
        { name: 'a', password: '', readonly: true },
      ]),
    ).toThrow(expect.objectContaining({ code: 'invalid_config' }));
    const auth = createAuthenticator([{ name: 'a', password: 'right', readonly: false }]);
    expect(auth.authenticate({ name: 'a', password: 'right' }).name).toBe('a');
    expect(() => auth.authenticate({ name: 'a', password: 'wrong' })).toThrow(
      expect.objectContaining({ exceptionCode: 516 }),
    );
  });
});

describe('parseBinaryInsert', () => {
  it('takes binary formats into plain or backquoted tables and columns, and nothing else', () => {
    expect(parseBinaryInsert('INSERT INTO `db`.`t` (`a`, b) FORMAT rowbinary')).toEqual({
      target: '`db`.`t` (`a`, b)',
      format: 'RowBinary',
    });
    expect(parseBinaryInsert('insert into t format Native')).toEqual({ target: 't', format: 'Native' });
    expect(parseBinaryInsert('INSERT INTO t FORMAT JSONEachRow')).toBeUndefined();
    expect(parseBinaryInsert("INSERT INTO FUNCTION file('x') FORMAT RowBinary")).toBeUndefined();
    expect(parseBinaryInsert('INSERT INTO t SETTINGS x = 1 FORMAT RowBinary')).toBeUndefined();
    expect(parseBinaryInsert("INSERT INTO `t` FROM INFILE '/etc/passwd' FORMAT RowBinary")).toBeUndefined();
    expect(parseBinaryInsert('INSERT INTO `a`b` FORMAT RowBinary')).toBeUndefined();
    expect(parseBinaryInsert('INSERT INTO t; DROP TABLE t FORMAT RowBinary')).toBeUndefined();
  });
});
