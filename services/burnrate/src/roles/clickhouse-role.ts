import type { ClickHouseClient } from '@clickhouse/client';
import type { Logger } from 'pino';
import type { createClickHouseHttpServer } from '../clickhouse/http/index.js';
import type { Config } from '../config/load.js';
import type { Component } from '../runtime/lifecycle.js';

/**
 * Embedded mode: this process owns the chDB data directory and serves the ClickHouse HTTP interface
 * so other burnrate processes and analysts' tools reach it as if it were a ClickHouse server.
 */
export function createClickHouseRole(
  config: Config,
  deps: { clickhouse: ClickHouseClient; logger: Logger },
): Component {
  const { logger } = deps;
  let server: ReturnType<typeof createClickHouseHttpServer> | undefined;
  return {
    name: 'clickhouse-http',
    async start() {
      // Imported here: the HTTP server loads the chDB engine, which other roles never need.
      const http = await import('../clickhouse/http/index.js');
      server = http.createClickHouseHttpServer({
        client: deps.clickhouse,
        host: config.CLICKHOUSE_HTTP_HOST,
        port: config.CLICKHOUSE_HTTP_PORT,
        defaultDatabase: config.CLICKHOUSE_DATABASE,
        users: [
          { name: config.CLICKHOUSE_USER, password: config.CLICKHOUSE_PASSWORD, readonly: false },
          {
            name: config.CLICKHOUSE_ANALYST_USER,
            password: config.CLICKHOUSE_ANALYST_PASSWORD,
            readonly: true,
          },
        ],
        logger: logger.child({ role: 'clickhouse' }),
      });
      const { url } = await server.start();
      logger.info(
        { url, database: config.CLICKHOUSE_DATABASE, analystUser: config.CLICKHOUSE_ANALYST_USER },
        'ClickHouse HTTP interface listening',
      );
    },
    async stop() {
      await server?.stop();
    },
  };
}
