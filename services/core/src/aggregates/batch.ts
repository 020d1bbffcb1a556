import {
  billingPeriodEndMs,
  bucketStartSeconds,
  DAY_MS,
  inWindow,
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

const subjectKey = (s: Subject) => `${s.dimension}\u0000${s.customer}\u0000${s.value}`;
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

  constructor(readonly nowMs: number) {}

  addRow(row: UsageRow): void {
    this.rows++;
    const slots: Slot[] = [];
    for (const window of WINDOW_NAMES) {
      if (inWindow(window, row.occurred_at, this.nowMs)) {
        slots.push({ kind: 'window', window, start: bucketStartSeconds(window, row.occurred_at) });
      }
    }
    const day = utcDay(row.occurred_at);
    if (dayIsOpen(day, this.nowMs)) slots.push({ kind: 'day', day });
    if (periodIsOpen(row.billing_period_start, this.nowMs)) {
      slots.push({ kind: 'period', start: row.billing_period_start });
    }
    const totals = { cost: row.cost_nanos, tokens: row.tokens, events: 1 };
    const group = {
      customer: row.customer_id,
      workflow: row.workflow,
      feature: row.feature,
      model: row.model,
    };
    for (const slot of slots) this.addGroup(group, slot, totals);
    if (row.workflow_run_id && row.occurred_at >= this.nowMs - RUN_HORIZON_MS) this.addRun(runOf(row));
    this.noteCustomer(row);
    if (row.unpriced && dayIsOpen(day, this.nowMs))
      this.addUnpriced({ day, model: row.model, events: 1, tokens: row.tokens });
  }

  /** Adds the totals of one (customer, workflow, feature, model) group to the four subjects it feeds. */
  addGroup(g: UsageGroup, slot: Slot, totals: Totals): void {
    this.add({ dimension: 'customer', customer: g.customer, value: '' }, slot, totals);
    this.add({ dimension: 'workflow', customer: g.customer, value: g.workflow }, slot, totals);
    this.add({ dimension: 'feature', customer: g.customer, value: g.feature }, slot, totals);
    this.add({ dimension: 'model', customer: g.customer, value: g.model }, slot, totals);
  }

  add(subject: Subject, slot: Slot, totals: Totals): void {
    const sk = subjectKey(subject);
    let entry = this.subjects.get(sk);
    if (!entry) {
      entry = { subject, slots: new Map() };
      this.subjects.set(sk, entry);
    }
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
  noteCustomer(meta: CustomerMeta | UsageRow): void {
    const m: CustomerMeta =
      'name' in meta
        ? meta
        : {
            customer_id: meta.customer_id,
            customer_ref: meta.customer_ref,
            name: meta.customer_name,
            plan_kind: meta.plan_kind,
            plan_currency: meta.plan_currency,
            plan_revenue_nanos: meta.plan_revenue_nanos,
            monthly_budget_nanos: meta.monthly_budget_nanos,
            billing_period_start: meta.billing_period_start,
            unmapped: meta.unmapped,
          };
    const current = this.customers.get(m.customer_id);
    if (!current || m.billing_period_start >= current.billing_period_start) {
      this.customers.set(m.customer_id, m);
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
