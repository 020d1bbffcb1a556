import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { type AddressInfo, isIP } from 'node:net';
import { BurnrateError, ConfigError, type RoutingPolicy } from '@burnrate/core';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Logger } from 'pino';
import { httpUrl } from '../../runtime/http-url.js';
import type { Component } from '../../runtime/lifecycle.js';
import { HttpError, sendError, sendJson } from '../api/http.js';
import { isLoopback } from '../clickhouse-role.js';
import { PAGE_HTML } from './page-html.js';
import { PAGE_SCRIPT } from './page-script.js';
import {
  alertsPanel,
  healthPanel,
  marginsPanel,
  type PanelDeps,
  routingPanel,
  runsPanel,
  spendPanel,
} from './panels.js';
import { parseBy, parseScope } from './params.js';

export interface OverviewConfig {
  host: string;
  port: number;
  /** OVERVIEW_TOKEN: required beyond loopback; then every request must carry it. Empty = none. */
  token?: string;
  /** OVERVIEW_ALLOWED_HOSTS: host names (beyond localhost, IP literals and `host`) the Host header may name. */
  allowedHosts?: readonly string[];
  database: string;
  routing: RoutingPolicy;
}

export interface OverviewDeps {
  clickhouse: ClickHouseClient;
  logger: Logger;
  clock?: () => number;
  /** The process's readiness, for the health panel (see docs/dashboards.md); absent = not wired. */
  readiness?: PanelDeps['readiness'];
  /** Settings sent with every query (PanelDeps.settings). */
  settings?: PanelDeps['settings'];
}

/** The charting library, served from node_modules: the page loads nothing from the network. */
function readEcharts(): Buffer {
  try {
    return readFileSync(createRequire(import.meta.url).resolve('echarts/dist/echarts.min.js'));
  } catch (error) {
    throw new BurnrateError(
      'overview_assets_missing',
      'The overview cannot find echarts/dist/echarts.min.js in node_modules: reinstall the dependencies (npm ci).',
      { cause: error },
    );
  }
}

/**
 * The overview shows every customer's revenue and margin. Listening beyond loopback without
 * OVERVIEW_TOKEN would hand them to anyone on the network: refuse to start instead.
 */
export function assertOverviewExposure(config: Pick<OverviewConfig, 'host' | 'token'>): void {
  if (isLoopback(config.host)) return;
  const token = config.token ?? '';
  if (token === '') {
    throw new ConfigError(
      'OVERVIEW_TOKEN',
      `The overview refuses to listen on ${config.host}, beyond loopback, without an access token: set OVERVIEW_TOKEN (a long random secret the page then asks for, e.g. openssl rand -hex 32), or keep OVERVIEW_HOST=127.0.0.1.`,
    );
  }
  if (token === OVERVIEW_TOKEN_PLACEHOLDER || token.length < OVERVIEW_TOKEN_MIN_LENGTH) {
    throw new ConfigError(
      'OVERVIEW_TOKEN',
      `The overview refuses to listen on ${config.host}, beyond loopback, with ${token === OVERVIEW_TOKEN_PLACEHOLDER ? 'the public placeholder OVERVIEW_TOKEN' : `an OVERVIEW_TOKEN shorter than ${OVERVIEW_TOKEN_MIN_LENGTH} characters`}: set it to a long random secret (openssl rand -hex 32), or keep OVERVIEW_HOST=127.0.0.1.`,
    );
  }
}

/** The placeholder docker-compose falls back to: public, so refused beyond loopback. */
export const OVERVIEW_TOKEN_PLACEHOLDER = 'replace-me-with-a-long-random-secret';
/** The shortest OVERVIEW_TOKEN accepted beyond loopback. */
export const OVERVIEW_TOKEN_MIN_LENGTH = 32;

/** The name in a Host header, without port or IPv6 brackets, lower-cased. */
function hostName(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') > 0 ? h.indexOf(']') : undefined);
  const colon = h.lastIndexOf(':');
  return colon >= 0 && h.indexOf(':') === colon ? h.slice(0, colon) : h;
}

/**
 * Whether a Host header may reach the overview. A DNS-rebinding page reaches a loopback listener
 * under the attacker's host name; IP literals, localhost, the listening host and
 * OVERVIEW_ALLOWED_HOSTS are the names a person actually types.
 */
export function hostAllowed(
  header: string | undefined,
  config: Pick<OverviewConfig, 'host' | 'allowedHosts'>,
): boolean {
  if (!header) return false;
  const name = hostName(header);
  if (name === '') return false;
  if (isIP(name) !== 0 || name === 'localhost' || name.endsWith('.localhost')) return true;
  const allowed = [config.host, ...(config.allowedHosts ?? [])].map((h) => h.trim().toLowerCase());
  return allowed.includes(name);
}

const TOKEN_COOKIE = 'burnrate_overview';
const sha = (s: string) => createHash('sha256').update(s).digest();
/** Constant-time comparison (digests of equal length whatever the input). */
const sameSecret = (given: string, token: string) => timingSafeEqual(sha(given), sha(token));

/** The token a request carries: `Authorization: Bearer`, Basic (the password), or the cookie. */
function presentedToken(req: IncomingMessage): string[] {
  const found: string[] = [];
  const auth = req.headers.authorization ?? '';
  const [scheme, value = ''] = auth.split(' ', 2);
  if (scheme?.toLowerCase() === 'bearer') found.push(value.trim());
  if (scheme?.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value.trim(), 'base64').toString('utf8');
    found.push(decoded.slice(decoded.indexOf(':') + 1));
  }
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k !== TOKEN_COOKIE) continue;
    try {
      found.push(decodeURIComponent(v.join('=')));
    } catch {
      // A malformed cookie (`%E0`) is no token: the request is answered 401, not 500.
    }
  }
  return found;
}

