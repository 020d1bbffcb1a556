import type { Severity } from '../alerts/destinations.js';
import { compareDecimal, type Decimal } from '../money/decimal.js';
import { formatNanosAsUsd } from '../money/nanos.js';
import { billingPeriodEndMs, DAY_MS, dayStartMs, utcDay } from '../windows/windows.js';
import type { RuleSettings } from './settings.js';
import {
  type AlertNumbers,
  atLeast,
  type CustomerSnapshot,
  decimalText,
  type Finding,
  formatUsd,
  type RunSnapshot,
  ratioText,
  type UnpricedSnapshot,
} from './snapshots.js';

const HOUR_MS = 3_600_000;
const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

/**
 * Every rule about one customer: budget, forecast, whale (revenue and plan median), spike and
 * unmapped. Pure: the same snapshot and settings give the same findings. With `scope: 'totals'` only
 * the rules on period and day totals run (the snapshot's windows are then not read): the trends —
 * forecast and spike, which need the rolling windows — are judged separately and less often.
 */
export function evaluateCustomer(
  s: CustomerSnapshot,
  r: RuleSettings,
  scope: 'all' | 'totals' = 'all',
): Finding[] {
  const totals = [...budgetFindings(s, r), ...whaleFindings(s, r), ...unmappedFindings(s, r)];
  return scope === 'totals' ? totals : [...totals, ...forecastFindings(s, r), ...spikeFindings(s, r)];
}

const label = (s: CustomerSnapshot) =>
  s.meta.name ? `${s.meta.name} (${s.meta.customer_id})` : s.meta.customer_id;
const subjectOf = (s: CustomerSnapshot) => `customer:${s.meta.customer_id}`;

function money(
  value: bigint,
  limit: bigint,
  window: AlertNumbers['window'],
  ratio = ratioText(value, limit),
) {
  return { value: value.toString(), limit: limit.toString(), unit: 'usd_nanos', ratio, window } as const;
}

function budgetFindings(s: CustomerSnapshot, r: RuleSettings): Finding[] {
  if (!r.budget.enabled) return [];
  const out: Finding[] = [];
  const cost = s.period.cost;
  const budget = BigInt(s.meta.monthly_budget_nanos);
  const base = {
    rule: 'budget',
    subject: subjectOf(s),
    period: s.meta.billing_period_start,
    state: 'active',
    resolvable: false,
  } as const;
  if (budget > 0n) {
    for (const p of r.budget.percents) {
      if (!atLeast(cost * 100n, p, budget)) continue;
      const pct = decimalText(p);
      out.push({
        ...base,
        threshold: `${pct}%`,
        severity: percentSeverity(p),
        summary: `${label(s)} has spent ${formatUsd(cost)} of its ${formatUsd(budget)} monthly budget this billing period (${pct}% threshold, from ${s.meta.billing_period_start}).`,
        numbers: money(cost, budget, 'billing_period'),
      });
    }
  }
  for (const amount of r.budget.amounts_nanos) {
    if (cost < amount) continue;
    out.push({
      ...base,
      threshold: `$${formatNanosAsUsd(amount)}`,
      severity: 'warning',
      summary: `${label(s)} has spent ${formatUsd(cost)} this billing period, past the ${formatUsd(amount)} alert amount.`,
      numbers: money(cost, amount, 'billing_period'),
    });
  }
  const today = utcDay(s.nowMs);
  for (const amount of r.budget.daily_amounts_nanos) {
    if (s.day.cost < amount) continue;
    out.push({
      ...base,
      period: today,
      threshold: `$${formatNanosAsUsd(amount)}/day`,
      severity: 'warning',
      summary: `${label(s)} has spent ${formatUsd(s.day.cost)} today (UTC), past the ${formatUsd(amount)} daily alert amount.`,
      numbers: money(s.day.cost, amount, 'day'),
    });
  }
  return out;
}

const whole = (n: number): Decimal => ({ units: BigInt(n), scale: 0 });

function percentSeverity(p: Decimal): Severity {
  if (compareDecimal(p, whole(100)) >= 0) return 'critical';
  return compareDecimal(p, whole(80)) >= 0 ? 'warning' : 'info';
}

