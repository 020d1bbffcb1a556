import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One value of a Prometheus text exposition: the sum of the samples of `name` whose labels include `labels`. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  let found: number | undefined;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries(
      [...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) found = (found ?? 0) + Number(m[3]);
  }
  return found;
}

/** The JSON of /healthz and /readyz. */
export interface HealthBody {
  status: string;
  ok: boolean;
  reason: string;
  since: string;
  checks: Array<{ name: string; ok: boolean; reason: string; since: string }>;
}

export async function get(url: string): Promise<{ status: number; text: string; json: () => HealthBody }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  return { status: res.status, text, json: () => JSON.parse(text) as HealthBody };
}

/**
 * A real HTTP hop in front of a ClickHouse HTTP interface that a test can switch: `pass` forwards
 * everything; `hold` keeps INSERTs waiting (everything else passes, so ClickHouse still answers
 * SELECT 1) until switched back; `refuse` answers INSERTs as ClickHouse does for a missing table;
 * `down` drops every connection, as a ClickHouse that is gone.
 */
export async function clickHouseGate(target: string) {
  let mode: 'pass' | 'hold' | 'refuse' | 'down' = 'pass';
  const held: Array<() => void> = [];
  const upstream = new URL(target);
  const server: Server = createServer((req, res) => {
    if (mode === 'down') return void req.socket.destroy();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const query = decodeURIComponent(new URL(req.url ?? '/', 'http://x').searchParams.get('query') ?? '');
      const insert = /^\s*INSERT/i.test(query) || /^\s*INSERT/i.test(body.subarray(0, 64).toString());
      const forward = () => {
        const out = request(
          {
            host: upstream.hostname,
            port: upstream.port,
            path: req.url,
            method: req.method,
            headers: { ...req.headers, host: upstream.host },
          },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        out.on('error', () => res.destroy());
        out.end(body);
      };
      if (insert && mode === 'refuse') {
        const text = "Code: 60. DB::Exception: Table burnrate.usage_events doesn't exist. (UNKNOWN_TABLE)";
        res.writeHead(404, { 'X-ClickHouse-Exception-Code': '60', 'Content-Type': 'text/plain' });
        res.end(text);
      } else if (insert && mode === 'hold') held.push(forward);
      else forward();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    held: () => held.length,
    set(next: typeof mode) {
      mode = next;
      if (next !== 'hold') for (const f of held.splice(0)) f();
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
