import { request } from 'node:http';
import type { ClickHouseClient } from '@clickhouse/client';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createClickHouseHttpServer } from '../../src/clickhouse/http/index.js';
import { loadConfig } from '../../src/config/load.js';
import { assertOverviewExposure, createOverview, hostAllowed } from '../../src/roles/overview/server.js';
import { createApp } from '../../src/runtime/app.js';
import { createLifecycle } from '../../src/runtime/lifecycle.js';
import { recordFatal, silentLogger, testClickHouse, uniquePrefix } from '../fixtures.js';
import { seedOverview } from './seed.js';

// Who may reach the overview: the Host header (DNS rebinding), and the token beyond loopback.
const routing = { minCalls: 5, qualityTolerance: 0.02 };
const started: Array<ReturnType<typeof createOverview>> = [];
afterEach(async () => {
  for (const o of started.splice(0)) await o.stop();
});

async function start(extra: { host?: string; token?: string; allowedHosts?: string[] } = {}) {
  const overview = createOverview(
    { host: '127.0.0.1', port: 0, database: 'unused', routing, ...extra },
    { clickhouse: {} as ClickHouseClient, logger: silentLogger },
  );
  await overview.start();
  started.push(overview);
  return overview;
}

/** A GET with exactly these headers (fetch would not let a test set Host). */
function get(url: string, path: string, headers: Record<string, string> = {}) {
  const { hostname, port } = new URL(url);
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined> }>(
    (resolve, reject) => {
      const req = request({ host: hostname, port, path, method: 'GET', headers }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      });
      req.on('error', reject);
      req.end();
    },
  );
}

describe('overview exposure', () => {
  it('refuses a Host it does not answer to (DNS rebinding), and answers localhost, IPs and allowed names', async () => {
    const o = await start({ allowedHosts: ['burnrate.internal'] });
    const port = new URL(o.url()).port;
    expect((await get(o.url(), '/', { Host: `attacker.example:${port}` })).status).toBe(421);
    expect((await get(o.url(), '/api/health', { Host: 'rebind.attacker.example' })).status).toBe(421);
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'burnrate.internal'])
      expect((await get(o.url(), '/', { Host: host })).status, host).toBe(200);
    expect(hostAllowed(undefined, { host: '127.0.0.1' })).toBe(false);
    expect(hostAllowed('10.0.0.7:8788', { host: '0.0.0.0' })).toBe(true);
  });

  it('refuses to listen beyond loopback without OVERVIEW_TOKEN, naming it', async () => {
    expect(() => assertOverviewExposure({ host: '0.0.0.0' })).toThrow(/OVERVIEW_TOKEN/);
    expect(() => assertOverviewExposure({ host: '::', token: '' })).toThrow(/beyond loopback/);
    expect(() => assertOverviewExposure({ host: '127.0.0.1' })).not.toThrow();
    expect(() => assertOverviewExposure({ host: '0.0.0.0', token: 'x'.repeat(32) })).not.toThrow();
    expect(() => assertOverviewExposure({ host: '127.0.0.1', token: 's3cret' })).not.toThrow();
    // The compose placeholder and short tokens are refused beyond loopback, naming the setting.
    expect(() => assertOverviewExposure({ host: '0.0.0.0', token: 's3cret' })).toThrow(
      /OVERVIEW_TOKEN shorter than 32 characters.*openssl rand -hex 32/,
    );
    expect(() =>
      assertOverviewExposure({ host: '0.0.0.0', token: 'replace-me-with-a-long-random-secret' }),
    ).toThrow(/public placeholder OVERVIEW_TOKEN/);
    await expect(start({ host: '0.0.0.0' })).rejects.toThrow(/set OVERVIEW_TOKEN/);
    const config = loadConfig({
      KAFKA_BROKERS: '127.0.0.1:1',
      OVERVIEW_HOST: '0.0.0.0',
      OVERVIEW_TOKEN: 't',
      OVERVIEW_ALLOWED_HOSTS: 'a.example, b.example',
    });
    expect([config.OVERVIEW_TOKEN, config.OVERVIEW_ALLOWED_HOSTS]).toEqual(['t', ['a.example', 'b.example']]);
  });

  it('with a token: 401 without it, 200 with it (Basic, Bearer, or ?token= that sets an HttpOnly cookie)', async () => {
    const token = 'a-long-random-secret-of-32-chars-';
    const o = await start({ host: '0.0.0.0', token });
    const url = o.url().replace('0.0.0.0', '127.0.0.1');
    const denied = await get(url, '/');
    expect(denied.status).toBe(401);
    expect(denied.headers['www-authenticate']).toMatch(/^Basic /);
    expect((await get(url, '/api/health', { Authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await get(url, '/?token=wrong')).status).toBe(401);
    const basic = `Basic ${Buffer.from(`any:${token}`).toString('base64')}`;
    expect((await get(url, '/', { Authorization: basic })).status).toBe(200);
    expect((await get(url, '/', { Authorization: `Bearer ${token}` })).status).toBe(200);
    const link = await get(url, `/?from=7d&token=${token}`);
    expect(link.status).toBe(303);
    expect(link.headers.location).toBe('/?from=7d');
    const cookie = String(link.headers['set-cookie']);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect((await get(url, '/', { Cookie: cookie.split(';')[0]! })).status).toBe(200);
  });

  it('treats a malformed cookie as no token: 401, not 500', async () => {
    const o = await start({ host: '0.0.0.0', token: 'x'.repeat(32) });
    const url = o.url().replace('0.0.0.0', '127.0.0.1');
    expect((await get(url, '/', { Cookie: 'burnrate_overview=%E0' })).status).toBe(401);
    expect(
      (await get(url, '/', { Cookie: `burnrate_overview=%E0; burnrate_overview=${'x'.repeat(32)}` })).status,
    ).toBe(200);
  });
});

