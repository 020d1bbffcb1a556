import {
  atLeast,
  DEFAULT_RULES,
  type Decimal,
  formatDecimal,
  parseDecimal,
  ratioText,
  ValidationError,
} from '@burnrate/core';
import { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { withReadDb } from './kit/clickhouse.js';
import { type CliOutput, processOutput, renderTable, toJson, usd } from './kit/output.js';
import { resolvePeriod, withPeriodOptions } from './kit/period.js';
import { periodJson } from './margin.js';
import { type CustomerMoney, customerMoney } from './money-queries.js';

/** The whale rule's smallest multiple and floor (core's DEFAULT_RULES), so CLI and alerts agree. */
const DEFAULT_MULTIPLE = formatDecimal(DEFAULT_RULES.whale.multiples[0]!);

function multipleOf(text: string): Decimal {
  try {
    const m = parseDecimal(text, '--multiple');
    if (m.units > 0n) return m;
  } catch {}
  throw new ValidationError(
    '--multiple',
    `--multiple "${text}" is not a positive decimal: give one such as 1 or 2.5.`,
    'invalid_argument',
  );
}

/** `burnrate whales`: customers whose LLM cost is at least a multiple of what their plan earns. */
export function createWhalesCommand(output: CliOutput = processOutput): Command {
  const whales = new Command('whales')
    .description('customers whose cost is at least --multiple × their plan revenue in the period')
    .option('--multiple <x>', `cost ÷ revenue at least this (default: ${DEFAULT_MULTIPLE})`, multipleOf)
    .option('--json', 'print JSON: money as exact nano-USD strings');
  withPeriodOptions(whales).action(
    async (o: { from?: string; to?: string; multiple?: Decimal; json?: boolean }) => {
      const multiple = o.multiple ?? DEFAULT_RULES.whale.multiples[0]!;
      const period = resolvePeriod(o, Date.now());
      const found = findWhales(await withReadDb(loadConfig(), (db) => customerMoney(db, period)), multiple);
      if (o.json) {
        output.out(toJson({ multiple: formatDecimal(multiple), ...periodJson(period, found) }));
        return;
      }
      output.out(
        found.length === 0
          ? `No customer costs ${formatDecimal(multiple)}× its plan revenue or more in this period.\n`
          : whaleTable(found),
      );
    },
  );
  return whales;
}

/** As the whale rule: a USD plan price, cost ≥ multiple × revenue, and cost at least the rule's floor. */
export function findWhales(customers: CustomerMoney[], multiple: Decimal) {
  return customers
    .filter(
      (c) =>
        c.revenue_nanos !== null &&
        c.cost_nanos >= DEFAULT_RULES.whale.min_nanos &&
        atLeast(c.cost_nanos, multiple, c.revenue_nanos),
    )
    .map((c) => ({ ...c, cost_to_revenue: ratioText(c.cost_nanos, c.revenue_nanos!) }));
}

function whaleTable(whales: ReturnType<typeof findWhales>): string {
  return renderTable(
    [
      { title: 'CUSTOMER', maxChars: 40 },
      { title: 'PLAN' },
      { title: 'REVENUE', align: 'right' },
      { title: 'COST', align: 'right' },
      { title: 'COST ÷ REVENUE', align: 'right' },
      { title: 'MARGIN', align: 'right' },
    ],
    whales.map((w) => [
      w.customer_id,
      w.plan_kind,
      usd(w.revenue_nanos!),
      usd(w.cost_nanos),
      `${w.cost_to_revenue}×`,
      usd(w.margin_nanos!),
    ]),
  );
}
