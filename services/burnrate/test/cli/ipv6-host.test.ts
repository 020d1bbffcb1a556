import { describe, expect, it } from 'vitest';
import { readTarget } from '../../src/cli/kit/clickhouse.js';
import { sqlEndpoint } from '../../src/cli/sql.js';
import { createClickHouseHttpServer } from '../../src/clickhouse/http/index.js';
import { loadConfig } from '../../src/config/load.js';
import { clickHouseTarget } from '../../src/runtime/app.js';
import { httpUrl } from '../../src/runtime/http-url.js';
import { silentLogger, testClickHouse } from '../fixtures.js';

describe('CLICKHOUSE_HTTP_HOST=::1 (an IPv6 literal)', () => {
  it('is bracketed in every URL built from it', () => {
    expect(httpUrl('::1', 8123)).toBe('http://[::1]:8123');
    expect(httpUrl('127.0.0.1', 8123)).toBe('http://127.0.0.1:8123');
    const config = loadConfig({ CLICKHOUSE_HTTP_HOST: '::1', CLICKHOUSE_HTTP_PORT: '8124' });
    expect(sqlEndpoint(config).url.host).toBe('[::1]:8124');
    const remote = clickHouseTarget(loadConfig({ CLICKHOUSE_HTTP_HOST: '::1', BURNRATE_ROLES: 'api' }));
    expect(remote).toMatchObject({ kind: 'server', url: 'http://[::1]:8123' });
  });

  it('finds a running burnrate serving the HTTP interface on ::1', async () => {
    const ch = await testClickHouse();
    const server = createClickHouseHttpServer({
      client: ch.client,
      host: '::1',
      port: 0,
      defaultDatabase: ch.database,
      users: [{ name: 'analyst', password: 'pw', readonly: true }],
      logger: silentLogger,
    });
    const { url, port } = await server.start();
    try {
      expect(url).toBe(`http://[::1]:${port}`);
      const config = loadConfig({
        BURNRATE_DATA_DIR: ch.path,
        CLICKHOUSE_HTTP_HOST: '::1',
        CLICKHOUSE_HTTP_PORT: String(port),
        CLICKHOUSE_ANALYST_PASSWORD: 'pw',
      });
      expect(await readTarget(config)).toMatchObject({ kind: 'server', url: `http://[::1]:${port}` });
    } finally {
      await server.stop();
      await ch.client.close();
    }
  });
});
