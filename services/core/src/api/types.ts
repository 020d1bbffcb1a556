/**
 * The JSON bodies of burnrate's HTTP API (the `api` role): what services, agents and the client
 * library's budget helpers read. Money is integer nano-USD as a decimal string (exact past 2^53),
 * with a USD rendering beside it for people.
 */

/** An amount of money: `nanos` is exact; `usd` is the same amount for display ("12.345000001"). */
export interface Money {
  nanos: string;
  usd: string;
}

/** The guardrail's verdict on the next step or run. */
export type BudgetDecision = 'allow' | 'warn' | 'deny';

/** Why the decision is what it is; `code` is stable, `message` one sentence for people. */
export interface DecisionReason {
  code:
    | 'budget_warn'
    | 'budget_exhausted'
    | 'projected_over_budget'
    | 'forecast_over_remaining'
    | 'run_cost_cap'
    | 'run_step_cap'
    | 'run_retry_cap'
    | 'run_depth_cap'
    | 'no_budget'
    | 'aggregates_unavailable';
  message: string;
}

/** Effort classes by prompt size (input + cached input + cache writes, in tokens). See effort.ts. */
export const EFFORT_CLASSES = ['xs', 's', 'm', 'l', 'xl', 'xxl'] as const;
export type EffortClass = (typeof EFFORT_CLASSES)[number];

/** p50, p90 and p99 of one quantity. */
export interface Quantiles<T> {
  p50: T;
  p90: T;
  p99: T;
}

/** The expected cost and tokens of one run of a workflow, or of one step. */
export interface Forecast {
  scope: 'run' | 'step';
  workflow: string;
  /** Step scope only; null = any. */
  feature: string | null;
  step_kind: string | null;
  model: string | null;
  /** null = every effort class together. */
  effort: EffortClass | null;
  cost: Quantiles<Money>;
  /** Total tokens (all buckets) per run or step. */
  tokens: Quantiles<number>;
  /** Runs or steps the quantiles were computed from. */
  sample: number;
  /** The history they were computed from: [from, to), ISO-8601. */
  window: { from: string; to: string };
  /** When the cache computed them, ISO-8601. */
  computed_at: string;
}

/** GET /v1/forecast. `forecast` is null when there is no history or too little to mean anything. */
export interface ForecastAnswer {
  forecast: Forecast | null;
  /** Set when forecast is null: `no_history`, `sample_too_small` or `not_ready` (first refresh pending). */
  reason?: 'no_history' | 'sample_too_small' | 'not_ready';
  /** With `sample_too_small`: how many there were and how many are needed. */
  sample?: number;
  min_sample?: number;
}

/** A cheaper model for the same workflow with a quality score not meaningfully lower. */
export interface ModelSuggestion {
  model: string;
  instead_of: string;
  cost_per_call: Money;
  instead_of_cost_per_call: Money;
  /** Mean quality_score of the suggested model in this workflow (null: none reported). */
  quality_score: number | null;
  instead_of_quality_score: number | null;
  /** Calls the suggested model's figures come from. */
  calls: number;
}

/** GET /v1/budget. */
export interface BudgetAnswer {
  customer_ref: string;
  customer_id: string;
  /** The billing period: [start, end), ISO dates. */
  period: { start: string; end: string };
  spend: Money;
  /** null: the customer has no monthly budget. */
  budget: Money | null;
  remaining: Money | null;
  /** Period-end spend at the trailing rate; null when too early in the period to say. */
  projected: Money | null;
  /** With `run`: that workflow run so far (zeros when the run has no events yet). */
  run: {
    run_id: string;
    workflow: string | null;
    cost: Money;
    steps: number;
    retries: number;
    depth: number;
  } | null;
  /** With `workflow`: the run forecast the decision used (null: none). */
  forecast: Forecast | null;
  decision: BudgetDecision;
  reasons: DecisionReason[];
  /** With `workflow` (and `model`, or the workflow's most used model): a cheaper model, if one. */
  suggestion: ModelSuggestion | null;
  /** When the numbers were read, ISO-8601. Aggregates trail the events by about a second. */
  as_of: string;
}

/** POST /v1/events: one result per event, in input order. */
export interface IngestResult {
  index: number;
  /** The event_id stored (generated when the event had none — send your own to retry safely). */
  event_id: string | null;
  status: 'accepted' | 'rejected';
  /** With `rejected`: the field at fault (dotted for nested ones) and what to fix. */
  field?: string;
  error?: string;
}

export interface IngestResponse {
  accepted: number;
  rejected: number;
  results: IngestResult[];
}

/** Every non-2xx answer of the API. */
export interface ApiError {
  error: {
    /** Stable code, e.g. `unauthorized`, `forbidden`, `body_too_large`, `invalid_json`. */
    code: string;
    /** One sentence that says what to fix. */
    message: string;
    /** The parameter, header or field at fault, when one is. */
    field?: string;
  };
}
