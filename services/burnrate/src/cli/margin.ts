import { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { withReadDb } from './kit/clickhouse.js';
import { withListOptions } from './kit/options.js';
import { type CliOutput, count, processOutput, renderTable, toJson, usd } from './kit/output.js';
import { type Period, resolvePeriod, withPeriodOptions } from './kit/period.js';
import { type CustomerMoney, customerMoney } from './money-queries.js';

const DEFAULT_LIMIT = 50;

/** `burnrate margin`: per customer, plan revenue, LLM cost, margin and margin %; smallest margin first. */
export function createMarginCommand(output: CliOutput = processOutput): Command {
  const margin = new Command('margin').description(
    'per customer: plan revenue, LLM cost, margin and margin %, the worst margin first',
  );
  withListOptions(withPeriodOptions(margin), DEFAULT_LIMIT).action(
    async (o: { from?: string; to?: string; limit?: number; json?: boolean }) => {
      const period = resolvePeriod(o, Date.now());
      const customers = sortByMargin(await withReadDb(loadConfig(), (db) => customerMoney(db, period))).slice(
        0,
        o.limit ?? DEFAULT_LIMIT,
      );
      output.out(o.json ? toJson(periodJson(period, customers)) : marginTable(customers));
    },
  );
  return margin;
}

/** Customers with a plan price by margin, lowest first; those without one last, by cost. */
export function sortByMargin(customers: CustomerMoney[]): CustomerMoney[] {
  return [...customers].sort((a, b) => {
    if (a.margin_nanos === null || b.margin_nanos === null) {
      if (a.margin_nanos !== b.margin_nanos) return a.margin_nanos === null ? 1 : -1;
      return a.cost_nanos === b.cost_nanos ? 0 : a.cost_nanos > b.cost_nanos ? -1 : 1;
    }
    if (a.margin_nanos !== b.margin_nanos) return a.margin_nanos < b.margin_nanos ? -1 : 1;
    return a.customer_id < b.customer_id ? -1 : 1;
  });
}

export function periodJson<T>(period: Period, rows: T[]) {
  return { from: new Date(period.fromMs).toISOString(), to: new Date(period.toMs).toISOString(), rows };
}

function marginTable(customers: CustomerMoney[]): string {
  if (customers.length === 0) return 'No usage in this period.\n';
  return renderTable(
    [
      { title: 'CUSTOMER', maxChars: 40 },
      { title: 'PLAN' },
      { title: 'CALLS', align: 'right' },
      { title: 'REVENUE', align: 'right' },
      { title: 'COST', align: 'right' },
      { title: 'MARGIN', align: 'right' },
      { title: 'MARGIN %', align: 'right' },
    ],
    customers.map((c) => [
      c.customer_id,
      c.plan_kind,
      count(c.calls),
      c.revenue_nanos === null ? '—' : usd(c.revenue_nanos),
      usd(c.cost_nanos),
      c.margin_nanos === null ? '—' : usd(c.margin_nanos),
      c.margin_percent === null ? '—' : `${c.margin_percent}%`,
    ]),
  );
}
