import { ConfigError, ValidationError } from '@burnrate/core';
import type { ClickHouseClient } from '@clickhouse/client';
import { classifyClickHouseError } from '../clickhouse/errors.js';
import type { FactFilter } from './options.js';

/**
 * Thin helpers for the re-pricing adapter. Settings travel in each statement's SETTINGS clause, never
 * as client `clickhouse_settings`: chDB applies those with `SET`, which outlives the statement and
 * would leak (say `mutations_sync` or a deduplication token) into every later query of the process.
 */
export type Params = Record<string, unknown>;

export async function exec(
  client: ClickHouseClient,
  query: string,
  what: string,
  params: Params = {},
): Promise<void> {
  try {
    await client.command({ query, query_params: params });
  } catch (error) {
    throw classifyClickHouseError(error, what);
  }
}

export async function select<T>(
  client: ClickHouseClient,
  query: string,
  what: string,
  params: Params = {},
): Promise<T[]> {
  try {
    const result = await client.query({ query, query_params: params, format: 'JSONEachRow' });
    return await result.json<T>();
  } catch (error) {
    throw classifyClickHouseError(error, what);
  }
}

/** Statements are built around a database name; config already restricts it, this guards other callers. */
export function checkIdentifier(name: string, setting: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new ConfigError(setting, `${setting} must be a plain identifier, got "${name}".`);
  }
  return name;
}

/** A UUID we generated, checked before it is written into SQL text (mutations keep their text). */
export function uuidLiteral(id: string): string {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)) {
    throw new ValidationError('run_id', `run_id must be a UUID, got "${id}".`, 'invalid_argument');
  }
  return `toUUID('${id}')`;
}

export function msLiteral(ms: number): string {
  if (!Number.isSafeInteger(ms)) {
    throw new ValidationError(
      'occurred_at',
      `occurred_at bound must be epoch milliseconds, got ${ms}.`,
      'invalid_argument',
    );
  }
  return `fromUnixTimestamp64Milli(toInt64(${ms}), 'UTC')`;
}

/** The WHERE clause selecting a run's facts, with its parameters. */
export function factCondition(filter: FactFilter): { sql: string; params: Params } {
  const clauses = [`occurred_at >= ${msLiteral(filter.fromMs)}`, `occurred_at < ${msLiteral(filter.toMs)}`];
  const params: Params = {};
  if (filter.model !== undefined) {
    clauses.push('model = {model:String}');
    params.model = filter.model;
  }
  if (filter.provider !== undefined) {
    clauses.push('provider = {provider:String}');
    params.provider = filter.provider;
  }
  if (filter.customerId !== undefined) {
    clauses.push('customer_id = {customer:String}');
    params.customer = filter.customerId;
  }
  return { sql: clauses.join(' AND '), params };
}
