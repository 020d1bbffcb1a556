// A webhook receiver that verifies burnrate's Standard Webhooks signature and prints each alert as it
// arrives — what `npm start` shows, and a starting point for your own receiver.
//   BURNRATE_WEBHOOK_SECRET=whsec_… node --conditions=@burnrate/source --import tsx scripts/alert-receiver.ts [port]
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AlertPayload, verifyWebhook, WebhookVerificationError } from '@burnrate/sdk';

const COLOR = {
  info: '\x1b[36m',
  warning: '\x1b[33m',
  critical: '\x1b[31;1m',
  resolved: '\x1b[32m',
} as const;

export interface AlertReceiver {
  url: string;
  /** Alerts received (repeats of one webhook-id counted once). */
  count(): number;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1:`port` (0 = any free port); answers 204 to a verified alert, 401 otherwise. */
export async function startAlertReceiver(o: {
  port: number;
  secrets: string[];
  print: (line: string) => void;
  color?: boolean;
}): Promise<AlertReceiver> {
  const seen = new Set<string>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      try {
        const { id } = verifyWebhook({ headers: req.headers, body, secrets: o.secrets });
        const alert = JSON.parse(body.toString('utf8')) as AlertPayload;
        // Standard Webhooks receivers deduplicate on webhook-id: a retried delivery is the same message.
        if (!seen.has(id)) {
          seen.add(id);
          o.print(format(alert, o.color ?? false));
        }
        res.writeHead(204).end();
      } catch (error) {
        const refused = error instanceof WebhookVerificationError;
        o.print(`refused a request: ${(error as Error).message}`);
        res.writeHead(refused ? 401 : 400).end();
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/alerts`,
    count: () => seen.size,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

function format(a: AlertPayload, color: boolean): string {
  const resolved = a.type === 'alert.resolved';
  const level = resolved ? 'RESOLVED' : a.severity.toUpperCase();
  const tint = color ? COLOR[resolved ? 'resolved' : a.severity] : '';
  const reset = color ? '\x1b[0m' : '';
  const time = a.at.slice(11, 19);
  return `${time} ${tint}${level.padEnd(8)}${reset} ${`${a.rule} ${a.threshold}`.padEnd(22)} ${a.summary}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const secret = process.env.BURNRATE_WEBHOOK_SECRET;
  if (!secret) {
    console.error('Set BURNRATE_WEBHOOK_SECRET to the destination secret (whsec_…).');
    process.exit(2);
  }
  const receiver = await startAlertReceiver({
    port: Number(process.argv[2] ?? 8790),
    secrets: [secret],
    print: (line) => console.log(line),
    color: process.stdout.isTTY,
  });
  console.log(`Listening for burnrate alerts at ${receiver.url}`);
}
