import { ENRICHED_EVENT_COLUMNS, type EnrichedEventColumn } from '../enrich/columns.js';
import { ValidationError } from '../errors.js';

/** What the rolling aggregates need of one usage.enriched row. Money is integer nano-USD. */
export interface UsageRow {
  customer_id: string;
  customer_ref: string;
  customer_name: string;
  plan_kind: string;
  plan_currency: string;
  /** Decimal text (may pass 2^53). */
  plan_revenue_nanos: string;
  /** Decimal text; '0' when the customer has no budget. */
  monthly_budget_nanos: string;
  /** YYYY-MM-DD. */
  billing_period_start: string;
  unmapped: boolean;
  unpriced: boolean;
  occurred_at: number;
  workflow: string;
  workflow_run_id: string | null;
  feature: string;
  /** `provider/model`. */
  model: string;
  depth: number;
  attempt: number;
  cost_nanos: number;
  /** All five exclusive token buckets together. */
  tokens: number;
}

const at = (name: EnrichedEventColumn) => ENRICHED_EVENT_COLUMNS.indexOf(name);
const I = {
  customer_id: at('customer_id'),
  customer_ref: at('customer_ref'),
  customer_name: at('customer_name'),
  plan_kind: at('plan_kind'),
  plan_currency: at('plan_currency'),
  plan_revenue_nanos: at('plan_revenue_nanos'),
  monthly_budget_nanos: at('monthly_budget_nanos'),
  billing_period_start: at('billing_period_start'),
  unmapped: at('unmapped'),
  unpriced: at('unpriced'),
  occurred_at: at('occurred_at'),
  workflow: at('workflow'),
  workflow_run_id: at('workflow_run_id'),
  feature: at('feature'),
  provider: at('provider'),
  model: at('model'),
  depth: at('depth'),
  attempt: at('attempt'),
  cost_total_nanos: at('cost_total_nanos'),
  tokens: [
    at('tokens_input'),
    at('tokens_cached_input'),
    at('tokens_cache_write'),
    at('tokens_output'),
    at('tokens_reasoning'),
  ],
};

function text(values: unknown[], index: number, name: string, nullable = false): string {
  const v = values[index];
  if (typeof v === 'string') return v;
  if (nullable && v === null) return '';
  throw new ValidationError(name, `${name} must be a string in a usage.enriched row.`);
}

function count(values: unknown[], index: number, name: string): number {
  const v = values[index];
  if (Number.isSafeInteger(v) && (v as number) >= 0) return v as number;
  throw new ValidationError(name, `${name} must be a non-negative safe integer in a usage.enriched row.`);
}

function decimal(values: unknown[], index: number, name: string): string {
  const v = values[index];
  if (typeof v === 'string' && /^-?\d{1,20}$/.test(v)) return v;
  if (Number.isSafeInteger(v)) return String(v);
  throw new ValidationError(name, `${name} must be an integer in a usage.enriched row.`);
}

/**
 * Reads one usage.enriched row (a JSON array in ENRICHED_EVENT_COLUMNS order) for the aggregates.
 * @throws ValidationError naming the column when the row is not what the enricher writes.
 */
export function parseUsageRow(json: string): UsageRow {
  let values: unknown;
  try {
    values = JSON.parse(json);
  } catch {
    throw new ValidationError('row', 'A usage.enriched row is not valid JSON.');
  }
  if (!Array.isArray(values) || values.length < ENRICHED_EVENT_COLUMNS.length) {
    throw new ValidationError('row', 'A usage.enriched row must be a JSON array of every enriched column.');
  }
  let tokens = 0;
  for (const i of I.tokens) tokens += count(values, i, ENRICHED_EVENT_COLUMNS[i]!);
  const period = text(values, I.billing_period_start, 'billing_period_start');
  if (!/^\d{4}-\d{2}-\d{2}$/.test(period)) {
    throw new ValidationError('billing_period_start', 'billing_period_start must be YYYY-MM-DD.');
  }
  return {
    customer_id: text(values, I.customer_id, 'customer_id'),
    customer_ref: text(values, I.customer_ref, 'customer_ref'),
    customer_name: text(values, I.customer_name, 'customer_name'),
    plan_kind: text(values, I.plan_kind, 'plan_kind'),
    plan_currency: text(values, I.plan_currency, 'plan_currency'),
    plan_revenue_nanos: decimal(values, I.plan_revenue_nanos, 'plan_revenue_nanos'),
    monthly_budget_nanos: decimal(values, I.monthly_budget_nanos, 'monthly_budget_nanos'),
    billing_period_start: period,
    unmapped: values[I.unmapped] === 1,
    unpriced: values[I.unpriced] === 1,
    occurred_at: count(values, I.occurred_at, 'occurred_at'),
    workflow: text(values, I.workflow, 'workflow', true),
    workflow_run_id: (values[I.workflow_run_id] as string | null) || null,
    feature: text(values, I.feature, 'feature', true),
    model: `${text(values, I.provider, 'provider')}/${text(values, I.model, 'model')}`,
    depth: count(values, I.depth, 'depth'),
    attempt: count(values, I.attempt, 'attempt'),
    cost_nanos: count(values, I.cost_total_nanos, 'cost_total_nanos'),
    tokens,
  };
}
