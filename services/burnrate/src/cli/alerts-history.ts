import type { ReadDb } from './kit/clickhouse.js';
import { type CliOutput, type Column, renderTable, toJson } from './kit/output.js';

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
  fromMs: number;
  toMs: number;
  limit: number;
}

/** Alerts from ClickHouse `alerts` (FINAL: a message relayed twice is one row). */
export async function alertsOnRecord(db: ReadDb, range: AlertRange): Promise<AlertOnRecord[]> {
  const rows = await db.rows<Omit<AlertOnRecord, 'at'> & { at_ms: string | number }>(
    `SELECT message_id, toUnixTimestamp64Milli(at) AS at_ms, event, severity, rule, subject, threshold, summary
    FROM ${db.database}.alerts FINAL
    WHERE at >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND at < fromUnixTimestamp64Milli({to:Int64}, 'UTC')
    ORDER BY at DESC, message_id
    LIMIT {limit:UInt32}`,
    { from: range.fromMs, to: range.toMs, limit: range.limit },
    'the alerts query',
  );
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

const ALERT_COLUMNS: Column[] = [
  { title: 'AT' },
  { title: 'EVENT' },
  { title: 'SEVERITY' },
  { title: 'RULE' },
  { title: 'SUBJECT', maxChars: 40 },
  { title: 'THRESHOLD' },
  { title: 'SUMMARY', maxChars: 100 },
];

/** Table rows for alerts (also printed one by one by `alerts tail`). */
export function alertTable(alerts: AlertOnRecord[], header = true): string {
  const text = renderTable(
    ALERT_COLUMNS,
    alerts.map((a) => [
      a.at.replace(/\.\d{3}Z$/, 'Z'),
      a.event,
      a.severity,
      a.rule,
      a.subject,
      a.threshold,
      a.summary,
    ]),
  );
  return header ? text : text.slice(text.indexOf('\n') + 1);
}

/** `burnrate alerts list`. */
export function printAlerts(alerts: AlertOnRecord[], range: AlertRange, json: boolean, out: CliOutput): void {
  if (json) {
    out.out(toJson(alerts));
    return;
  }
  if (alerts.length === 0) {
    out.out('No alerts on record in this range.\n');
    return;
  }
  out.out(alertTable(alerts));
  if (alerts.length === range.limit) {
    out.out(`\nThe newest ${range.limit} shown; narrow with --from/--to or raise --limit for more.\n`);
  }
}
