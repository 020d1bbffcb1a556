import type { EventStatus, StepKind } from '../contract/usage-event.js';
import type { PlanKind } from '../customers/types.js';

/**
 * One row of `usage.enriched` and of the ClickHouse fact table `burnrate.usage_events`, with the
 * same names in both. Flags are 0/1 integers (ClickHouse UInt8); money is integer nano-USD.
 */
export interface EnrichedEvent {
  event_id: string;
  /** Epoch ms of the model call. */
  occurred_at: number;
  /** Epoch ms the enricher read the event. */
  ingested_at: number;
  service: string;
  customer_ref: string;
  customer_id: string;
  customer_name: string;
  team: string;
  /** '' when unmapped. */
  plan_kind: PlanKind | '';
  unmapped: 0 | 1;
  user_ref: string | null;
  workflow: string | null;
  workflow_run_id: string | null;
  step_id: string | null;
  parent_step_id: string | null;
  step_kind: StepKind;
  depth: number;
  attempt: number;
  feature: string | null;
  provider: string;
  model: string;
  tokens_input: number;
  tokens_cached_input: number;
  tokens_cache_write: number;
  tokens_output: number;
  tokens_reasoning: number;
  requests: number;
  units_images: number;
  units_audio_ms: number;
  units_web_search_calls: number;
  latency_ms: number | null;
  status: EventStatus;
  provider_reported_cost_nanos: number | null;
  quality_score: number | null;
  /** Keys sorted, so equal events give byte-identical rows. */
  tags: Record<string, string>;
  cost_input_nanos: number;
  cost_cached_input_nanos: number;
  cost_cache_write_nanos: number;
  cost_output_nanos: number;
  cost_reasoning_nanos: number;
  cost_request_nanos: number;
  /** Images + audio + web search fees. */
  cost_units_nanos: number;
  cost_total_nanos: number;
  /** '' when unpriced. */
  price_version: string;
  /** 1 when no price applied, or when the event used units the price has no fee for. */
  unpriced: 0 | 1;
  byok: 0 | 1;
  source_topic: string;
  source_partition: number;
  /** Kafka offsets are 64-bit; kept as decimal text (ClickHouse UInt64 reads it from JSON). */
  source_offset: string;
  /** ISO 4217 code of the plan's revenue; '' when unmapped. */
  plan_currency: string;
  /** What the plan earns per billing period, integer nano-units of plan_currency as decimal text. */
  plan_revenue_nanos: string;
  /** The customer's monthly budget in nano-USD as decimal text; '0' when none. */
  monthly_budget_nanos: string;
  /** First day (YYYY-MM-DD, UTC) of the customer's billing period containing occurred_at. */
  billing_period_start: string;
}

/** The columns of EnrichedEvent in table order — the ClickHouse adapter's insert column list. */
export const ENRICHED_EVENT_COLUMNS = [
  'event_id',
  'occurred_at',
  'ingested_at',
  'service',
  'customer_ref',
  'customer_id',
  'customer_name',
  'team',
  'plan_kind',
  'unmapped',
  'user_ref',
  'workflow',
  'workflow_run_id',
  'step_id',
  'parent_step_id',
  'step_kind',
  'depth',
  'attempt',
  'feature',
  'provider',
  'model',
  'tokens_input',
  'tokens_cached_input',
  'tokens_cache_write',
  'tokens_output',
  'tokens_reasoning',
  'requests',
  'units_images',
  'units_audio_ms',
  'units_web_search_calls',
  'latency_ms',
  'status',
  'provider_reported_cost_nanos',
  'quality_score',
  'tags',
  'cost_input_nanos',
  'cost_cached_input_nanos',
  'cost_cache_write_nanos',
  'cost_output_nanos',
  'cost_reasoning_nanos',
  'cost_request_nanos',
  'cost_units_nanos',
  'cost_total_nanos',
  'price_version',
  'unpriced',
  'byok',
  'source_topic',
  'source_partition',
  'source_offset',
  'plan_currency',
  'plan_revenue_nanos',
  'monthly_budget_nanos',
  'billing_period_start',
] as const satisfies readonly (keyof EnrichedEvent)[];

export type EnrichedEventColumn = (typeof ENRICHED_EVENT_COLUMNS)[number];

// Fails to compile if EnrichedEvent gains a field the column list lacks.
type MissingColumns = Exclude<keyof EnrichedEvent, EnrichedEventColumn>;
const everyFieldHasAColumn: [MissingColumns] extends [never] ? true : MissingColumns = true;
void everyFieldHasAColumn;

/**
 * The values of `e` in ENRICHED_EVENT_COLUMNS order (a test keeps the two in step). Written out
 * rather than looped over the column names: this runs for every event, and 53 monomorphic loads
 * into one array literal cost a fraction of 53 keyed lookups.
 */
export function enrichedEventValues(e: EnrichedEvent): unknown[] {
  return [
    e.event_id,
    e.occurred_at,
    e.ingested_at,
    e.service,
    e.customer_ref,
    e.customer_id,
    e.customer_name,
    e.team,
    e.plan_kind,
    e.unmapped,
    e.user_ref,
    e.workflow,
    e.workflow_run_id,
    e.step_id,
    e.parent_step_id,
    e.step_kind,
    e.depth,
    e.attempt,
    e.feature,
    e.provider,
    e.model,
    e.tokens_input,
    e.tokens_cached_input,
    e.tokens_cache_write,
    e.tokens_output,
    e.tokens_reasoning,
    e.requests,
    e.units_images,
    e.units_audio_ms,
    e.units_web_search_calls,
    e.latency_ms,
    e.status,
    e.provider_reported_cost_nanos,
    e.quality_score,
    e.tags,
    e.cost_input_nanos,
    e.cost_cached_input_nanos,
    e.cost_cache_write_nanos,
    e.cost_output_nanos,
    e.cost_reasoning_nanos,
    e.cost_request_nanos,
    e.cost_units_nanos,
    e.cost_total_nanos,
    e.price_version,
    e.unpriced,
    e.byok,
    e.source_topic,
    e.source_partition,
    e.source_offset,
    e.plan_currency,
    e.plan_revenue_nanos,
    e.monthly_budget_nanos,
    e.billing_period_start,
  ];
}
