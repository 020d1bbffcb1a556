import type { CustomerMeta } from '../aggregates/batch.js';
import type { Severity } from '../alerts/destinations.js';
import { type Decimal, formatDecimal } from '../money/decimal.js';
import { formatUsdCents } from '../money/nanos.js';
import type { WindowName } from '../windows/windows.js';
import type { RuleName } from './settings.js';

/** Cost, tokens and events of one period (a billing period or a UTC day). Money in nano-USD. */
export interface PeriodTotals {
  cost: bigint;
  tokens: bigint;
  events: number;
}

/** What the rules see of one customer at one moment, read from the rolling aggregates. */
export interface CustomerSnapshot {
  meta: CustomerMeta;
  nowMs: number;
  /** The billing period `meta.billing_period_start` to date. */
  period: PeriodTotals;
  /** The current UTC day. */
  day: PeriodTotals;
  /** Cost in each rolling window. */
  windows: Record<WindowName, bigint>;
  /** Period cost of the median customer on the same plan (kind and revenue), when known. */
  planMedian: { median: bigint; customers: number } | null;
}

export interface RunSnapshot {
  runId: string;
  customer: string;
  planKind: string;
  workflow: string;
  cost: bigint;
  tokens: bigint;
  steps: number;
  retries: number;
  maxDepth: number;
  firstSeenMs: number;
  lastSeenMs: number;
}

export interface UnpricedSnapshot {
  /** `provider/model`. */
  model: string;
  day: string;
  events: number;
  tokens: bigint;
}

/**
 * The numbers an alert carries: money as exact nano-USD decimal text and as USD text, counts as
 * text, ratios to two decimals (rounded down).
 */
export interface AlertNumbers {
  /** What crossed: nano-USD, or a count for steps, retries, depth and events. */
  value: string;
  /** What it crossed. */
  limit: string;
  unit: 'usd_nanos' | 'steps' | 'retries' | 'depth' | 'events';
  /** value ÷ the budget, revenue, baseline or median it is compared with, when that means something. */
  ratio: string | null;
  /** The window the value is measured over: billing_period, day, 1h, run. */
  window: 'billing_period' | 'day' | '1h' | 'run';
  [extra: string]: string | null;
}

/**
 * One rule's verdict about one subject. `active`: the condition holds now; `clear`: it has fallen
 * back below the hysteresis band (a firing alert resolves); `hold`: neither.
 */
export interface Finding {
  rule: RuleName;
  /** `customer:<id>`, `run:<id>` or `model:<provider/model>`. */
  subject: string;
  /** Which threshold of the rule: `80%`, `$1000`, `5x`, `budget`, `steps>50`… */
  threshold: string;
  /** Which period the alert belongs to: the billing period start, a UTC day, or `run`. */
  period: string;
  severity: Severity;
  state: 'active' | 'clear' | 'hold';
  /** Whether this rule sends `resolved` when its condition clears. */
  resolvable: boolean;
  summary: string;
  numbers: AlertNumbers;
}

/** Money in summaries: dollars and cents (the exact nano-USD travel in `numbers`). */
export const formatUsd = (nanos: bigint) => `$${formatUsdCents(nanos)}`;

/** value ≥ factor × base, exactly. */
export function atLeast(value: bigint, factor: Decimal, base: bigint): boolean {
  return value * 10n ** BigInt(factor.scale) >= factor.units * base;
}

/** value ÷ base to two decimals, rounded down; null when base is 0. */
export function ratioText(value: bigint, base: bigint): string | null {
  if (base <= 0n) return null;
  const hundredths = (value * 100n) / base;
  return `${hundredths / 100n}.${String(hundredths % 100n).padStart(2, '0')}`;
}

export const decimalText = formatDecimal;
