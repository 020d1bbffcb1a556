import net from 'node:net';
import { BurnrateError } from '@burnrate/core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createAddressGuard, type Resolver } from '../../src/delivery/address-guard.js';
import {
  createHttpTransport,
  type HttpTransport,
  parseRetryAfter,
} from '../../src/delivery/http-transport.js';
import { closedPort, startServer, type TestServer } from './servers.js';

const ALERT = {
  headers: {
    'content-type': 'application/json',
    'x-alert-id': 'alert-42',
    authorization: 'Bearer secret-token',
    cookie: 'session=abc',
  },
  body: JSON.stringify({ text: 'Customer acme is over budget: $120.50 of $100.00 ✓' }),
};

/** Simulated DNS: only 127/8 answers ever reach a socket; the rest must be refused first. */
const resolve: Resolver = async (hostname) => {
  const answers: Record<string, string[]> = {
    'hooks.test': ['127.0.0.1'],
    'internal.example': ['10.1.2.3'],
    'dual.example': ['127.0.0.1', '10.0.0.1'],
  };
  const found = answers[hostname];
  if (!found) {
    throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname });
  }
  return found.map((address) => ({ address, family: net.isIP(address) }));
};

const transports: HttpTransport[] = [];
function transport(
  allowNetworks: string[] = ['127.0.0.1/32'],
  extra: { timeoutMs?: number; maxRedirects?: number; maxResponseBytes?: number } = {},
) {
  const created = createHttpTransport({
    guard: createAddressGuard({ allowNetworks, resolve }),
    timeoutMs: 5_000,
    ...extra,
  });
  transports.push(created);
  return created;
}

