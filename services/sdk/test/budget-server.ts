import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BudgetAnswer } from '../src/index.js';

/** One request the fake budget API received. */
export interface SeenRequest {
  path: string;
  query: Record<string, string>;
  authorization: string | undefined;
}

export type Handler = (
  request: SeenRequest,
  res: ServerResponse,
  req: IncomingMessage,
) => void | Promise<void>;

/** A real HTTP server on 127.0.0.1:<free port> standing in for the api role's GET /v1/budget. */
export interface FakeBudgetApi {
  url: string;
  requests: SeenRequest[];
  /** Replaces how the server answers. */
  handle(handler: Handler): void;
  close(): Promise<void>;
}

export async function startFakeBudgetApi(): Promise<FakeBudgetApi> {
  let handler: Handler = (_, res) => sendJson(res, 200, answer());
  const requests: SeenRequest[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const seen: SeenRequest = {
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      authorization: req.headers.authorization,
    };
    requests.push(seen);
    Promise.resolve(handler(seen, res, req)).catch((error: unknown) => {
      res.statusCode = 500;
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    handle(next) {
      handler = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

export function usd(nanos: bigint) {
  const text = nanos.toString().padStart(10, '0');
  return { nanos: nanos.toString(), usd: `${text.slice(0, -9)}.${text.slice(-9)}` };
}

/** A BudgetAnswer with plausible defaults; `run` is filled in when given. */
export function answer(
  overrides: Partial<BudgetAnswer> = {},
  run?: { runId: string; costNanos: bigint; steps: number },
): BudgetAnswer {
  return {
    customer_ref: 'acme',
    customer_id: 'cus_acme',
    period: { start: '2026-12-01', end: '2027-01-01' },
    spend: usd(100_000_000n),
    budget: usd(1_000_000_000n),
    remaining: usd(900_000_000n),
    projected: null,
    run: run
      ? {
          run_id: run.runId,
          workflow: 'research',
          cost: usd(run.costNanos),
          steps: run.steps,
          retries: 0,
          depth: 0,
        }
      : null,
    forecast: null,
    decision: 'allow',
    reasons: [],
    suggestion: null,
    as_of: new Date().toISOString(),
    ...overrides,
  };
}
