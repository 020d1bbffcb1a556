import { Writable } from 'node:stream';
import { ConfigError } from '@burnrate/core';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { assertSafeExposure, createClickHouseRole, isLoopback } from '../src/roles/clickhouse-role.js';
import { testClickHouse } from './fixtures.js';

/** A logger whose lines the test can read (the role logs the URL it listens on). */
function capturingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}

const ch = await testClickHouse();
afterAll(() => ch.client.close());

describe('the clickhouse role beyond loopback', () => {
  it('refuses to start on 0.0.0.0 with the default passwords, naming the variables, and listens nowhere', async () => {
    const { logger, lines } = capturingLogger();
    const role = createClickHouseRole(
      loadConfig({ CLICKHOUSE_HTTP_HOST: '0.0.0.0', CLICKHOUSE_HTTP_PORT: '0' }),
      { clickhouse: ch.client, logger },
    );
    const error = await role.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).field).toBe('CLICKHOUSE_HTTP_HOST');
    expect((error as Error).message).toMatch(/CLICKHOUSE_PASSWORD/);
    expect((error as Error).message).toMatch(/CLICKHOUSE_ANALYST_PASSWORD/);
    expect(lines.filter((line) => line.msg === 'ClickHouse HTTP interface listening')).toEqual([]);
    await role.stop();
  });

  it('refuses while only one of the two passwords is set', () => {
    const base = { CLICKHOUSE_HTTP_HOST: '::' };
    expect(() =>
      assertSafeExposure({ ...base, CLICKHOUSE_PASSWORD: 'rw', CLICKHOUSE_ANALYST_PASSWORD: 'analyst' }),
    ).toThrow(/CLICKHOUSE_ANALYST_PASSWORD/);
    expect(() =>
      assertSafeExposure({ ...base, CLICKHOUSE_PASSWORD: 'rw', CLICKHOUSE_ANALYST_PASSWORD: '' }),
    ).toThrow(/CLICKHOUSE_ANALYST_PASSWORD/);
    expect(() =>
      assertSafeExposure({ ...base, CLICKHOUSE_PASSWORD: '', CLICKHOUSE_ANALYST_PASSWORD: 'a-secret' }),
    ).toThrow(/CLICKHOUSE_PASSWORD \(/);
    // negative control: loopback keeps today's defaults working
    expect(() =>
      assertSafeExposure({
        CLICKHOUSE_HTTP_HOST: '127.0.0.1',
        CLICKHOUSE_PASSWORD: '',
        CLICKHOUSE_ANALYST_PASSWORD: 'analyst',
      }),
    ).not.toThrow();
  });

  it('tells loopback from the rest', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) {
      expect(isLoopback(host), host).toBe(true);
    }
    for (const host of ['0.0.0.0', '::', '10.0.0.5', '192.168.1.2', 'example.org', '::ffff:10.0.0.1', '']) {
      expect(isLoopback(host), host).toBe(false);
    }
  });

  it('starts on 0.0.0.0 once both passwords are set (traffic sent to 127.0.0.1 only)', async () => {
    const { logger, lines } = capturingLogger();
    const role = createClickHouseRole(
      loadConfig({
        CLICKHOUSE_HTTP_HOST: '0.0.0.0',
        CLICKHOUSE_HTTP_PORT: '0',
        CLICKHOUSE_DATABASE: ch.database,
        CLICKHOUSE_PASSWORD: 'rw-secret',
        CLICKHOUSE_ANALYST_PASSWORD: 'a-secret',
      }),
      { clickhouse: ch.client, logger },
    );
    await role.start();
    try {
      const listening = lines.find((line) => line.msg === 'ClickHouse HTTP interface listening');
      const port = new URL(String(listening?.url)).port;
      const ask = (user: string, password: string) =>
        fetch(`http://127.0.0.1:${port}/?query=SELECT+42`, {
          headers: { 'X-ClickHouse-User': user, 'X-ClickHouse-Key': password },
        });
      const ok = await ask('analyst', 'a-secret');
      expect(ok.status).toBe(200);
      expect(await ok.text()).toBe('42\n');
      const refused = await ask('default', '');
      expect(refused.status).toBe(403);
      await refused.text();
      expect(JSON.stringify(lines)).not.toContain('a-secret');
      expect(JSON.stringify(lines)).not.toContain('rw-secret');
    } finally {
      await role.stop();
    }
  });
});
