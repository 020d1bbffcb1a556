import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Session } from 'chdb';
import type { Logger } from 'pino';
import { type Authenticator, credentialsOf } from './auth.js';
import { parseBinaryInsert, runBinaryInsert } from './binary-insert.js';
import { decodeBlocks, encodeBlocks } from './compressed-block.js';
import type { Engine } from './engine.js';
import {
  ClickHouseException,
  CODES,
  codeNamesFrom,
  formatException,
  httpStatusOf,
  toClickHouseException,
} from './errors.js';
import { parseSimpleInsert, runInsert, runQuery, type Summary, sessionSetup, summaryOf } from './execute.js';
import { contentTypeOf, planOutput } from './formats.js';
import type { Limiter } from './limiter.js';
import { assertReadonlySafe } from './readonly-guard.js';
import { parseQueryRequest, type QueryRequest, readBody } from './request.js';
import { sendBuffered, sendStream } from './respond.js';
import type { SessionLease, Sessions } from './sessions.js';

export type HttpLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

export interface QueryHandlerDeps {
  engine: Engine;
  auth: Authenticator;
  limiter: Limiter;
  sessions: Sessions;
  logger: HttpLogger;
  defaultDatabase: string;
  maxBodyBytes: number;
  displayName: string;
  /** A private directory (0700) for binary insert bodies on their way to the engine. */
  spoolDir: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Serves one query request, from credentials to the last byte, and logs it. Never throws. */
export function createQueryHandler(deps: QueryHandlerDeps) {
  const { engine, auth, limiter, logger } = deps;
  const codeNames = codeNamesFrom(engine.info.codeNames);
  const describe = (error: unknown) =>
    formatException(toClickHouseException(error), codeNames, engine.info.version);

  return async function handleQuery(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const startedAt = performance.now();
    const method = req.method ?? 'GET';
    const log: Record<string, unknown> = { method, queryId: url.searchParams.get('query_id') ?? undefined };
    const abort = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    let session: Session | undefined;
    let lease: SessionLease | undefined;
    let release: (() => void) | undefined;
    let request: QueryRequest | undefined;
    try {
      request = parseQueryRequest(req, url, deps.defaultDatabase);
      log.queryId = request.queryId;
      if (request.compressResponse) log.compress = true;
      if (request.decompressRequest) log.decompress = true;
      const user = auth.authenticate(credentialsOf(req, url));
      log.user = user.name;
      if (request.session) {
        log.session = request.session.id;
        if (method !== 'POST' && !user.readonly) {
          throw new ClickHouseException(
            CODES.READONLY,
            'Within a session, send queries with POST: a GET runs with readonly=2, which the embedded engine could never lift again for the rest of the session',
          );
        }
        // taken before the body is read, so a second request on a busy session fails at once
        lease = deps.sessions.acquire({ user: user.name, readonly: user.readonly, ...request.session });
      }
      const received = method === 'POST' ? await readBody(req, deps.maxBodyBytes) : Buffer.alloc(0);
      const body = request.decompressRequest
        ? decodeBlocks(received, { maxBytes: deps.maxBodyBytes, verifyChecksum: request.verifyChecksum })
        : received;
      const frame = request.compressResponse ? encodeBlocks : undefined;
      release = await limiter.acquire(abort.signal);
      session = lease ? lease.session : engine.openSession();
      try {
        const setup = sessionSetup(request, user, method, lease ? lease.fresh : true);
        if (setup !== '') await session.queryAsync(setup, { format: 'TabSeparated' });
        lease?.markReady();
      } catch (error) {
        // a session whose setup failed part-way must not be found half set up later
        if (lease?.fresh) lease.discard();
        throw error;
      }

      const insert =
        request.queryParam && body.length > 0 ? parseSimpleInsert(request.queryParam) : undefined;
      const binaryInsert =
        !insert && request.queryParam && body.length > 0 ? parseBinaryInsert(request.queryParam) : undefined;
      if ((insert || binaryInsert) && !user.readonly) {
        log.query = request.queryParam;
        const summary = insert
          ? await runInsert(session, insert, body)
          : await runBinaryInsert(session, binaryInsert!, body, deps.spoolDir);
        const format = request.defaultFormat ?? 'TabSeparated';
        await sendBuffered(res, 200, headers(request, format, summary), Buffer.alloc(0), undefined);
        log.status = 200;
        return;
      }
      if (binaryInsert) {
        throw new ClickHouseException(CODES.READONLY, `${user.name}: Cannot execute query in readonly mode`);
      }

      const sql = queryText(request, body);
      log.query = sql.length > 1_000 ? `${sql.slice(0, 1_000)}…` : sql;
      // readonly=1 is already set on the session; this closes the gaps it leaves in chDB
      if (user.readonly) await assertReadonlySafe(session, sql);
      const plan = planOutput(sql, request.defaultFormat, engine.info.outputFormats);
      const outcome = await runQuery(session, sql, plan.format, plan.stream && !request.waitEndOfQuery);
      log.format = plan.format;
      if (outcome.kind === 'buffered') {
        log.bytes = outcome.body.length;
        await sendBuffered(
          res,
          200,
          headers(request, plan.format, outcome.summary),
          frame ? frame(outcome.body) : outcome.body,
          request.responseEncoding,
        );
        log.status = 200;
      } else {
        const { bytes, error, clientClosed } = await sendStream(
          res,
          headers(request, plan.format, summaryOf({})),
          outcome,
          request.responseEncoding,
          describe,
          frame,
        );
        Object.assign(log, { bytes, streamed: true, status: 200, clientClosed });
        if (error !== undefined) throw error;
      }
    } catch (error) {
      const exception = toClickHouseException(error);
      const status = httpStatusOf(exception.exceptionCode, codeNames);
      if (!res.headersSent) log.status = status;
      Object.assign(log, { code: exception.exceptionCode, error: exception.message });
      if (abort.signal.aborted && !res.headersSent) {
        log.clientClosed = true;
      } else if (!res.headersSent) {
        const errorHeaders: Record<string, string> = {
          'Content-Type': 'text/plain; charset=UTF-8',
          'X-ClickHouse-Exception-Code': String(exception.exceptionCode),
          'X-ClickHouse-Query-Id': request?.queryId ?? '',
          'X-ClickHouse-Server-Display-Name': deps.displayName,
          // the request body may not have been read; do not let it be taken for the next request
          ...(req.complete ? {} : { Connection: 'close' }),
        };
        const text = Buffer.from(describe(exception));
        // compress=1 errors come compressed, as a server sends every error raised once the request's
        // output exists; authentication failures come before that, in plain text, on a server as here
        const framed = request?.compressResponse && status !== 401 && status !== 403;
        await sendBuffered(res, status, errorHeaders, framed ? encodeBlocks(text) : text, undefined);
      }
    } finally {
      if (lease) lease.release();
      else session?.close();
      release?.();
      log.durationMs = Math.round(performance.now() - startedAt);
      if (log.code !== undefined && !log.clientClosed) logger.warn(log, 'ClickHouse HTTP query failed');
      else logger.debug(log, 'ClickHouse HTTP query');
    }
  };

  function headers(request: QueryRequest, format: string, summary: Summary): Record<string, string> {
    return {
      'Content-Type': contentTypeOf(format),
      'X-ClickHouse-Server-Display-Name': deps.displayName,
      'X-ClickHouse-Query-Id': request.queryId,
      'X-ClickHouse-Format': format,
      'X-ClickHouse-Timezone': engine.info.timezone,
      'X-ClickHouse-Summary': JSON.stringify(summary),
    };
  }
}

/**
 * As on a ClickHouse server, the `query` parameter and the POST body form one query, joined by a
 * newline — which is how `INSERT … FORMAT X` in the URL gets its rows from the body.
 */
function queryText(request: QueryRequest, body: Buffer): string {
  let bodyText = '';
  try {
    bodyText = utf8.decode(body);
  } catch (error) {
    throw new ClickHouseException(
      CODES.NOT_IMPLEMENTED,
      'The request body is not UTF-8 text. The embedded server passes queries to chDB as text; binary rows (RowBinary, Native, Parquet…) are taken only as `INSERT INTO <table> [(columns)] FORMAT <format>` in the query parameter with the rows in the body',
      { cause: error },
    );
  }
  const sql = [request.queryParam, bodyText].filter((part) => part !== undefined && part !== '').join('\n');
  if (sql.trim() === '') throw new ClickHouseException(CODES.SYNTAX_ERROR, 'Empty query');
  return sql;
}
