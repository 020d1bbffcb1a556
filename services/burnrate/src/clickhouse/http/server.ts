import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BurnrateError } from '@burnrate/core';
import type { ClickHouseClient } from '@clickhouse/client';
import { httpUrl } from '../../runtime/http-url.js';
import { createAuthenticator, type HttpUser } from './auth.js';
import { chdbDataPathOf, type Engine, openEngine } from './engine.js';
import { createLimiter } from './limiter.js';
import { createQueryHandler, type HttpLogger } from './query-handler.js';
import { createSessions, type Sessions } from './sessions.js';

export interface ClickHouseHttpServerOptions {
  /** A @clickhouse/client over chDB; the server opens its own sessions on the same data directory. */
  client: ClickHouseClient;
  /** Interface to listen on; 127.0.0.1 keeps it on this machine. */
  host: string;
  /** TCP port; 0 picks a free one (see the `port` start() returns). */
  port: number;
  users: HttpUser[];
  /** The database a query runs in when the request names none. */
  defaultDatabase: string;
  logger: HttpLogger;
  /** Largest request body accepted, after decompression. Default 64 MiB. */
  maxBodyBytes?: number;
  /** Queries run on the engine at once; the rest wait. Default 2 (chDB uses libuv's pool of 4). */
  maxConcurrentQueries?: number;
  /** Queries allowed to wait for a slot before new ones get TOO_MANY_SIMULTANEOUS_QUERIES. Default 100. */
  maxQueuedQueries?: number;
  /** X-ClickHouse-Server-Display-Name. Default: the host name. */
  displayName?: string;
  /** How long stop() lets running requests finish before cutting their connections. Default 10 s. */
  stopTimeoutMs?: number;
  /** `session_id` sessions open at once (each holds an engine connection). Default 64. */
  maxSessions?: number;
  /** Seconds an idle session lives when the request names no session_timeout. Default 60, as ClickHouse. */
  defaultSessionTimeoutSeconds?: number;
  /** The largest session_timeout accepted. Default 3600, as ClickHouse. */
  maxSessionTimeoutSeconds?: number;
  /** Sessions one user may hold at once. Default half of maxSessions. */
  maxSessionsPerUser?: number;
  /** The largest session_timeout a read-only user gets. Default 300. */
  maxReadonlySessionTimeoutSeconds?: number;
}

export interface ClickHouseHttpServer {
  start(): Promise<{ url: string; port: number }>;
  stop(): Promise<void>;
}

/**
 * The ClickHouse HTTP interface over the chDB engine this process owns, so other processes and
 * analysts' tools (curl, @clickhouse/client, clickhouse-connect, Grafana) can reach it as if it
 * were a ClickHouse server. See docs/clickhouse-http.md for what is and is not supported.
 */
export function createClickHouseHttpServer(options: ClickHouseHttpServerOptions): ClickHouseHttpServer {
  const { logger } = options;
  const auth = createAuthenticator(options.users);
  let server: Server | undefined;
  let engine: Engine | undefined;
  let sessions: Sessions | undefined;
  let spoolDir: string | undefined;
  let started: Promise<{ url: string; port: number }> | undefined;
  let stopped: Promise<void> | undefined;
  const inFlight = new Set<Promise<void>>();

  async function listen(): Promise<{ url: string; port: number }> {
    engine = await openEngine(chdbDataPathOf(options.client));
    const opened = engine;
    sessions = createSessions(() => opened.openSession(), {
      maxSessions: options.maxSessions ?? 64,
      defaultTimeoutSeconds: options.defaultSessionTimeoutSeconds ?? 60,
      maxTimeoutSeconds: options.maxSessionTimeoutSeconds ?? 3600,
      ...(options.maxSessionsPerUser !== undefined ? { maxSessionsPerUser: options.maxSessionsPerUser } : {}),
      ...(options.maxReadonlySessionTimeoutSeconds !== undefined
        ? { maxReadonlyTimeoutSeconds: options.maxReadonlySessionTimeoutSeconds }
        : {}),
    });
    // mkdtemp makes the directory 0700: only this process's user reads the insert bodies it holds
    spoolDir = mkdtempSync(join(tmpdir(), 'burnrate-chhttp-spool-'));
    const handleQuery = createQueryHandler({
      engine,
      auth,
      sessions,
      spoolDir,
      limiter: createLimiter(options.maxConcurrentQueries ?? 2, options.maxQueuedQueries ?? 100),
      logger,
      defaultDatabase: options.defaultDatabase,
      maxBodyBytes: options.maxBodyBytes ?? 64 * 1024 * 1024,
      displayName: options.displayName ?? hostname(),
    });
    const http = createServer((req, res) => {
      const done = route(req, res, handleQuery).catch((error: unknown) => {
        logger.error({ err: error }, 'ClickHouse HTTP request failed outside the query handler');
        res.destroy();
      });
      inFlight.add(done);
      void done.finally(() => inFlight.delete(done));
    });
    server = http;
    const listening = new Promise<void>((resolve, reject) => {
      http.once('error', (error) =>
        reject(
          new BurnrateError(
            'clickhouse_http_listen_failed',
            `The ClickHouse HTTP interface cannot listen on ${options.host}:${options.port}: ${error.message}`,
            { field: 'port', cause: error },
          ),
        ),
      );
      http.listen(options.port, options.host, resolve);
    });
    await listening.catch((error: unknown) => {
      server = undefined;
      engine?.close();
      engine = undefined;
      if (spoolDir) rmSync(spoolDir, { recursive: true, force: true });
      spoolDir = undefined;
      throw error;
    });
    const { port } = http.address() as AddressInfo;
    return { url: httpUrl(options.host, port), port };
  }

  async function close(): Promise<void> {
    if (started) await started.catch(() => undefined);
    const http = server;
    if (http) {
      const closed = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeIdleConnections();
      const deadline = setTimeout(() => http.closeAllConnections(), options.stopTimeoutMs ?? 10_000);
      await Promise.allSettled([...inFlight]);
      http.closeAllConnections();
      clearTimeout(deadline);
      await closed;
    }
    sessions?.closeAll();
    engine?.close();
    if (spoolDir) rmSync(spoolDir, { recursive: true, force: true });
  }

  return {
    start() {
      if (stopped)
        return Promise.reject(new BurnrateError('clickhouse_http_stopped', 'The server was stopped.'));
      started ??= listen();
      return started;
    },
    stop() {
      stopped ??= close();
      return stopped;
    },
  };
}

const OK = 'Ok.\n';

async function route(
  req: IncomingMessage,
  res: ServerResponse,
  handleQuery: (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const method = req.method ?? 'GET';
  if (url.pathname === '/ping' || url.pathname === '/replicas_status') return sendText(res, 200, OK);
  if (url.pathname !== '/') {
    return sendText(
      res,
      404,
      `There is no handle ${url.pathname}\n\nUse / or /ping for health checks.\nSend queries with POST or GET /?query=…\n`,
    );
  }
  if (method !== 'GET' && method !== 'HEAD' && method !== 'POST') {
    return sendText(res, 405, `Method ${method} is not supported; use GET or POST.\n`);
  }
  if (method !== 'POST' && !url.searchParams.has('query')) return sendText(res, 200, OK);
  return handleQuery(req, res, url);
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=UTF-8',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}
