import { ConfigError } from '@burnrate/core';
import { ClickHouseLogLevel, createClient } from '@clickhouse/client';
import {
  CLICKHOUSE_SETTINGS,
  type ClickHouseClient,
  type ClickHouseTarget,
  createClickHouseClient,
} from '../clickhouse/client.js';
import { classifyClickHouseError } from '../clickhouse/errors.js';
import type { AlertsOutput } from './alerts-deliveries.js';
import { formatTable } from './text-table.js';

/** One alert message on record, as `burnrate alerts list --json` prints it. */
export interface AlertOnRecord {
  message_id: string;
  /** When burnrate fired or resolved it, ISO-8601 UTC. */
  at: string;
  event: string;
  severity: string;
  rule: string;
  subject: string;
  threshold: string;
  summary: string;
}

/** Which alerts to show: at in [fromMs, toMs), newest first, at most `limit`. */
export interface AlertRange {
  fromMs: number | undefined;
  toMs: number | undefined;
  limit: number;
}

/** The setting to fix when ClickHouse cannot be reached where `target` points. */
function settingFor(target: ClickHouseTarget, urlGiven: boolean): string {
  if (target.kind === 'embedded') return 'BURNRATE_DATA_DIR';
  return urlGiven ? 'CLICKHOUSE_URL' : 'CLICKHOUSE_HTTP_HOST and CLICKHOUSE_HTTP_PORT';
}

/** A ClickHouse client for reading; chDB's directory may be owned by a running burnrate. */
export function openClickHouse(target: ClickHouseTarget): ClickHouseClient {
  if (target.kind === 'server') {
    // As createClickHouseClient makes it, but silent: the one sentence printed on failure says it
    // all, and the client's own error log would repeat it with a stack trace on the terminal.
    return createClient({
      url: target.url,
      username: target.username,
      password: target.password,
      clickhouse_settings: { ...CLICKHOUSE_SETTINGS },
      request_timeout: 60_000,
      log: { level: ClickHouseLogLevel.OFF },
    });
  }
  try {
    return createClickHouseClient(target);
  } catch (error) {
    throw new ConfigError(
      'BURNRATE_DATA_DIR',
      `The embedded ClickHouse in ${target.path} cannot be opened (${(error as Error).message.split('\n')[0]}); ` +
        'if a running burnrate owns it, set CLICKHOUSE_URL (or BURNRATE_ROLES without clickhouse) to go through its HTTP interface.',
    );
  }
}

/** Alerts from ClickHouse `alerts` (FINAL: a message relayed twice is one row). */
export async function alertsOnRecord(
  client: ClickHouseClient,
  database: string,
  range: AlertRange,
  where: { target: ClickHouseTarget; urlGiven: boolean },
): Promise<AlertOnRecord[]> {
  const conditions: string[] = [];
  // Integers only reach the SQL text: the range was parsed into epoch milliseconds.
  if (range.fromMs !== undefined) {
    conditions.push(`at >= fromUnixTimestamp64Milli(toInt64(${Math.trunc(range.fromMs)}), 'UTC')`);
  }
  if (range.toMs !== undefined) {
    conditions.push(`at < fromUnixTimestamp64Milli(toInt64(${Math.trunc(range.toMs)}), 'UTC')`);
  }
  const query = `SELECT message_id, toUnixTimestamp64Milli(at) AS at_ms, event, severity, rule, subject, threshold, summary
    FROM ${database}.alerts FINAL
    ${conditions.length ? `WHERE ${conditions.join(' AND ')}` : ''}
    ORDER BY at DESC, message_id
    LIMIT ${Math.trunc(range.limit)}`;
  let rows: Array<Omit<AlertOnRecord, 'at'> & { at_ms: string | number }>;
  try {
    const rs = await client.query({ query, format: 'JSONEachRow' });
    rows = await rs.json();
  } catch (error) {
    const e = classifyClickHouseError(error, 'the alerts query');
    if (e.code !== 'clickhouse_unavailable') throw e;
    const setting = settingFor(where.target, where.urlGiven);
    throw new ConfigError(
      setting,
      `${e.message.replace(/\.$/, '')}; check that ClickHouse is up or fix ${setting}.`,
    );
  }
  return rows.map(({ at_ms, ...r }) => ({
    message_id: r.message_id,
    at: new Date(Number(at_ms)).toISOString(),
    event: r.event,
    severity: r.severity,
    rule: r.rule,
    subject: r.subject,
    threshold: r.threshold,
    summary: r.summary,
  }));
}

/** `burnrate alerts list`. */
export function printAlerts(
  alerts: AlertOnRecord[],
  range: AlertRange,
  json: boolean,
  out: AlertsOutput,
): void {
  if (json) {
    out.stdout.write(`${JSON.stringify(alerts, null, 2)}\n`);
    return;
  }
  if (alerts.length === 0) {
    out.stdout.write('No alerts on record in this range.\n');
    return;
  }
  out.stdout.write(
    formatTable(
      [
        { title: 'AT' },
        { title: 'EVENT' },
        { title: 'SEVERITY' },
        { title: 'RULE' },
        { title: 'SUBJECT', maxChars: 40 },
        { title: 'THRESHOLD' },
        { title: 'SUMMARY', maxChars: 100 },
      ],
      alerts.map((a) => [
        a.at.replace(/\.\d{3}Z$/, 'Z'),
        a.event,
        a.severity,
        a.rule,
        a.subject,
        a.threshold,
        a.summary,
      ]),
    ),
  );
  if (alerts.length === range.limit) {
    out.stdout.write(
      `\nThe newest ${range.limit} shown; narrow with --from/--to or raise --limit for more.\n`,
    );
  }
}
