import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ClickHouseClient } from '@clickhouse/client';

/** schemas/clickhouse, from src/ or dist/ alike (both sit at the same depth). */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../../schemas/clickhouse/', import.meta.url));

export interface Migration {
  version: string;
  statements: string[];
}

/** Reads NNNN_name.sql files in order; statements are separated by `;` at the end of a line. */
export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{4}_.+\.sql$/.test(f))
    .sort()
    .map((file) => ({
      version: file.replace(/\.sql$/, ''),
      statements: readFileSync(`${dir}/${file}`, 'utf8')
        .split(/;\s*$/m)
        .map((s) => s.replace(/^\s*--.*$/gm, '').trim())
        .filter(Boolean),
    }));
}

/**
 * Applies migrations idempotently: every statement is `IF NOT EXISTS`, and applied versions are
 * recorded so a later migration that is not idempotent by itself still runs once.
 */
export async function migrate(
  client: ClickHouseClient,
  database: string,
  dir = MIGRATIONS_DIR,
): Promise<string[]> {
  await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` });
  await client.command({
    query: `CREATE TABLE IF NOT EXISTS ${database}.schema_migrations (version String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)) ENGINE = ReplacingMergeTree ORDER BY version`,
  });
  const done = await client.query({
    query: `SELECT version FROM ${database}.schema_migrations`,
    format: 'JSONEachRow',
  });
  const applied = new Set((await done.json<{ version: string }>()).map((r) => r.version));
  const ran: string[] = [];
  for (const m of readMigrations(dir)) {
    if (applied.has(m.version)) continue;
    for (const statement of m.statements) {
      await client.command({ query: statement.replaceAll('{database}', database) });
    }
    await client.insert({
      table: `${database}.schema_migrations`,
      values: [{ version: m.version }],
      format: 'JSONEachRow',
    });
    ran.push(m.version);
  }
  return ran;
}
