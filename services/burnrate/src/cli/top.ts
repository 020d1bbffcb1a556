import { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { withReadDb } from './kit/clickhouse.js';
import { oneOf, withListOptions } from './kit/options.js';
import { type CliOutput, type Column, count, processOutput, renderTable, toJson, usd } from './kit/output.js';
import { type Period, resolvePeriod, withPeriodOptions } from './kit/period.js';
import { DIMENSION_NAMES, DIMENSIONS, type Dimension, type TopRow, topRows } from './money-queries.js';

const DEFAULT_LIMIT = 20;

/** The token columns every money table shows, exclusive buckets as in the facts. */
export const TOKEN_COLUMNS: Column[] = [
  { title: 'INPUT', align: 'right' },
  { title: 'CACHED', align: 'right' },
  { title: 'CACHE WRITE', align: 'right' },
  { title: 'OUTPUT', align: 'right' },
  { title: 'REASONING', align: 'right' },
];

export function tokenCells(t: TopRow['tokens']): string[] {
  return [t.input, t.cached_input, t.cache_write, t.output, t.reasoning].map(count);
}

/** `burnrate top <dimension>`: the most expensive customers, workflows, features, models or steps. */
export function createTopCommand(output: CliOutput = processOutput): Command {
  const top = new Command('top')
    .description(`the most expensive ${DIMENSION_NAMES.join(', ')} in a period, with calls and tokens`)
    .argument('<what>', DIMENSION_NAMES.join(' | '));
  withListOptions(withPeriodOptions(top), DEFAULT_LIMIT).action(
    async (what: string, o: { from?: string; to?: string; limit?: number; json?: boolean }) => {
      const dimension = oneOf<Dimension>('what to rank', DIMENSION_NAMES, what);
      const period = resolvePeriod(o, Date.now());
      const rows = await withReadDb(loadConfig(), (db) =>
        topRows(db, dimension, period, o.limit ?? DEFAULT_LIMIT),
      );
      output.out(o.json ? toJson(topJson(dimension, period, rows)) : topTable(dimension, rows));
    },
  );
  return top;
}

function topJson(dimension: Dimension, period: Period, rows: TopRow[]) {
  return {
    dimension,
    from: new Date(period.fromMs).toISOString(),
    to: new Date(period.toMs).toISOString(),
    rows: rows.map(({ key, ...rest }) => ({ ...key, ...rest })),
  };
}

function topTable(dimension: Dimension, rows: TopRow[]): string {
  if (rows.length === 0) return `No usage in this period.\n`;
  const keys = DIMENSIONS[dimension];
  const money = dimension === 'customers';
  const columns: Column[] = [
    ...keys.map((k) => ({ title: k.title, maxChars: 40 })),
    { title: 'CALLS', align: 'right' },
    ...TOKEN_COLUMNS,
    { title: 'COST', align: 'right' },
    ...(money ? ([{ title: 'MARGIN', align: 'right' }] as Column[]) : []),
  ];
  return renderTable(
    columns,
    rows.map((r) => [
      ...keys.map((k) => r.key[k.column] ?? ''),
      count(r.calls),
      ...tokenCells(r.tokens),
      usd(r.cost_nanos),
      ...(money ? [r.margin_nanos == null ? '—' : usd(r.margin_nanos)] : []),
    ]),
  );
}
