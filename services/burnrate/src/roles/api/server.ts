import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BurnrateError, type IngestResponse, ValidationError } from '@burnrate/core';
import type { EmitInput } from '@burnrate/sdk';
import type { Logger } from 'pino';
import type { Health } from '../../runtime/health.js';
import { httpUrl } from '../../runtime/http-url.js';
import type { Component } from '../../runtime/lifecycle.js';
import type { Metrics } from '../../runtime/metrics.js';
import { healthAnswer } from '../../runtime/ops-server.js';
import { BUDGET_PARAMETERS, type createBudgetHandler, type History } from './budget.js';
import { checkEventShape, parseEventsBody } from './events-input.js';
import { FORECAST_PARAMETERS, forecastAnswer } from './forecast.js';
import { bearerToken, decodeUtf8, HttpError, mediaType, readBody, sendError, sendJson } from './http.js';
import type { IngestSink, SinkResult } from './ingest-sink.js';
import { type ApiKey, type KeyRing, type KeyScope, keyAllows, verifyKey } from './keys.js';
import type { OtlpTraceMapper } from './otlp/mapper.js';
import { readQuery } from './query.js';
import type { createRateLimiter } from './rate-limit.js';

export interface ApiServerConfig {
  host: string;
  port: number;
  /** Largest request body, after decompression. */
  maxBodyBytes: number;
  /** Most events in one POST /v1/events, and GenAI spans in one OTLP export. */
  maxBatchEvents: number;
  /** How long stop() lets requests under way finish. Default 5 s. */
  stopGraceMs?: number;
}

export interface ApiServerDeps {
  keys: () => KeyRing | null;
  sink: IngestSink;
  budget: ReturnType<typeof createBudgetHandler>;
  history: History;
  otlp: OtlpTraceMapper;
  limiter: ReturnType<typeof createRateLimiter>;
  logger: Logger;
  /** The process's health model (the same answers as the metrics port's /healthz and /readyz). */
  health?: Health;
  metrics?: Metrics;
}

/**
 * burnrate's HTTP API: ingest for services not written in TypeScript (POST /v1/events, OTLP
 * POST /v1/traces), the budget guardrail (GET /v1/budget) and forecasts (GET /v1/forecast).
 * Every request needs an API key with the scope the endpoint asks for; keys scoped to customers
 * see and send only theirs.
 */
