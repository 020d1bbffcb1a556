import http, { type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhook } from '@burnrate/core';

/** One request as a receiver got it. */
export interface Received {
  /** Epoch ms when the whole body had arrived. */
  atMs: number;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  json: unknown;
  /** verifyWebhook's verdict with the receiver's secrets; undefined for a receiver without secrets. */
  verified: { id: string; timestampSeconds: number } | { error: string } | undefined;
}

/** How the receiver answers one request: a status (and headers), or 'hold' to leave it open. */
export type Reply = { status: number; headers?: Record<string, string> } | 'hold';

export interface Receiver {
  /** `http://127.0.0.1:<port>/hook`. */
  url: string;
  requests: Received[];
  /** TCP connections accepted, whether or not a request followed. */
  connections(): number;
  /** Decides the answer to each request (index = its position in `requests`); 200 by default. */
  reply: (request: Received, index: number) => Reply;
  close(): Promise<void>;
}

/**
 * A real HTTP receiver on 127.0.0.1 (port 0) that records every request and, given secrets, checks
 * its Standard Webhooks signature exactly as a customer's receiver would (verifyWebhook).
 */
export async function startReceiver(
  o: { secrets?: string[]; reply?: Receiver['reply'] } = {},
): Promise<Receiver> {
  let connections = 0;
  const held: ServerResponse[] = [];
  const receiver: Receiver = {
    url: '',
    requests: [],
    connections: () => connections,
    reply: o.reply ?? (() => ({ status: 200 })),
    close: () =>
      new Promise<void>((resolve) => {
        for (const response of held) response.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server = http.createServer((raw, response) => {
    const chunks: Buffer[] = [];
    raw.on('data', (chunk: Buffer) => chunks.push(chunk));
    raw.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const received: Received = {
        atMs: Date.now(),
        path: raw.url ?? '',
        headers: raw.headers,
        body,
        json: parseJson(body),
        verified: o.secrets ? verify(raw.headers, body, o.secrets) : undefined,
      };
      const index = receiver.requests.push(received) - 1;
      const reply = receiver.reply(received, index);
      if (reply === 'hold') {
        held.push(response);
        return;
      }
      response.writeHead(reply.status, { 'content-type': 'text/plain', ...reply.headers });
      response.end(`answered ${reply.status}`);
    });
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return receiver;
}

function verify(headers: IncomingHttpHeaders, body: string, secrets: string[]): Received['verified'] {
  try {
    return verifyWebhook({ headers, body, secrets });
  } catch (error) {
    return { error: (error as Error).message };
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The signatures (`v1,…`) in a request's webhook-signature header. */
export function signaturesOf(r: Received): string[] {
  return String(r.headers['webhook-signature'] ?? '')
    .split(' ')
    .filter(Boolean);
}