function forecastFindings(s: CustomerSnapshot, r: RuleSettings): Finding[] {
  const f = r.forecast;
  if (!f.enabled) return [];
  const projection = projectPeriodEnd(s.meta.billing_period_start, s.nowMs, s.period.cost, s.windows.h24);
  if (!projection) return [];
  const { elapsed, end, perDay, projected } = projection;
  const cost = s.period.cost;
  const targets: Array<['budget' | 'revenue', bigint]> = [['budget', BigInt(s.meta.monthly_budget_nanos)]];
  if (s.meta.plan_currency === 'USD') targets.push(['revenue', BigInt(s.meta.plan_revenue_nanos)]);
  const out: Finding[] = [];
  for (const [against, target] of targets) {
    if (target <= 0n) continue;
    const tooEarly =
      elapsed < BigInt(Math.round(f.min_elapsed_hours * HOUR_MS)) ||
      cost * 100n < (BigInt(Math.round(f.min_fraction_percent * 100)) * target) / 100n;
    // Already past the target: the budget and whale rules speak; the forecast neither fires nor clears.
    const state: Finding['state'] =
      tooEarly || cost >= target
        ? 'hold'
        : projected >= target
          ? 'active'
          : projected * 100n < target * BigInt(100 - f.hysteresis_percent)
            ? 'clear'
            : 'hold';
    const endDay = utcDay(end);
    out.push({
      rule: 'forecast',
      subject: subjectOf(s),
      threshold: against,
      period: s.meta.billing_period_start,
      severity: 'warning',
      state,
      resolvable: true,
      summary:
        state === 'clear'
          ? `${label(s)} is no longer on course to pass its ${formatUsd(target)} ${against === 'budget' ? 'monthly budget' : 'plan revenue'}: ${formatUsd(projected)} projected by ${endDay}.`
          : `${label(s)} is on course to spend ${formatUsd(projected)} by ${endDay}, ${ratioText(projected, target)}× its ${formatUsd(target)} ${against === 'budget' ? 'monthly budget' : 'plan revenue'} (trailing rate ${formatUsd(perDay)}/day, ${formatUsd(cost)} so far).`,
      numbers: {
        ...money(projected, target, 'billing_period'),
        spent: cost.toString(),
        per_day: perDay.toString(),
        period_end: new Date(end).toISOString(),
      },
    });
  }
  return out;
}

/**
 * Period-end spend at the trailing rate: the last 24 hours, or the period so far while it is younger
 * than a day. Null at the very start or end of the period. Exact integer nano-USD.
 */
export function projectPeriodEnd(
  periodStart: string,
  nowMs: number,
  cost: bigint,
  last24h: bigint,
): { projected: bigint; perDay: bigint; elapsed: bigint; end: number } | null {
  const start = dayStartMs(periodStart);
  const end = billingPeriodEndMs(periodStart);
  const elapsed = BigInt(Math.max(0, nowMs - start));
  const remaining = BigInt(Math.max(0, end - nowMs));
  if (elapsed === 0n || remaining === 0n) return null;
  const perDay = elapsed < BigInt(DAY_MS) ? (cost * BigInt(DAY_MS)) / elapsed : last24h;
  return { projected: cost + (perDay * remaining) / BigInt(DAY_MS), perDay, elapsed, end };
}

function whaleFindings(s: CustomerSnapshot, r: RuleSettings): Finding[] {
  const w = r.whale;
  const cost = s.period.cost;
  if (!w.enabled || cost < w.min_nanos) return [];
  const out: Finding[] = [];
  const revenue = BigInt(s.meta.plan_revenue_nanos);
  const base = {
    rule: 'whale',
    subject: subjectOf(s),
    period: s.meta.billing_period_start,
    state: 'active',
    resolvable: false,
  } as const;
  if (revenue > 0n && s.meta.plan_currency === 'USD') {
    for (const m of w.multiples) {
      if (!atLeast(cost, m, revenue)) continue;
      out.push({
        ...base,
        threshold: `${decimalText(m)}x`,
        severity: compareDecimal(m, whole(5)) >= 0 ? 'critical' : 'warning',
        summary: `${label(s)} costs ${ratioText(cost, revenue)}× what its ${s.meta.plan_kind} plan earns: ${formatUsd(cost)} of compute on ${formatUsd(revenue)} this billing period (${decimalText(m)}× threshold).`,
        numbers: money(cost, revenue, 'billing_period'),
      });
    }
  }
  const median = s.planMedian;
  if (w.median_multiple && median && median.customers >= w.median_min_customers && median.median > 0n) {
    if (atLeast(cost, w.median_multiple, median.median)) {
      const k = decimalText(w.median_multiple);
      out.push({
        ...base,
        threshold: `${k}x-median`,
        severity: 'warning',
        summary: `${label(s)} costs ${formatUsd(cost)} this billing period, ${ratioText(cost, median.median)}× the median ${s.meta.plan_kind} customer (${formatUsd(median.median)} over ${median.customers} customers; ${k}× threshold).`,
        numbers: {
          ...money(cost, median.median, 'billing_period'),
          plan_customers: String(median.customers),
        },
      });
    }
  }
  return out;
}