export function createApiServer(config: ApiServerConfig, deps: ApiServerDeps): Component & { url(): string } {
  const log = deps.logger.child({ component: 'api' });
  let server: Server | undefined;
  let address = '';
  const inFlight = new Set<Promise<void>>();

  function authenticate(req: IncomingMessage, scope: KeyScope): ApiKey {
    const ring = deps.keys();
    const token = bearerToken(req);
    if (!token) {
      throw new HttpError(
        401,
        'unauthorized',
        'Send your API key as "Authorization: Bearer <key>".',
        'Authorization',
      );
    }
    if (!ring || ring.size === 0) {
      throw new HttpError(
        401,
        'unauthorized',
        'No API keys are configured on this server: add keys to the file BURNRATE_KEYS_FILE names (see `burnrate keys create`).',
        'Authorization',
      );
    }
    const key = verifyKey(ring, token);
    if (!key) throw new HttpError(401, 'unauthorized', 'The API key is not valid.', 'Authorization');
    if (!key.scopes.has(scope)) {
      throw new HttpError(403, 'forbidden', `This key does not have the ${scope} scope.`, 'Authorization');
    }
    return key;
  }

  function forCustomer(key: ApiKey, ref: string): void {
    if (!keyAllows(key, ref)) {
      throw new HttpError(403, 'forbidden', 'This key is not allowed to act for that customer.', 'customer');
    }
  }

  /** Scope, service and customer checks shared by both ingest paths; the input is completed in place. */
  function admit(key: ApiKey, input: EmitInput): EmitInput | ValidationError {
    if (key.service !== null) {
      if (input.service !== undefined && input.service !== key.service) {
        return new ValidationError('service', `This key sends for service "${key.service}" only.`);
      }
      input.service = key.service;
    }
    input.service ??= key.id;
    if (typeof input.customer_ref === 'string' && !keyAllows(key, input.customer_ref)) {
      return new ValidationError(
        'customer_ref',
        'This key is not allowed to send events for that customer_ref.',
      );
    }
    return input;
  }

  function limit(key: ApiKey, events: number): void {
    const taken = deps.limiter.take(key.id, events);
    if (!taken.ok) {
      throw new HttpError(
        429,
        'rate_limited',
        `This key is over its events-per-second limit (INGEST_RATE_LIMIT_EVENTS_PER_SECOND); retry in ${taken.retryAfterSeconds} s.`,
        undefined,
        taken.retryAfterSeconds,
      );
    }
  }

  async function postEvents(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const key = authenticate(req, 'ingest');
    const type = mediaType(req);
    const format =
      type === 'application/json'
        ? 'json'
        : type === 'application/x-ndjson' || type === 'application/ndjson'
          ? 'ndjson'
          : null;
    if (!format) {
      req.resume();
      throw new HttpError(
        415,
        'unsupported_media_type',
        'Send Content-Type: application/json (one event or an array) or application/x-ndjson (one event per line).',
        'Content-Type',
      );
    }
    const items = parseEventsBody(decodeUtf8(await readBody(req, config.maxBodyBytes)), format);
    if (items.length === 0) throw new HttpError(400, 'no_events', 'The body holds no events.');
    if (items.length > config.maxBatchEvents) {
      throw new HttpError(
        413,
        'batch_too_large',
        `${items.length} events in one request; at most ${config.maxBatchEvents} are accepted (INGEST_MAX_BATCH_EVENTS).`,
      );
    }
    limit(key, items.length);
    const inputs = items.map((item) => {
      if ('error' in item) return item.error;
      try {
        return admit(key, checkEventShape(item.value));
      } catch (error) {
        if (error instanceof ValidationError) return error;
        throw error;
      }
    });
    const results = await deps.sink.submit(inputs);
    const body = ingestResponse(results);
    sendJson(res, body.rejected === 0 ? 200 : 422, body);
  }

  async function postTraces(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const key = authenticate(req, 'ingest');
    const type = mediaType(req);
    const encoding =
      type === 'application/x-protobuf' ? 'protobuf' : type === 'application/json' ? 'json' : null;
    if (!encoding) {
      req.resume();
      throw new HttpError(
        415,
        'unsupported_media_type',
        'Send OTLP as Content-Type: application/x-protobuf or application/json.',
        'Content-Type',
      );
    }
    const body = await readBody(req, config.maxBodyBytes);
    let batch: ReturnType<OtlpTraceMapper['map']>;
    try {
      batch = deps.otlp.map(encoding === 'json' ? Buffer.from(decodeUtf8(body)) : body, encoding);
    } catch (error) {
      if (error instanceof BurnrateError) throw new HttpError(400, error.code, error.message, error.field);
      throw error;
    }
    if (batch.events.length > config.maxBatchEvents) {
      throw new HttpError(
        413,
        'batch_too_large',
        `${batch.events.length} GenAI spans in one export; at most ${config.maxBatchEvents} are accepted (INGEST_MAX_BATCH_EVENTS): lower the exporter's batch size.`,
      );
    }
    limit(key, Math.max(batch.events.length, 1));
    const results = await deps.sink.submit(batch.events.map((e) => admit(key, e.input)));
    const rejected = batch.rejected.length + results.filter((r) => 'error' in r).length;
    const first =
      batch.rejected[0] ?? results.find((r): r is Extract<SinkResult, { error: string }> => 'error' in r);
    const message = first
      ? `${rejected} span(s) rejected; first: ${first.field}: ${'message' in first ? first.message : first.error}`
      : '';
    const answer = deps.otlp.response(encoding, rejected, message);
    res.writeHead(200, {
      'Content-Type': encoding === 'json' ? 'application/json' : 'application/x-protobuf',
      'Content-Length': answer.length,
    });
    res.end(answer);
    if (rejected > 0) log.warn({ key: key.id, rejected, first: message }, 'OTLP spans rejected');
  }

  async function getBudget(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const key = authenticate(req, 'budget');
    const q = readQuery(url, BUDGET_PARAMETERS, ['customer']);
    forCustomer(key, q.get('customer')!);
    sendJson(res, 200, await deps.budget(q, { history: key.customers === null }));
  }

  async function getForecast(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const key = authenticate(req, 'forecast');
    if (key.customers !== null) {
      throw new HttpError(
        403,
        'forbidden',
        "Forecasts are computed from every customer's history; only a key for all customers (customers: ['*']) may read them.",
        'Authorization',
      );
    }
    sendJson(res, 200, forecastAnswer(deps.history, readQuery(url, FORECAST_PARAMETERS, ['workflow'])));
  }

  const routes: Record<
    string,
    Record<string, (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>>
  > = {
    '/v1/events': { POST: postEvents },
    '/v1/traces': { POST: postTraces },
    '/v1/budget': { GET: getBudget },
    '/v1/forecast': { GET: getForecast },
    '/healthz': { GET: async (_req, res) => health(res, '/healthz') },
    '/readyz': { GET: async (_req, res) => health(res, '/readyz') },
  };

  function health(res: ServerResponse, path: '/healthz' | '/readyz'): void {
    const { status, body } = deps.health
      ? healthAnswer(deps.health, path, Date.now())
      : { status: 200, body: { status: 'ok' } };
    sendJson(res, status, body);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    await answer(req, res);
    if (!deps.metrics) return;
    const path = (req.url ?? '/').split('?')[0]!;
    const route = Object.hasOwn(routes, path) ? path : 'other';
    deps.metrics.apiRequest(route, req.method ?? 'GET', res.statusCode, (performance.now() - started) / 1000);
  }

  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      return sendError(res, new HttpError(400, 'invalid_url', 'The request URL does not parse.'));
    }
    try {
      const route = routes[url.pathname];
      if (!route)
        throw new HttpError(
          404,
          'not_found',
          `There is no ${url.pathname}; see the API reference in docs/api.md.`,
        );
      const handler = route[req.method ?? 'GET'];
      if (!handler) {
        throw new HttpError(
          405,
          'method_not_allowed',
          `${url.pathname} answers ${Object.keys(route).join(', ')} only.`,
        );
      }
      await handler(req, res, url);
    } catch (error) {
      if (!(error instanceof HttpError)) log.error({ err: error, path: url.pathname }, 'API request failed');
      const answer =
        error instanceof HttpError
          ? error
          : new HttpError(500, 'internal', 'The server failed to answer; it is logged. Retry later.');
      if (res.headersSent) res.destroy();
      else sendError(res, answer);
      req.resume();
    }
  }

  return {
    name: 'api',
    url: () => address,
    async start() {
      const http = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
        const done = handle(req, res);
        inFlight.add(done);
        void done.finally(() => inFlight.delete(done));
      });
      await new Promise<void>((resolve, reject) => {
        http.once('error', (error) =>
          reject(
            new BurnrateError(
              'api_listen_failed',
              `The API cannot listen on ${config.host}:${config.port}: ${error.message} (API_HOST, API_PORT).`,
              { field: 'API_PORT', cause: error },
            ),
          ),
        );
        http.listen(config.port, config.host, resolve);
      });
      server = http;
      const { port } = http.address() as AddressInfo;
      address = httpUrl(config.host, port);
      log.info({ url: address }, 'API listening');
    },
    async stop() {
      const http = server;
      server = undefined;
      if (!http) return;
      const closed = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeIdleConnections();
      // Requests under way may finish (their events are acknowledged or not: the answer says which),
      // for a bounded time: a client that stalls mid-body must not hold the shutdown.
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise((resolve) => (timer = setTimeout(resolve, config.stopGraceMs ?? 5_000)));
      while (inFlight.size > 0) {
        const drained = Promise.allSettled([...inFlight]);
        if (
          (await Promise.race([drained.then(() => 'drained'), deadline.then(() => 'deadline')])) ===
          'deadline'
        )
          break;
      }
      clearTimeout(timer);
      http.closeAllConnections();
      await closed;
    },
  };
}

function ingestResponse(results: SinkResult[]): IngestResponse {
  let accepted = 0;
  const out = results.map((r, index) => {
    if ('error' in r)
      return { index, event_id: r.event_id, status: 'rejected' as const, field: r.field, error: r.error };
    accepted++;
    return { index, event_id: r.event_id, status: 'accepted' as const };
  });
  return { accepted, rejected: results.length - accepted, results: out };
}