const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * The `overview` role: a read-only page for people without Grafana — spend over time, margins and
 * whales, the most expensive runs, model routing, recent alerts and pipeline health — drawn with
 * Apache ECharts from JSON panels backed by parameterized ClickHouse queries. GET only.
 */
export function createOverview(config: OverviewConfig, deps: OverviewDeps): Component & { url(): string } {
  const log = deps.logger.child({ role: 'overview' });
  const clock = deps.clock ?? Date.now;
  const panelDeps: PanelDeps = {
    clickhouse: deps.clickhouse,
    database: config.database,
    routing: config.routing,
    readiness: deps.readiness,
    clock,
    ...(deps.settings ? { settings: deps.settings } : {}),
  };
  let echarts: Buffer | undefined;
  let server: Server | undefined;
  let address = '';

  const panels: Record<string, (params: URLSearchParams) => Promise<unknown>> = {
    spend: (p) => spendPanel(panelDeps, parseScope(p, clock()), parseBy(p)),
    margins: (p) => marginsPanel(panelDeps, parseScope(p, clock())),
    runs: (p) => runsPanel(panelDeps, parseScope(p, clock())),
    routing: (p) => routingPanel(panelDeps, parseScope(p, clock())),
    alerts: (p) => alertsPanel(panelDeps, parseScope(p, clock())),
    health: async (p) => {
      parseScope(p, clock()); // the same parameters are accepted (and checked) everywhere
      return healthPanel(panelDeps);
    },
  };

  const token = config.token ?? '';

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://overview');
    if (!hostAllowed(req.headers.host, config)) {
      throw new HttpError(
        421,
        'host_not_allowed',
        "This host name is not the overview's: add it to OVERVIEW_ALLOWED_HOSTS, or use an IP address or localhost.",
      );
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      throw new HttpError(405, 'method_not_allowed', 'The overview is read-only: only GET is answered.');
    }
    if (token !== '') {
      const fromQuery = url.searchParams.get('token');
      if (fromQuery !== null && sameSecret(fromQuery, token)) {
        // Once: the token moves into an HttpOnly cookie and out of the address bar and history.
        url.searchParams.delete('token');
        res.writeHead(303, {
          Location: `${url.pathname}${url.search}`,
          'Set-Cookie': `${TOKEN_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`,
          'Cache-Control': 'no-store',
          ...SECURITY_HEADERS,
        });
        res.end();
        return;
      }
      if (!presentedToken(req).some((t) => sameSecret(t, token))) {
        res.writeHead(401, {
          'WWW-Authenticate': 'Basic realm="burnrate overview", charset="UTF-8"',
          'Content-Type': 'text/plain; charset=utf-8',
          'Cache-Control': 'no-store',
          ...SECURITY_HEADERS,
        });
        res.end(
          'The overview needs OVERVIEW_TOKEN: open it with ?token=<token>, or sign in with the token as password.\n',
        );
        return;
      }
    }
    if (url.pathname === '/')
      return sendText(res, 'text/html', PAGE_HTML, { 'Content-Security-Policy': CSP });
    if (url.pathname === '/overview.js') return sendText(res, 'text/javascript', PAGE_SCRIPT);
    if (url.pathname === '/assets/echarts.min.js') {
      return sendText(res, 'text/javascript', echarts!, { 'Cache-Control': 'public, max-age=86400' });
    }
    const panel = /^\/api\/([a-z]+)$/.exec(url.pathname)?.[1];
    const answer = panel !== undefined && Object.hasOwn(panels, panel) ? panels[panel] : undefined;
    if (!answer) throw new HttpError(404, 'not_found', `There is no ${url.pathname} here.`);
    return sendJson(res, 200, await answer(url.searchParams), SECURITY_HEADERS);
  }

  return {
    name: 'overview',
    url: () => address,
    async start() {
      assertOverviewExposure(config);
      echarts = readEcharts();
      const http = createServer((req, res) => {
        handle(req, res).catch((error: unknown) => {
          if (!(error instanceof HttpError))
            log.error({ err: error, url: req.url }, 'overview request failed');
          const answer =
            error instanceof HttpError
              ? error
              : new HttpError(500, 'internal', 'The overview failed to answer; it is logged.');
          if (res.headersSent) res.destroy();
          else sendError(res, answer);
        });
      });
      await new Promise<void>((resolve, reject) => {
        http.once('error', (error) =>
          reject(
            new BurnrateError(
              'overview_listen_failed',
              `The overview cannot listen on ${config.host}:${config.port}: ${error.message} (OVERVIEW_HOST, OVERVIEW_PORT).`,
              { field: 'OVERVIEW_PORT', cause: error },
            ),
          ),
        );
        http.listen(config.port, config.host, resolve);
      });
      server = http;
      const { port } = http.address() as AddressInfo;
      address = httpUrl(config.host, port);
      log.info({ url: address }, 'overview listening');
    },
    async stop() {
      const http = server;
      server = undefined;
      if (!http) return;
      const closed = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeAllConnections();
      await closed;
    },
  };
}

function sendText(
  res: ServerResponse,
  type: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
): void {
  res.writeHead(200, {
    'Content-Type': `${type}; charset=utf-8`,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    ...SECURITY_HEADERS,
    ...headers,
  });
  res.end(body);
}
