import { formatInstant, formatNanosAsUsd } from '@burnrate/core';
import type { FactFilter } from './options.js';
import type { FactPricing } from './price-fact.js';

/** Running totals of one run. Money sums are BigInt: a range can hold far more than 2^53 nano-USD. */
export interface RepriceTally {
  scanned: number;
  changed: number;
  unchanged: number;
  /** Facts pricing refused (e.g. a count beyond 2^53); they keep their stored pricing. */
  failed: number;
  firstFailure: string | undefined;
  unpricedBefore: number;
  unpricedAfter: number;
  costBeforeNanos: bigint;
  costAfterNanos: bigint;
}

export function emptyTally(): RepriceTally {
  return {
    scanned: 0,
    changed: 0,
    unchanged: 0,
    failed: 0,
    firstFailure: undefined,
    unpricedBefore: 0,
    unpricedAfter: 0,
    costBeforeNanos: 0n,
    costAfterNanos: 0n,
  };
}

/** Counts one fact; `after` is undefined when pricing it failed, which leaves it as it was. */
export function countFact(
  tally: RepriceTally,
  before: FactPricing,
  after: FactPricing | undefined,
  changed: boolean,
): void {
  const kept = after ?? before;
  tally.scanned++;
  if (after === undefined) tally.failed++;
  else if (changed) tally.changed++;
  else tally.unchanged++;
  tally.unpricedBefore += before.unpriced;
  tally.unpricedAfter += kept.unpriced;
  tally.costBeforeNanos += before.cost_total_nanos;
  tally.costAfterNanos += kept.cost_total_nanos;
}

/** Everything the command reports at the end, also what reprice_runs records. */
export interface RepriceSummary {
  runId: string;
  dryRun: boolean;
  filter: FactFilter;
  priceCatalogVersion: string;
  overridesVersion: string;
  tally: RepriceTally;
  /** Interrupted earlier runs whose rollups this run rebuilt. */
  recoveredRuns: string[];
  /** (hour, customer) keys of usage_hourly and (billing period, customer) keys of customer_period_cost rebuilt. */
  hourKeys: number;
  periodKeys: number;
  elapsedMs: number;
}

const int = (n: number | bigint) => n.toLocaleString('en-US');

function usd(nanos: bigint, signed = false): string {
  const text = formatNanosAsUsd(nanos < 0n ? -nanos : nanos, 2);
  return `${nanos < 0n ? '-' : signed && nanos > 0n ? '+' : ''}$${text}`;
}

function describeFilter(filter: FactFilter): string {
  const parts = [`${formatInstant(filter.fromMs)} .. ${formatInstant(filter.toMs)}`];
  if (filter.provider !== undefined) parts.push(`provider ${filter.provider}`);
  if (filter.model !== undefined) parts.push(`model ${filter.model}`);
  if (filter.customerId !== undefined) parts.push(`customer ${filter.customerId}`);
  return parts.join(', ');
}

/** The final report, one fact per line, money as exact decimals of the nano-USD sums. */
export function formatSummary(s: RepriceSummary, database: string): string {
  const t = s.tally;
  const lines = [
    `${s.dryRun ? 'dry run, nothing written: ' : ''}re-priced ${describeFilter(s.filter)}`,
    `  catalog    ${s.priceCatalogVersion}, overrides ${s.overridesVersion}`,
    `  scanned    ${int(t.scanned)} facts (the run took ${(s.elapsedMs / 1000).toFixed(1)} s)`,
    `  changed    ${int(t.changed)}${s.dryRun ? ' (would change)' : ''}, unchanged ${int(t.unchanged)}, failed ${int(t.failed)}`,
    `  unpriced   before ${int(t.unpricedBefore)}, after ${int(t.unpricedAfter)}`,
    `  cost       before ${usd(t.costBeforeNanos)}, after ${usd(t.costAfterNanos)}, delta ${usd(t.costAfterNanos - t.costBeforeNanos, true)}`,
  ];
  if (t.firstFailure !== undefined) lines.push(`  first failure: ${t.firstFailure}`);
  if (!s.dryRun) {
    lines.push(
      `  rollups    rebuilt ${int(s.hourKeys)} hour×customer and ${int(s.periodKeys)} period×customer keys`,
    );
    if (s.recoveredRuns.length > 0) lines.push(`  recovered  interrupted runs ${s.recoveredRuns.join(', ')}`);
    lines.push(`  run        ${s.runId} (SELECT * FROM ${database}.reprice_log WHERE run_id = '${s.runId}')`);
  }
  return `${lines.join('\n')}\n`;
}