function spikeFindings(s: CustomerSnapshot, r: RuleSettings): Finding[] {
  const k = r.spike;
  if (!k.enabled) return [];
  const hour = s.windows.h1;
  const before = s.windows.h24 - hour;
  // No spend in the 23 hours before: no baseline to call this hour a spike against. A spike alert
  // still firing stays (and is watched) while the customer spends, and clears once it stops.
  if (before <= 0n) {
    return [
      {
        rule: 'spike',
        subject: subjectOf(s),
        threshold: `${decimalText(k.multiple)}x`,
        period: utcDay(s.nowMs),
        severity: 'warning',
        state: hour === 0n ? 'clear' : 'hold',
        resolvable: true,
        summary: `${label(s)} has spent nothing in the last hour; the spike is over.`,
        numbers: { ...money(hour, 0n, '1h', null), baseline_hour: '0' },
      },
    ];
  }
  const h = BigInt(100 - k.hysteresis_percent);
  const above = atLeast(hour * 23n, k.multiple, before);
  const active = above && hour >= k.min_nanos;
  const clear = !atLeast(hour * 23n * 100n, k.multiple, before * h) || hour * 100n < k.min_nanos * h;
  const baseline = before / 23n;
  const mult = decimalText(k.multiple);
  return [
    {
      rule: 'spike',
      subject: subjectOf(s),
      threshold: `${mult}x`,
      period: utcDay(s.nowMs),
      severity: 'warning',
      state: active ? 'active' : clear ? 'clear' : 'hold',
      resolvable: true,
      summary: active
        ? `${label(s)} spent ${formatUsd(hour)} in the last hour, ${ratioText(hour, baseline)}× its average hour of ${formatUsd(baseline)} over the 23 before (${mult}× threshold).`
        : `${label(s)}'s last hour (${formatUsd(hour)}) is back near its average hour of ${formatUsd(baseline)}.`,
      numbers: { ...money(hour, baseline, '1h'), baseline_hour: baseline.toString() },
    },
  ];
}

function unmappedFindings(s: CustomerSnapshot, r: RuleSettings): Finding[] {
  if (!r.unmapped_customer.enabled || !s.meta.unmapped || s.day.events === 0) return [];
  return [
    {
      rule: 'unmapped_customer',
      subject: subjectOf(s),
      threshold: 'unmapped',
      period: utcDay(s.nowMs),
      severity: 'info',
      state: 'active',
      resolvable: false,
      summary: `Events arrive for customer_ref ${s.meta.customer_ref}, which maps to no customer: ${plural(s.day.events, 'event')} today (${formatUsd(s.day.cost)}), attributed to ${s.meta.customer_id}. Publish a customer record for it.`,
      numbers: {
        value: String(s.day.events),
        limit: '0',
        unit: 'events',
        ratio: null,
        window: 'day',
        cost: s.day.cost.toString(),
      },
    },
  ];
}

/**
 * A workflow run past any of its caps — cost, steps, retries, depth — is one alert ("this run is out
 * of control"), whichever cap it crossed first; the summary names every cap it is past.
 */
export function evaluateRun(run: RunSnapshot, r: RuleSettings): Finding[] {
  const k = r.runaway;
  if (!k.enabled) return [];
  const caps: Array<[string, bigint | number, bigint | number, AlertNumbers['unit']]> = [
    ['cost', run.cost, k.max_cost_nanos, 'usd_nanos'],
    ['steps', run.steps, k.max_steps, 'steps'],
    ['retries', run.retries, k.max_retries, 'retries'],
    ['depth', run.maxDepth, k.max_depth, 'depth'],
  ];
  const past = caps.filter(([, value, cap]) => value > cap);
  if (past.length === 0) return [];
  const show = (unit: AlertNumbers['unit'], n: bigint | number) =>
    unit === 'usd_nanos' ? formatUsd(BigInt(n)) : String(n);
  const [, value, cap, unit] = past[0]!;
  const what = `Run ${run.runId}${run.workflow ? ` of ${run.workflow}` : ''} (customer ${run.customer})`;
  const facts = `${formatUsd(run.cost)}, ${run.steps} steps, ${run.retries} retries, depth ${run.maxDepth}, running ${Math.round((run.lastSeenMs - run.firstSeenMs) / 1000)} s`;
  return [
    {
      rule: 'runaway',
      subject: `run:${run.runId}`,
      threshold: 'caps',
      period: 'run',
      severity: 'critical',
      state: 'active',
      resolvable: false,
      summary: `${what} is past its ${past.map(([kind, , c, u]) => `${kind} cap (${show(u, c)})`).join(', ')}: ${facts}. An agent loop may be out of control.`,
      numbers: {
        value: String(value),
        limit: String(cap),
        unit,
        ratio: null,
        window: 'run',
        caps_exceeded: past.map(([kind]) => kind).join(','),
        cost: run.cost.toString(),
        steps: String(run.steps),
        retries: String(run.retries),
        depth: String(run.maxDepth),
      },
    },
  ];
}

/** A model that no price covered today. */
export function evaluateUnpriced(u: UnpricedSnapshot, r: RuleSettings): Finding[] {
  if (!r.unpriced_model.enabled || u.events === 0) return [];
  return [
    {
      rule: 'unpriced_model',
      subject: `model:${u.model}`,
      threshold: 'unpriced',
      period: u.day,
      severity: 'warning',
      state: 'active',
      resolvable: false,
      summary: `Model ${u.model} has no price: ${plural(u.events, 'event')} (${u.tokens} tokens) on ${u.day} ${u.events === 1 ? 'is' : 'are'} stored as unpriced, not as $0. Add it to the price catalog, then re-price the period.`,
      numbers: {
        value: String(u.events),
        limit: '0',
        unit: 'events',
        ratio: null,
        window: 'day',
        tokens: u.tokens.toString(),
      },
    },
  ];
}