describe('overview queries', () => {
  it('run as the read-only analyst through the embedded HTTP interface, not as the read-write user', async () => {
    const ch = await testClickHouse();
    await seedOverview(ch.client, ch.database, Date.now());
    const server = createClickHouseHttpServer({
      client: ch.client,
      host: '127.0.0.1',
      port: 0,
      defaultDatabase: ch.database,
      users: [
        { name: 'writer', password: 'w-secret', readonly: false },
        { name: 'analyst', password: 'a-secret', readonly: true },
      ],
      logger: silentLogger,
    });
    const { port } = await server.start();
    const margins = async (analystPassword: string) => {
      const config = loadConfig({
        BURNRATE_ROLES: 'overview',
        KAFKA_BROKERS: inject('kafkaBrokers'),
        BURNRATE_TOPIC_PREFIX: uniquePrefix(),
        CLICKHOUSE_HTTP_HOST: '127.0.0.1',
        CLICKHOUSE_HTTP_PORT: String(port),
        CLICKHOUSE_USER: 'writer',
        CLICKHOUSE_PASSWORD: 'w-secret',
        CLICKHOUSE_ANALYST_USER: 'analyst',
        CLICKHOUSE_ANALYST_PASSWORD: analystPassword,
        CLICKHOUSE_DATABASE: ch.database,
        OVERVIEW_PORT: '0',
        METRICS_PORT: '0',
      });
      const app = createApp(config, { logger: silentLogger, fatal: recordFatal });
      const overview = app.components.find((c) => c.name === 'overview') as unknown as { url(): string };
      const lifecycle = createLifecycle(app.components, silentLogger, 10_000);
      await lifecycle.start();
      try {
        const res = await fetch(`${overview.url()}/api/margins`);
        return { status: res.status, body: (await res.json()) as { customers?: unknown[] } };
      } finally {
        await lifecycle.stop();
      }
    };
    try {
      const ok = await margins('a-secret');
      expect(ok.status).toBe(200);
      expect(ok.body.customers?.length).toBeGreaterThan(0);
      // Negative control: the read-write user's credentials are right, the analyst's wrong — the page fails.
      expect((await margins('wrong')).status).toBe(503);
    } finally {
      await server.stop();
      await ch.client.close();
    }
  }, 60_000);
});
