import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { BurnrateError } from '@burnrate/core';
import type { AddressGuard } from './address-guard.js';

export interface HttpTransportOptions {
  /** Decides which addresses may be contacted; every hop's target passes through it before connecting. */
  guard: AddressGuard;
  /** Bounds one `post`, from the first connect to the last body byte, redirects included. */
  timeoutMs: number;
  /** Redirects followed before giving up with `too_many_redirects`. Default 3. */
  maxRedirects?: number;
  /** Sent unless the request sets its own User-Agent. Default `burnrate-notifier`. */
  userAgent?: string;
  /** Bytes of the response body kept; the rest is never read. Default 4096. */
  maxResponseBytes?: number;
}

export interface HttpRequest {
  headers: Record<string, string>;
  body: string;
}

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The first `maxResponseBytes` of the body, decoded as UTF-8. */
  body: string;
  durationMs: number;
  /** From the Retry-After header, capped at one hour; undefined when absent, past or unreadable. */
  retryAfterMs: number | undefined;
  finalUrl: string;
  redirects: number;
}

export interface HttpTransport {
  /** POSTs `request` to `url`. Non-2xx statuses are returned, not thrown; failures to deliver throw BurnrateError. */
  post(url: string, request: HttpRequest): Promise<HttpResult>;
  /** Closes idle keep-alive connections. */
  close(): void;
}

const MAX_RETRY_AFTER_MS = 3_600_000;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
// Set by the transport itself: the body length is ours, and a caller's Host would misdirect virtual hosting.
const MANAGED_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection']);
// Credentials the caller meant for the origin it named, never for whoever that origin redirects to.
const ORIGIN_CREDENTIALS = new Set(['authorization', 'proxy-authorization', 'cookie']);
const INVALID_REQUEST_CODES = new Set([
  'ERR_INVALID_HTTP_TOKEN',
  'ERR_INVALID_CHAR',
  'ERR_HTTP_INVALID_HEADER_VALUE',
  'ERR_INVALID_ARG_TYPE',
]);
const TLS_CODES = new Set([
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
]);
const HTTP_DATE =
  /^(?:[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT|[A-Z][a-z]+, \d{2}-[A-Z][a-z]{2}-\d{2} \d{2}:\d{2}:\d{2} GMT|[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4})$/;

/** Milliseconds a Retry-After value (delay-seconds or an HTTP-date) asks to wait, capped at one hour. */
export function parseRetryAfter(
  value: string | string[] | undefined,
  nowMs = Date.now(),
): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Math.min(Number(text) * 1000, MAX_RETRY_AFTER_MS);
  if (!HTTP_DATE.test(text)) return undefined;
  // asctime dates carry no zone; HTTP says they are GMT, Date.parse would read them as local time.
  const at = Date.parse(text.endsWith('GMT') ? text : `${text} GMT`);
  if (Number.isNaN(at) || at < nowMs) return undefined;
  return Math.min(at - nowMs, MAX_RETRY_AFTER_MS);
}

/**
 * How a destination appears in messages: scheme, host and port only. Slack and similar webhooks carry
 * their secret in the path, and these messages end up in logs.
 */
function display(url: URL): string {
  return `${url.protocol}//${url.hostname}:${url.port || (url.protocol === 'https:' ? 443 : 80)}/`;
}

function invalid(message: string): BurnrateError {
  return new BurnrateError('invalid_destination', message);
}

function parseDestination(raw: string, base?: URL): URL {
  let url: URL;
  try {
    url = new URL(raw, base);
  } catch (error) {
    const what = base ? `the redirect from ${display(base)}` : 'the destination URL';
    throw new BurnrateError('invalid_destination', `Refused to deliver: ${what} is not a valid URL.`, {
      cause: error,
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalid(
      `Refused to deliver to a ${url.protocol} URL; only http: and https: destinations are allowed.`,
    );
  }
  if (url.username !== '' || url.password !== '') {
    throw invalid(
      `Refused to deliver to ${display(url)}: the URL carries credentials (user:password@); send them in a header instead.`,
    );
  }
  return url;
}

function classify(error: unknown, target: string): BurnrateError {
  if (error instanceof BurnrateError) return error;
  const code = (error as { code?: unknown })?.code;
  const reason = typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
  if (typeof code === 'string' && INVALID_REQUEST_CODES.has(code)) {
    return new BurnrateError(
      'invalid_request',
      `The request to ${target} is malformed (${reason}); fix the headers the notifier builds.`,
      { cause: error },
    );
  }
  if (typeof code === 'string' && TLS_CODES.has(code)) {
    return new BurnrateError(
      'delivery_tls',
      `${target} presented a certificate that was not accepted (${reason}); the destination must fix its certificate.`,
      { cause: error },
    );
  }
  return new BurnrateError(
    'delivery_network',
    `Could not reach ${target} (${reason}); the delivery can be retried once it is reachable.`,
    { retriable: true, cause: error },
  );
}

function headersFor(request: HttpRequest, sameOrigin: boolean, userAgent: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    const lower = name.toLowerCase();
    if (MANAGED_HEADERS.has(lower) || (!sameOrigin && ORIGIN_CREDENTIALS.has(lower))) continue;
    out[name] = value;
  }
  if (!Object.keys(out).some((name) => name.toLowerCase() === 'user-agent')) out['user-agent'] = userAgent;
  out['content-length'] = String(Buffer.byteLength(request.body));
  return out;
}

/** Reads at most `maxBytes` of the body, then destroys the response so the rest is never transferred. */
function readBody(response: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      resolve(Buffer.concat(chunks).toString('utf8'));
    };
    response.on('data', (chunk: Buffer) => {
      if (done) return;
      const room = maxBytes - size;
      chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
      size += Math.min(chunk.length, room);
      if (size >= maxBytes) {
        finish();
        response.destroy();
      }
    });
    response.on('end', finish);
    response.on('error', (error) => {
      if (!done) reject(error);
      done = true;
    });
    response.on('close', () => {
      if (!done) reject(Object.assign(new Error('response closed early'), { code: 'ECONNRESET' }));
      done = true;
    });
  });
}