async function failure(promise: Promise<unknown>): Promise<BurnrateError> {
  const error = await promise.then(
    () => {
      throw new Error('expected the delivery to fail');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(BurnrateError);
  return error as BurnrateError;
}

const servers: TestServer[] = [];
async function server(...args: Parameters<typeof startServer>): Promise<TestServer> {
  const started = await startServer(...args);
  servers.push(started);
  return started;
}

let ok: TestServer;
beforeAll(async () => {
  ok = await server((_, res) => {
    res.setHeader('x-reply', 'yes');
    res.end('ok');
  });
});
afterEach(() => {
  vi.restoreAllMocks();
  ok.requests.length = 0;
});
afterAll(async () => {
  for (const t of transports) t.close();
  await Promise.all(servers.map((s) => s.close()));
});

describe('delivery to an allowed address', () => {
  it('POSTs the body and headers to 127.0.0.1 when NOTIFIER_ALLOWED_NETWORKS lists it', async () => {
    const result = await transport().post(`${ok.base}/hook?x=1`, ALERT);
    expect(result).toMatchObject({ status: 200, body: 'ok', redirects: 0, retryAfterMs: undefined });
    expect(result.finalUrl).toBe(`${ok.base}/hook?x=1`);
    expect(result.headers['x-reply']).toBe('yes');
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    const [seen] = ok.requests;
    expect(seen).toMatchObject({ method: 'POST', url: '/hook?x=1', body: ALERT.body });
    expect(seen?.headers).toMatchObject({
      'content-type': 'application/json',
      'x-alert-id': 'alert-42',
      authorization: 'Bearer secret-token',
      'user-agent': 'burnrate-notifier',
      'content-length': String(Buffer.byteLength(ALERT.body)),
    });
  });

  it('connects a host name to the address the guard checked', async () => {
    const result = await transport().post(`http://hooks.test:${ok.port}/named`, ALERT);
    expect(result.status).toBe(200);
    expect(ok.requests[0]?.headers.host).toBe(`hooks.test:${ok.port}`);
  });

  it('returns non-2xx statuses with Retry-After in milliseconds instead of throwing', async () => {
    const busy = await server((seen, res) => {
      const date = new Date(Date.now() + 120_000).toUTCString();
      res.writeHead(seen.url === '/date' ? 503 : 429, { 'retry-after': seen.url === '/date' ? date : '7' });
      res.end('slow down');
    });
    const seconds = await transport().post(`${busy.base}/seconds`, ALERT);
    expect(seconds).toMatchObject({ status: 429, retryAfterMs: 7_000, body: 'slow down' });
    const date = await transport().post(`${busy.base}/date`, ALERT);
    expect(date.status).toBe(503);
    expect(date.retryAfterMs).toBeGreaterThan(115_000);
    expect(date.retryAfterMs).toBeLessThanOrEqual(120_000);
  });

  it('keeps only maxResponseBytes of the body and stops reading an endless one', async () => {
    const big = await server((seen, res) => {
      if (seen.url === '/big') return res.end('x'.repeat(10_000));
      const timer = setInterval(() => res.write('y'.repeat(512)), 5);
      res.on('close', () => clearInterval(timer));
    });
    expect((await transport().post(`${big.base}/big`, ALERT)).body).toHaveLength(4096);
    expect((await transport(undefined, { maxResponseBytes: 100 }).post(`${big.base}/big`, ALERT)).body).toBe(
      'x'.repeat(100),
    );
    const endless = await transport(undefined, { timeoutMs: 3_000 }).post(`${big.base}/endless`, ALERT);
    expect(endless.body).toBe('y'.repeat(4096));
  });
});

describe('refusals happen before any connection', () => {
  it('refuses 127.0.0.1 without the allow-list, and the server never sees a connection', async () => {
    const alone = await server((_, res) => res.end('should not happen'));
    const error = await failure(transport([]).post(`${alone.base}/`, ALERT));
    expect(error.code).toBe('destination_refused');
    expect(error.retriable).toBe(false);
    expect(error.message).toBe(
      `Refused to deliver to http://127.0.0.1:${alone.port}/: it resolves to 127.0.0.1, a loopback address; only public addresses are allowed unless NOTIFIER_ALLOWED_NETWORKS lists it.`,
    );
    const byName = await failure(transport([]).post(`http://hooks.test:${alone.port}/`, ALERT));
    expect(byName.message).toContain(`http://hooks.test:${alone.port}/: it resolves to 127.0.0.1`);
    expect(alone.connections()).toBe(0);
  });

  it.each([
    ['http://10.0.0.1/', '10.0.0.1'],
    ['http://10.255.1.2:8080/x', '10.255.1.2'],
    ['http://169.254.169.254/latest/meta-data/', '169.254.169.254'],
    ['http://[::1]/', '::1'],
    ['http://[::ffff:127.0.0.1]/', '127.0.0.1'],
    ['http://0.0.0.0/', '0.0.0.0'],
    ['http://100.64.0.1/', '100.64.0.1'],
    ['https://[fc00::1]/', 'fc00::1'],
    ['http://[fe80::1]/', 'fe80::1'],
    ['http://2130706433/', '127.0.0.1'], // URL parsing normalizes numeric hosts before the guard sees them
  ])('refuses the literal %s without opening a socket', async (url, address) => {
    // Stubbed, not spied: even if the guard regressed, no packet could leave for these addresses.
    const connect = vi.spyOn(net.Socket.prototype, 'connect').mockImplementation(() => {
      throw new Error('the test tried to open a socket');
    });
    const error = await failure(transport([]).post(url, ALERT));
    expect(error.code).toBe('destination_refused');
    expect(error.message).toContain(address);
    expect(connect).not.toHaveBeenCalled();
  });

  it('refuses a host name that resolves to 10.1.2.3, naming the address', async () => {
    const error = await failure(transport().post('http://internal.example/hook', ALERT));
    expect(error.code).toBe('destination_refused');
    expect(error.message).toContain(
      'http://internal.example:80/: it resolves to 10.1.2.3, a private address',
    );
  });

  it('refuses a name with one allowed and one private address, without connecting to either', async () => {
    const watched = await server((_, res) => res.end('should not happen'));
    const error = await failure(transport().post(`http://dual.example:${watched.port}/`, ALERT));
    expect(error.code).toBe('destination_refused');
    expect(error.message).toContain('10.0.0.1');
    expect(watched.connections()).toBe(0);
  });

  it.each([
    ['file:///etc/passwd', 'file:'],
    ['ftp://127.0.0.1/alerts', 'ftp:'],
    ['not a url', 'not a valid URL'],
  ])('refuses the destination %s', async (url, why) => {
    const error = await failure(transport().post(url, ALERT));
    expect(error.code).toBe('invalid_destination');
    expect(error.message).toContain(why);
  });

  it('refuses a URL carrying credentials without sending anything, and does not echo them', async () => {
    const error = await failure(transport().post(`http://user:hunter2@127.0.0.1:${ok.port}/`, ALERT));
    expect(error.code).toBe('invalid_destination');
    expect(error.message).not.toContain('hunter2');
    expect(ok.requests).toHaveLength(0);
  });
});

describe('redirects', () => {
  it('re-POSTs the same body and headers along same-origin redirects (301/303/307 alike)', async () => {
    const hops = await server((seen, res) => {
      const next: Record<string, [number, string]> = {
        '/a': [301, '/b'],
        '/b': [303, '/c'],
        '/c': [307, '/final'],
      };
      const step = next[seen.url ?? ''];
      if (step) res.writeHead(step[0], { location: step[1] }).end('moved');
      else res.end('arrived');
    });
    const result = await transport().post(`${hops.base}/a`, ALERT);
    expect(result).toMatchObject({
      status: 200,
      body: 'arrived',
      redirects: 3,
      finalUrl: `${hops.base}/final`,
    });
    expect(hops.requests.map((r) => [r.method, r.url, r.body])).toEqual(
      ['/a', '/b', '/c', '/final'].map((url) => ['POST', url, ALERT.body]),
    );
    expect(hops.requests.every((r) => r.headers.authorization === 'Bearer secret-token')).toBe(true);
  });

  it('refuses a redirect to 127.0.0.2 (not allow-listed) before connecting to it', async () => {
    const internal = await server((_, res) => res.end('internal secrets'), '127.0.0.2');
    const bouncer = await server((_, res) =>
      res.writeHead(302, { location: `${internal.base}/admin` }).end(),
    );
    const error = await failure(transport().post(`${bouncer.base}/`, ALERT));
    expect(error.code).toBe('destination_refused');
    expect(error.message).toContain(
      `http://127.0.0.2:${internal.port}/: it resolves to 127.0.0.2, a loopback address`,
    );
    expect(bouncer.requests).toHaveLength(1);
    expect(internal.connections()).toBe(0);
  });

  it.each(['http://169.254.169.254/latest/meta-data/', 'http://internal.example/', 'file:///etc/passwd'])(
    'refuses a redirect to %s',
    async (location) => {
      const bouncer = await server((_, res) => res.writeHead(308, { location }).end());
      const error = await failure(transport().post(`${bouncer.base}/`, ALERT));
      expect(['destination_refused', 'invalid_destination']).toContain(error.code);
    },
  );

  it('does not forward Authorization or Cookie to a different origin', async () => {
    const other = await server((_, res) => res.end('other origin'));
    const bouncer = await server((_, res) => res.writeHead(307, { location: `${other.base}/in` }).end());
    const result = await transport().post(`${bouncer.base}/`, ALERT);
    expect(result).toMatchObject({ status: 200, redirects: 1, finalUrl: `${other.base}/in` });
    expect(bouncer.requests[0]?.headers.authorization).toBe('Bearer secret-token');
    const [seen] = other.requests;
    expect(seen?.body).toBe(ALERT.body);
    expect(seen?.headers['x-alert-id']).toBe('alert-42');
    expect(seen?.headers.authorization).toBeUndefined();
    expect(seen?.headers.cookie).toBeUndefined();
  });

  it('gives up on a redirect loop with too_many_redirects', async () => {
    const loop = await server((_, res) => res.writeHead(302, { location: '/again' }).end());
    const error = await failure(transport().post(`${loop.base}/`, ALERT));
    expect(error.code).toBe('too_many_redirects');
    expect(error.retriable).toBe(false);
    expect(error.message).toContain('more than 3 times');
    expect(loop.requests).toHaveLength(4);
    loop.requests.length = 0;
    expect((await failure(transport(undefined, { maxRedirects: 0 }).post(`${loop.base}/`, ALERT))).code).toBe(
      'too_many_redirects',
    );
    expect(loop.requests).toHaveLength(1);
  });
});

describe('failures to deliver', () => {
  it('times out quickly when the server never answers', async () => {
    const silent = await server(() => {});
    const started = Date.now();
    const error = await failure(transport(undefined, { timeoutMs: 200 }).post(`${silent.base}/`, ALERT));
    expect(error.code).toBe('delivery_timeout');
    expect(error.retriable).toBe(true);
    expect(error.message).toBe(
      `http://127.0.0.1:${silent.port}/ did not answer within 200 ms (timeoutMs); the delivery can be retried.`,
    );
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('classifies a refused connection as a retriable network error naming host and code', async () => {
    const port = await closedPort();
    const error = await failure(transport().post(`http://127.0.0.1:${port}/`, ALERT));
    expect(error.code).toBe('delivery_network');
    expect(error.retriable).toBe(true);
    expect(error.message).toContain(`http://127.0.0.1:${port}/`);
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('classifies a reset connection and a DNS failure the same way', async () => {
    const rude = await server((_, res) => res.socket?.destroy());
    const reset = await failure(transport().post(`${rude.base}/`, ALERT));
    expect(reset.code).toBe('delivery_network');
    expect(reset.message).toContain('ECONNRESET');
    const dns = await failure(transport().post('http://missing.example/', ALERT));
    expect(dns.code).toBe('delivery_network');
    expect(dns.message).toContain('http://missing.example:80/');
    expect(dns.message).toContain('ENOTFOUND');
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-03-01T12:00:00Z');

  it.each([
    ['120', 120_000],
    ['0', 0],
    ['99999', 3_600_000],
    ['Sun, 01 Mar 2026 12:01:30 GMT', 90_000],
    ['Sunday, 01-Mar-26 12:01:30 GMT', 90_000],
    ['Sun Mar  1 12:01:30 2026', 90_000],
    ['Mon, 02 Mar 2026 12:00:00 GMT', 3_600_000],
    [['5', '9'], 5_000],
  ])('reads %j as %d ms', (value, expected) => expect(parseRetryAfter(value, now)).toBe(expected));

  it.each([
    undefined,
    '',
    '-5',
    '1.5',
    'soon',
    '12abc',
    'Sun, 01 Mar 2026 11:59:00 GMT',
    '2026-03-01T12:01:30Z',
  ])('ignores %j', (value) => expect(parseRetryAfter(value, now)).toBeUndefined());
});
