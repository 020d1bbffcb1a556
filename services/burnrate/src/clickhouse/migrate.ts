import { readdirSync, readFileSync } from 'node:fs';
import type { ClickHouseClient } from '@clickhouse/client';
import { BUNDLED_MIGRATIONS } from './bundled-migrations.js';

/** One NNNN_name.sql file of schemas/clickhouse, as written. */
export interface MigrationFile {
  file: string;
  sql: string;
}

export interface Migration {
  version: string;
  statements: string[];
}

/** Reads the NNNN_name.sql files of a folder (such as the repository's schemas/clickhouse), in order. */
export function readMigrationFiles(dir: string): MigrationFile[] {
  return readdirSync(dir)
    .filter((f) => /^\d{4}_.+\.sql$/.test(f))
    .sort()
    .map((file) => ({ file, sql: readFileSync(`${dir}/${file}`, 'utf8') }));
}

/**
 * The migrations to run, by default those of schemas/clickhouse embedded in this package (an
 * installed package reads no file); statements are separated by `;` at the end of a line.
 */
export function readMigrations(files: readonly MigrationFile[] = BUNDLED_MIGRATIONS): Migration[] {
  return files.map(({ file, sql }) => ({
    version: file.replace(/\.sql$/, ''),
    statements: sql
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
  files: readonly MigrationFile[] = BUNDLED_MIGRATIONS,
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
  for (const m of readMigrations(files)) {
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
