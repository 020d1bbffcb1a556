import {
  billingPeriodEndMs,
  bucketStartSeconds,
  DAY_MS,
  oldestBucketSeconds,
  RUN_HORIZON_MS,
  utcDay,
  WINDOW_NAMES,
  type WindowName,
} from '../windows/windows.js';
import type { UsageRow } from './usage-row.js';

/** Integer nano-USD or token counts: a number while it is a safe integer, a BigInt beyond. */
export type Exact = number | bigint;

/** a + b, exactly: both are exact, so falling back to BigInt when the float sum is unsafe loses nothing. */
export function addExact(a: Exact, b: Exact): Exact {
  if (typeof a === 'number' && typeof b === 'number') {
    const sum = a + b;
    if (Number.isSafeInteger(sum)) return sum;
  }
  return BigInt(a) + BigInt(b);
}

/** What the aggregates are kept per: a customer, or one of its workflows, features or models. */
export type Dimension = 'customer' | 'workflow' | 'feature' | 'model';
export const DIMENSIONS: readonly Dimension[] = ['customer', 'workflow', 'feature', 'model'];

export interface Subject {
  dimension: Dimension;
  customer: string;
  /** The workflow, feature or `provider/model`; '' for the customer itself (and for "none"). */
  value: string;
}

/** The attribution of a usage row (or of a group of rows summed elsewhere, e.g. by ClickHouse). */
export interface UsageGroup {
  customer: string;
  workflow: string;
  feature: string;
  /** `provider/model`. */
  model: string;
}

/** Where an amount is added: a time bucket of a rolling window, a UTC day, or a billing period. */
export type Slot =
  | { kind: 'window'; window: WindowName; start: number }
  | { kind: 'day'; day: string }
  | { kind: 'period'; start: string };

export interface Totals {
  cost: Exact;
  tokens: Exact;
  events: number;
}

export interface SlotTotals {
  slot: Slot;
  totals: Totals;
}

export interface SubjectTotals {
  subject: Subject;
  slots: Map<string, SlotTotals>;
}

/** One agent/workflow run: how much it cost and how it behaved. */
export interface RunTotals {
  runId: string;
  customer: string;
  workflow: string;
  cost: Exact;
  tokens: Exact;
  steps: number;
  /** Steps that were a retry (attempt > 1). */
  retries: number;
  maxDepth: number;
  firstSeenMs: number;
  lastSeenMs: number;
}

/** What the latest row says about a customer: its plan, budget and current billing period. */
export interface CustomerMeta {
  customer_id: string;
  customer_ref: string;
  name: string;
  plan_kind: string;
  plan_currency: string;
  plan_revenue_nanos: string;
  monthly_budget_nanos: string;
  billing_period_start: string;
  unmapped: boolean;
}

/** Events of one model that no price covered, per UTC day. */
export interface UnpricedTotals {
  day: string;
  model: string;
  events: number;
  tokens: Exact;
}

/** A billing period still worth keeping: the current one, or one that closed less than a week ago. */
export function periodIsOpen(periodStart: string, nowMs: number): boolean {
  return billingPeriodEndMs(periodStart) > nowMs - 7 * DAY_MS;
}

/** A UTC day still worth keeping: today or yesterday. */
export function dayIsOpen(day: string, nowMs: number): boolean {
  return day >= utcDay(nowMs - DAY_MS);
}

const slotKey = (s: Slot) =>
  s.kind === 'window' ? `${s.window}:${s.start}` : s.kind === 'day' ? `d:${s.day}` : `p:${s.start}`;

/**
 * Sums a batch of usage rows into per-subject, per-slot totals, runs, customer plans and unpriced
 * models — the increments one atomic Redis update applies. Pure: `nowMs` decides which windows, days
 * and periods are still open, so rows too old for a window add nothing to it.
 */
export class BatchAggregate {
  readonly subjects = new Map<string, SubjectTotals>();
  readonly runs = new Map<string, RunTotals>();
  readonly customers = new Map<string, CustomerMeta>();
  readonly unpriced = new Map<string, UnpricedTotals>();
  rows = 0;
  private readonly yesterday: string;
  /** Per batch, one answer per billing period and one Slot object per slot key: fewer allocations. */
  private readonly openPeriods = new Map<string, boolean>();
  private readonly slotCache = new Map<string, Slot>();
  private readonly windowFrom: Record<WindowName, number>;

