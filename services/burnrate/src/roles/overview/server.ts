import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { BurnrateError, type RoutingPolicy } from '@burnrate/core';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Logger } from 'pino';
import { httpUrl } from '../../runtime/http-url.js';
import type { Component } from '../../runtime/lifecycle.js';
import { HttpError, sendError, sendJson } from '../api/http.js';
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
  database: string;
  routing: RoutingPolicy;
}

export interface OverviewDeps {
  clickhouse: ClickHouseClient;
  logger: Logger;
  clock?: () => number;
  /** The process's readiness, for the health panel (see docs/dashboards.md); absent = not wired. */
  readiness?: PanelDeps['readiness'];
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

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://overview');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      throw new HttpError(405, 'method_not_allowed', 'The overview is read-only: only GET is answered.');
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
