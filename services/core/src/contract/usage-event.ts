/**
 * The usage event as it travels from a service to the pipeline. Field names are the Avro field
 * names (schemas/usage-event/v*.avsc) and the ClickHouse column names, so no layer renames them.
 *
 * Token counts are EXCLUSIVE buckets: a token is in exactly one of them. `input` excludes cache
 * reads and cache writes; `output` excludes reasoning. Provider adapters in @burnrate/sdk do the
 * conversion from each provider's (often overlapping) counters.
 */
// Symbol order follows the latest schema; new symbols are only ever appended (see docs/event-contract.md).
export const STEP_KINDS = ['llm_call', 'tool_call', 'embedding', 'retry', 'eval', 'other', 'rerank'] as const;
export type StepKind = (typeof STEP_KINDS)[number];

// 'other' is the Avro enum default: an old reader maps a status it does not know to it rather than
// guessing success or failure.
export const EVENT_STATUSES = ['ok', 'error', 'timeout', 'cancelled', 'other'] as const;
export type EventStatus = (typeof EVENT_STATUSES)[number];

export interface TokenUsage {
  /** Input tokens that were neither read from nor written to a prompt cache. */
  input: number;
  /** Input tokens served from the provider's prompt cache (cache read). */
  cached_input: number;
  /** Input tokens written to the provider's prompt cache. */
  cache_write: number;
  /** Output tokens, excluding reasoning tokens. */
  output: number;
  /** Reasoning ("thinking") output tokens. */
  reasoning: number;
}

export interface BillableUnits {
  images: number;
  /** Audio duration in milliseconds (integer, so money stays exact). */
  audio_ms: number;
  web_search_calls: number;
}

export interface UsageEvent {
  /** UUID made once by the client; the idempotency key everywhere downstream. */
  event_id: string;
  /** When the model call happened, epoch milliseconds (UTC). */
  occurred_at: number;
  service: string;
  customer_ref: string;
  user_ref: string | null;
  workflow: string | null;
  workflow_run_id: string | null;
  step_id: string | null;
  parent_step_id: string | null;
  step_kind: StepKind;
  /** 0 for a root step, parent depth + 1 otherwise. */
  depth: number;
  /** 1 for the first try of a step, 2 for the first retry, and so on. */
  attempt: number;
  feature: string | null;
  provider: string;
  model: string;
  tokens: TokenUsage;
  requests: number;
  units: BillableUnits;
  latency_ms: number | null;
  status: EventStatus;
  /** What the provider itself said the call cost, in nano-USD, when it says so. */
  provider_reported_cost_nanos: number | null;
  /** Optional quality score in [0, 1] for cost-versus-accuracy views. */
  quality_score: number | null;
  tags: Record<string, string>;
  /** Deployment environment of the emitting service, e.g. production (schema v2). */
  environment?: string | null;
  /** The provider's own id for the API request, for reconciliation (schema v2). */
  request_id?: string | null;
}