  constructor(readonly nowMs: number) {
    this.yesterday = utcDay(nowMs - DAY_MS);
    this.windowFrom = Object.fromEntries(
      WINDOW_NAMES.map((w) => [w, oldestBucketSeconds(w, nowMs)]),
    ) as Record<WindowName, number>;
  }

  /** Adds one usage row everywhere it counts. Runs for every event: it allocates only what is new. */
  addRow(row: UsageRow): void {
    this.rows++;
    const slots: Slot[] = [];
    const keys: string[] = [];
    for (const window of WINDOW_NAMES) {
      const start = bucketStartSeconds(window, row.occurred_at);
      if (start >= this.windowFrom[window])
        this.pushSlot(slots, keys, `${window}:${start}`, () => ({ kind: 'window', window, start }));
    }
    const day = utcDay(row.occurred_at);
    if (day >= this.yesterday) this.pushSlot(slots, keys, `d:${day}`, () => ({ kind: 'day', day }));
    const period = row.billing_period_start;
    let open = this.openPeriods.get(period);
    if (open === undefined) {
      open = periodIsOpen(period, this.nowMs);
      this.openPeriods.set(period, open);
    }
    if (open) this.pushSlot(slots, keys, `p:${period}`, () => ({ kind: 'period', start: period }));
    const c = row.customer_id;
    this.addSlots('customer', c, '', slots, keys, row.cost_nanos, row.tokens);
    this.addSlots('workflow', c, row.workflow, slots, keys, row.cost_nanos, row.tokens);
    this.addSlots('feature', c, row.feature, slots, keys, row.cost_nanos, row.tokens);
    this.addSlots('model', c, row.model, slots, keys, row.cost_nanos, row.tokens);
    if (row.workflow_run_id && row.occurred_at >= this.nowMs - RUN_HORIZON_MS) this.addRowToRun(row);
    this.noteCustomerOf(row);
    if (row.unpriced && day >= this.yesterday) {
      this.addUnpriced({ day, model: row.model, events: 1, tokens: row.tokens });
    }
  }

  /** Adds the totals of one (customer, workflow, feature, model) group to the four subjects it feeds. */
  addGroup(g: UsageGroup, slot: Slot, totals: Totals): void {
    this.add({ dimension: 'customer', customer: g.customer, value: '' }, slot, totals);
    this.add({ dimension: 'workflow', customer: g.customer, value: g.workflow }, slot, totals);
    this.add({ dimension: 'feature', customer: g.customer, value: g.feature }, slot, totals);
    this.add({ dimension: 'model', customer: g.customer, value: g.model }, slot, totals);
  }

  add(subject: Subject, slot: Slot, totals: Totals): void {
    const entry = this.entryOf(subject.dimension, subject.customer, subject.value);
    const key = slotKey(slot);
    const current = entry.slots.get(key);
    if (!current) {
      entry.slots.set(key, { slot, totals: { ...totals } });
      return;
    }
    current.totals.cost = addExact(current.totals.cost, totals.cost);
    current.totals.tokens = addExact(current.totals.tokens, totals.tokens);
    current.totals.events += totals.events;
  }

  addRun(run: RunTotals): void {
    const current = this.runs.get(run.runId);
    if (!current) {
      this.runs.set(run.runId, { ...run });
      return;
    }
    current.cost = addExact(current.cost, run.cost);
    current.tokens = addExact(current.tokens, run.tokens);
    current.steps += run.steps;
    current.retries += run.retries;
    current.maxDepth = Math.max(current.maxDepth, run.maxDepth);
    current.firstSeenMs = Math.min(current.firstSeenMs, run.firstSeenMs);
    current.lastSeenMs = Math.max(current.lastSeenMs, run.lastSeenMs);
  }