interface Hop {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export function createHttpTransport(options: HttpTransportOptions): HttpTransport {
  const {
    guard,
    timeoutMs,
    maxRedirects = 3,
    userAgent = 'burnrate-notifier',
    maxResponseBytes = 4096,
  } = options;
  if (!(timeoutMs > 0)) {
    throw new RangeError(`timeoutMs must be a positive number of milliseconds, got ${timeoutMs}`);
  }
  if (!Number.isInteger(maxRedirects) || maxRedirects < 0) {
    throw new RangeError(`maxRedirects must be a whole number ≥ 0, got ${maxRedirects}`);
  }
  // Sockets are pooled per host name and port, and the guard is fixed for the transport's lifetime, so a
  // kept-alive connection only ever serves the name whose checked address it was opened to.
  const agents = {
    'http:': new http.Agent({ keepAlive: true }),
    'https:': new https.Agent({ keepAlive: true }),
  };

  function send(url: URL, headers: Record<string, string>, body: string, budgetMs: number): Promise<Hop> {
    const target = display(url);
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    // Node connects to an IP literal without calling `lookup`, so literals are judged here, before any socket.
    if (net.isIP(host) !== 0) guard.check(host, target);
    const timeout = () =>
      new BurnrateError(
        'delivery_timeout',
        `${target} did not answer within ${timeoutMs} ms (timeoutMs); the delivery can be retried.`,
        { retriable: true },
      );
    if (budgetMs <= 0) return Promise.reject(timeout());
    return new Promise((resolve, reject) => {
      let settled = false;
      let request: http.ClientRequest | undefined;
      let response: IncomingMessage | undefined;
      const settle = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        outcome();
      };
      const fail = (error: unknown) =>
        settle(() => {
          response?.destroy();
          request?.destroy();
          reject(classify(error, target));
        });
      const timer = setTimeout(() => fail(timeout()), budgetMs);
      try {
        request = (url.protocol === 'https:' ? https : http).request({
          protocol: url.protocol,
          hostname: host,
          port: url.port || undefined,
          path: `${url.pathname}${url.search}`,
          method: 'POST',
          headers,
          agent: agents[url.protocol as 'http:' | 'https:'],
          lookup: guard.lookupFor(target),
        });
      } catch (error) {
        fail(error);
        return;
      }
      request.on('error', fail);
      request.on('response', (res) => {
        response = res;
        const status = res.statusCode ?? 0;
        if (REDIRECTS.has(status) && res.headers.location) {
          // A redirect's own body is of no interest; drop the connection rather than drain it.
          res.on('error', () => {});
          settle(() => resolve({ status, headers: res.headers, body: '' }));
          res.destroy();
          return;
        }
        readBody(res, maxResponseBytes).then(
          (text) => settle(() => resolve({ status, headers: res.headers, body: text })),
          fail,
        );
      });
      request.end(body);
    });
  }

  async function post(raw: string, request: HttpRequest): Promise<HttpResult> {
    const started = performance.now();
    const origin = parseDestination(raw);
    let url = origin;
    let redirects = 0;
    for (;;) {
      const headers = headersFor(request, url.origin === origin.origin, userAgent);
      const hop = await send(url, headers, request.body, started + timeoutMs - performance.now());
      const location = REDIRECTS.has(hop.status) ? hop.headers.location : undefined;
      if (location === undefined) {
        return {
          status: hop.status,
          headers: hop.headers,
          body: hop.body,
          durationMs: Math.round(performance.now() - started),
          retryAfterMs: parseRetryAfter(hop.headers['retry-after']),
          finalUrl: url.href,
          redirects,
        };
      }
      if (redirects >= maxRedirects) {
        throw new BurnrateError(
          'too_many_redirects',
          `${display(origin)} redirected more than ${maxRedirects} times (maxRedirects); configure the final URL as the destination.`,
        );
      }
      const next = parseDestination(location, url);
      // Re-POSTing an alert over plain http would expose its body and headers in transit.
      if (url.protocol === 'https:' && next.protocol === 'http:') {
        throw invalid(
          `Refused to follow the redirect from ${display(url)} to ${display(next)}: it would send the alert unencrypted.`,
        );
      }
      // Every method is kept as POST (even for 301-303): turning an alert into a GET would silently drop it.
      url = next;
      redirects++;
    }
  }

  return {
    post,
    close() {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  };
}
