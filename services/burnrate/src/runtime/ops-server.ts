import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BurnrateError } from '@burnrate/core';
import type { Logger } from 'pino';
import type { Health } from './health.js';
import { httpUrl } from './http-url.js';
import type { Component } from './lifecycle.js';
import type { Metrics } from './metrics.js';

export interface OpsServerConfig {
  host: string;
  /** 0 = any free port (see url()). */
  port: number;
}

export interface OpsServerDeps {
  health: Health;
  metrics: Metrics;
  logger: Logger;
  clock?: () => number;
}

/** The bodies of /healthz and /readyz, shared with the api role's own /healthz and /readyz. */
export function healthAnswer(
  health: Health,
  path: '/healthz' | '/readyz',
  nowMs: number,
): { status: number; body: unknown } {
  if (path === '/healthz') {
    const live = health.liveness();
    return { status: live.ok ? 200 : 503, body: { status: live.ok ? 'ok' : 'failed', ...live } };
  }
  const ready = health.readiness(nowMs);
  return { status: ready.ok ? 200 : 503, body: { status: ready.ok ? 'ready' : 'not_ready', ...ready } };
}

/**
 * One small HTTP server per process for operators: GET /metrics (Prometheus text format, this
 * process's registry), /healthz (liveness) and /readyz (readiness, every check with its reason).
 * Started first and stopped last, so it answers during start-up and shutdown too.
 */
export function createOpsServer(config: OpsServerConfig, deps: OpsServerDeps): Component & { url(): string } {
  const clock = deps.clock ?? Date.now;
  let server: Server | undefined;
  let address = '';

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'GET only\n');
    if (path === '/metrics') {
      const text = await deps.metrics.registry.metrics();
      return send(res, 200, deps.metrics.registry.contentType, text);
    }
    if (path === '/healthz' || path === '/readyz') {
      const { status, body } = healthAnswer(deps.health, path, clock());
      return send(res, status, 'application/json', `${JSON.stringify(body)}\n`);
    }
    send(res, 404, 'text/plain', 'GET /metrics, /healthz or /readyz\n');
  }

  return {
    name: 'ops-server',
    url: () => address,
    async start() {
      const http = createServer((req, res) => {
        handle(req, res).catch((error) => {
          deps.logger.error({ err: error }, 'ops request failed');
          if (!res.headersSent) send(res, 500, 'text/plain', 'failed; see the log\n');
          else res.destroy();
        });
      });
      await new Promise<void>((resolve, reject) => {
        http.once('error', (error) =>
          reject(
            new BurnrateError(
              'metrics_listen_failed',
              `The metrics server cannot listen on ${config.host}:${config.port}: ${error.message} (METRICS_HOST, METRICS_PORT).`,
              { field: 'METRICS_PORT', cause: error },
            ),
          ),
        );
        http.listen(config.port, config.host, resolve);
      });
      server = http;
      const { port } = http.address() as AddressInfo;
      address = httpUrl(config.host, port);
      deps.logger.info({ url: address }, 'metrics and health listening');
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

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
