import { randomUUID } from 'node:crypto';
import { rm, stat, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { ConfigError } from '@burnrate/core';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Logger } from 'pino';
import type { createClickHouseHttpServer } from '../clickhouse/http/index.js';
import { repairRollups } from '../clickhouse/rollup-repair.js';
import type { Config } from '../config/load.js';
import type { Component } from '../runtime/lifecycle.js';

/**
 * Embedded mode: this process owns the chDB data directory and serves the ClickHouse HTTP interface
 * so other burnrate processes and analysts' tools reach it as if it were a ClickHouse server.
 *
 * A clean stop leaves a marker file in the data directory. Without it, the last process died (an
 * insert may have stored facts but not every rollup): before serving anyone, the rollups are
 * checked against the facts of the last inserts and the wrong keys rebuilt (clickhouse/rollup-repair.ts).
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
      assertSafeExposure(config);
      const marker = join(resolve(config.BURNRATE_DATA_DIR), CLEAN_STOP_MARKER);
      const clean = await stat(marker).then(
        () => true,
        () => false,
      );
      if (!clean) {
        const repaired = await repairRollups(deps.clickhouse, config.CLICKHOUSE_DATABASE, {
          rebuildId: randomUUID(),
        });
        if (repaired.hourKeys + repaired.periodKeys > 0) {
          logger.warn(
            { ...repaired, database: config.CLICKHOUSE_DATABASE },
            'the last stop was not clean and some rollups had missed an insert: those keys were rebuilt from the facts',
          );
        }
      }
      await rm(marker, { force: true });
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
      if (!server) return;
      await server.stop();
      // Without the marker the next start only checks the rollups once more: a warning, not a failure.
      const marker = join(resolve(config.BURNRATE_DATA_DIR), CLEAN_STOP_MARKER);
      await writeFile(marker, `${new Date().toISOString()}\n`).catch((error: unknown) =>
        logger.warn(
          { err: error, marker },
          'could not mark this stop as clean; the next start checks the rollups',
        ),
      );
    },
  };
}

/** Written by a clean stop, removed at start: its absence means the engine's last process died. */
export const CLEAN_STOP_MARKER = 'clean-stop';

/** The analyst password every install starts with (the CLICKHOUSE_ANALYST_PASSWORD default). */
const DEFAULT_ANALYST_PASSWORD = 'analyst';

type ExposureConfig = Pick<
  Config,
  'CLICKHOUSE_HTTP_HOST' | 'CLICKHOUSE_PASSWORD' | 'CLICKHOUSE_ANALYST_PASSWORD'
>;

/**
 * Listening beyond loopback with the read-write user's empty password (or the analyst's default
 * one) would hand the engine — and, through file() and INTO OUTFILE, the host's files — to anyone
 * on the network. Refuse to start instead, naming the variables to set.
 */
export function assertSafeExposure(config: ExposureConfig): void {
  if (isLoopback(config.CLICKHOUSE_HTTP_HOST)) return;
  const missing: string[] = [];
  if (config.CLICKHOUSE_PASSWORD === '') missing.push('CLICKHOUSE_PASSWORD (the read-write user has none)');
  if (
    config.CLICKHOUSE_ANALYST_PASSWORD === '' ||
    config.CLICKHOUSE_ANALYST_PASSWORD === DEFAULT_ANALYST_PASSWORD
  ) {
    missing.push('CLICKHOUSE_ANALYST_PASSWORD (the analyst still has the default one)');
  }
  if (missing.length === 0) return;
  throw new ConfigError(
    'CLICKHOUSE_HTTP_HOST',
    `The ClickHouse HTTP interface refuses to listen on ${config.CLICKHOUSE_HTTP_HOST}, beyond loopback, without passwords: set ${missing.join(' and ')}, or keep CLICKHOUSE_HTTP_HOST=127.0.0.1.`,
  );
}

/** 127.0.0.0/8, ::1 (also IPv4-mapped) and `localhost`; everything else — 0.0.0.0 and :: included — reaches further. */
export function isLoopback(host: string): boolean {
  const name = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  if (name === 'localhost') return true;
  const v4 = name.startsWith('::ffff:') ? name.slice('::ffff:'.length) : name;
  if (isIP(v4) === 4) return v4.startsWith('127.');
  if (isIP(name) === 6) return /^(0{0,4}:){2,7}0{0,3}1$/.test(name) || name === '::1';
  return false;
}