  addUnpriced(u: UnpricedTotals): void {
    const key = `${u.day}\u0000${u.model}`;
    const current = this.unpriced.get(key);
    if (!current) this.unpriced.set(key, { ...u });
    else {
      current.events += u.events;
      current.tokens = addExact(current.tokens, u.tokens);
    }
  }

  /** Keeps the plan of the latest billing period seen (later rows win within a period). */
  noteCustomer(m: CustomerMeta): void {
    const current = this.customers.get(m.customer_id);
    if (!current || m.billing_period_start >= current.billing_period_start)
      this.customers.set(m.customer_id, m);
  }

  private noteCustomerOf(row: UsageRow): void {
    const current = this.customers.get(row.customer_id);
    if (current && row.billing_period_start < current.billing_period_start) return;
    if (current && current.billing_period_start === row.billing_period_start) {
      // The same period: later rows win, but nothing needs allocating unless something changed.
      if (
        current.plan_revenue_nanos === row.plan_revenue_nanos &&
        current.monthly_budget_nanos === row.monthly_budget_nanos &&
        current.plan_kind === row.plan_kind &&
        current.name === row.customer_name &&
        current.plan_currency === row.plan_currency &&
        current.customer_ref === row.customer_ref &&
        current.unmapped === row.unmapped
      ) {
        return;
      }
    }
    this.customers.set(row.customer_id, {
      customer_id: row.customer_id,
      customer_ref: row.customer_ref,
      name: row.customer_name,
      plan_kind: row.plan_kind,
      plan_currency: row.plan_currency,
      plan_revenue_nanos: row.plan_revenue_nanos,
      monthly_budget_nanos: row.monthly_budget_nanos,
      billing_period_start: row.billing_period_start,
      unmapped: row.unmapped,
    });
  }

  private addRowToRun(row: UsageRow): void {
    const current = this.runs.get(row.workflow_run_id!);
    if (!current) {
      this.runs.set(row.workflow_run_id!, runOf(row));
      return;
    }
    current.cost = addExact(current.cost, row.cost_nanos);
    current.tokens = addExact(current.tokens, row.tokens);
    current.steps += 1;
    if (row.attempt > 1) current.retries += 1;
    if (row.depth > current.maxDepth) current.maxDepth = row.depth;
    if (row.occurred_at < current.firstSeenMs) current.firstSeenMs = row.occurred_at;
    if (row.occurred_at > current.lastSeenMs) current.lastSeenMs = row.occurred_at;
  }

  private pushSlot(slots: Slot[], keys: string[], key: string, make: () => Slot): void {
    let slot = this.slotCache.get(key);
    if (!slot) {
      slot = make();
      this.slotCache.set(key, slot);
    }
    slots.push(slot);
    keys.push(key);
  }

  private entryOf(dimension: Dimension, customer: string, value: string): SubjectTotals {
    const sk = `${dimension}\u0000${customer}\u0000${value}`;
    let entry = this.subjects.get(sk);
    if (!entry) {
      entry = { subject: { dimension, customer, value }, slots: new Map() };
      this.subjects.set(sk, entry);
    }
    return entry;
  }

  /** One event's cost and tokens into each of `slots` of a subject. */
  private addSlots(
    dimension: Dimension,
    customer: string,
    value: string,
    slots: Slot[],
    keys: string[],
    cost: number,
    tokens: number,
  ): void {
    const entry = this.entryOf(dimension, customer, value);
    for (let i = 0; i < slots.length; i++) {
      const current = entry.slots.get(keys[i]!);
      if (!current) {
        entry.slots.set(keys[i]!, { slot: slots[i]!, totals: { cost, tokens, events: 1 } });
        continue;
      }
      const t = current.totals;
      t.cost = addExact(t.cost, cost);
      t.tokens = addExact(t.tokens, tokens);
      t.events += 1;
    }
  }
}

function runOf(row: UsageRow): RunTotals {
  return {
    runId: row.workflow_run_id!,
    customer: row.customer_id,
    workflow: row.workflow,
    cost: row.cost_nanos,
    tokens: row.tokens,
    steps: 1,
    retries: row.attempt > 1 ? 1 : 0,
    maxDepth: row.depth,
    firstSeenMs: row.occurred_at,
    lastSeenMs: row.occurred_at,
  };
}
