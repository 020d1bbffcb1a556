import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhook } from '@burnrate/core';

/** What the receiver saw: every request is verified; `delivered` holds ids answered 2xx. */
export interface ReceiverCounts {
  requests: number;
  /** Requests whose Standard Webhooks signature did not verify (must stay 0). */
  unverified: number;
  /** Requests answered 500 because the receiver was failing. */
  failed: number;
  /** Distinct webhook-ids answered 204. */
  delivered: number;
  /** Requests for an id already delivered (retries are allowed: at least once, same id). */
  repeats: number;
}

export interface ChaosReceiver {
  url: string;
  /** While failing, every request is answered 500 (after its signature is checked). */
  setFailing(failing: boolean): void;
  counts(): ReceiverCounts;
  deliveredIds(): Set<string>;
  close(): Promise<void>;
}

/** A real HTTP webhook receiver on 127.0.0.1:`port` that verifies every signature, as a customer's would. */
export async function startChaosReceiver(port: number, secrets: string[]): Promise<ChaosReceiver> {
  let failing = false;
  const delivered = new Set<string>();
  const counts = { requests: 0, unverified: 0, failed: 0, repeats: 0 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      counts.requests++;
      let id: string;
      try {
        id = verifyWebhook({ headers: req.headers, body: Buffer.concat(chunks), secrets }).id;
      } catch {
        counts.unverified++;
        res.writeHead(401).end();
        return;
      }
      if (failing) {
        counts.failed++;
        res.writeHead(500).end('failing on purpose');
        return;
      }
      if (delivered.has(id)) counts.repeats++;
      delivered.add(id);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}/alerts`,
    setFailing: (f) => {
      failing = f;
    },
    counts: () => ({ ...counts, delivered: delivered.size }),
    deliveredIds: () => new Set(delivered),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
