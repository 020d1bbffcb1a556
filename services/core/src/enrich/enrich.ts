import type { UsageEvent } from '../contract/usage-event.js';
import { billingPeriodStart } from '../customers/billing-period.js';
import type { CustomerDirectory } from '../customers/table.js';
import { ValidationError } from '../errors.js';
import type { PriceCatalog } from '../pricing/catalog.js';
import { type CostBreakdown, computeCost } from '../pricing/cost.js';
import type { PriceOverrides } from '../pricing/overrides.js';
import { resolvePrice } from '../pricing/resolve.js';
import type { EnrichedEvent } from './columns.js';

/** The versions of reference data an event is enriched against. */
export interface ReferenceData {
  prices: PriceCatalog;
  customers: CustomerDirectory;
  overrides: PriceOverrides;
}

/** Where the event was read from, recorded on the fact for audits and replays. */
export interface SourceMeta {
  topic: string;
  partition: number;
  /** Kafka offset as decimal text (KafkaJS gives strings; offsets are 64-bit). */
  offset: string;
  ingestedAtMs: number;
}

const NO_COST: CostBreakdown = {
  input_nanos: 0,
  cached_input_nanos: 0,
  cache_write_nanos: 0,
  output_nanos: 0,
  reasoning_nanos: 0,
  request_nanos: 0,
  images_nanos: 0,
  audio_nanos: 0,
  web_search_nanos: 0,
  units_nanos: 0,
  total_nanos: 0,
  tier_above_input_tokens: null,
  unpriced_units: [],
};

function sortedTags(tags: Record<string, string>): Record<string, string> {
  const sorted: Record<string, string> = {};
  for (const key of Object.keys(tags).sort()) sorted[key] = tags[key]!;
  return sorted;
}

/**
 * Attributes and prices one usage event: a pure function of the event, the reference data and the
 * source position, so a replay against the same reference versions yields identical rows.
 * Unknown customers are attributed to `unmapped:<ref>`; unknown models are kept with zero cost,
 * `unpriced = 1` and an empty price_version — never booked as a real $0.
 * @throws ValidationError for counts computeCost refuses or malformed source metadata;
 *   BurnrateError `money_overflow` for a cost beyond 2^53 nano-USD. The caller dead-letters these.
 */
export function enrichEvent(event: UsageEvent, ref: ReferenceData, meta: SourceMeta): EnrichedEvent {
  if (!/^\d{1,20}$/.test(meta.offset)) {
    throw new ValidationError(
      'source_offset',
      `source_offset must be a non-negative integer string, got "${meta.offset}".`,
    );
  }
  if (!Number.isSafeInteger(meta.partition) || meta.partition < 0) {
    throw new ValidationError(
      'source_partition',
      `source_partition must be a non-negative integer, got ${meta.partition}.`,
    );
  }
  const customer = ref.customers.lookup(event.customer_ref, event.occurred_at);
  const resolution = resolvePrice(ref.prices, ref.overrides, {
    provider: event.provider,
    model: event.model,
    customerId: customer.unmapped ? null : customer.customer_id,
    occurredAtMs: event.occurred_at,
  });
  let cost = NO_COST;
  if (resolution.priced && resolution.schedule) {
    cost = computeCost(
      event,
      resolution.schedule,
      resolution.discount === undefined ? {} : { discount: resolution.discount },
    );
  }
  const unpriced = !resolution.priced || cost.unpriced_units.length > 0;
  const { tokens, units } = event;
  return {
    event_id: event.event_id,
    occurred_at: event.occurred_at,
    ingested_at: meta.ingestedAtMs,
    service: event.service,
    customer_ref: event.customer_ref,
    customer_id: customer.customer_id,
    customer_name: customer.name,
    team: customer.team,
    plan_kind: customer.plan?.kind ?? '',
    unmapped: customer.unmapped ? 1 : 0,
    user_ref: event.user_ref,
    workflow: event.workflow,
    workflow_run_id: event.workflow_run_id,
    step_id: event.step_id,
    parent_step_id: event.parent_step_id,
    step_kind: event.step_kind,
    depth: event.depth,
    attempt: event.attempt,
    feature: event.feature,
    provider: event.provider,
    model: event.model,
    tokens_input: tokens.input,
    tokens_cached_input: tokens.cached_input,
    tokens_cache_write: tokens.cache_write,
    tokens_output: tokens.output,
    tokens_reasoning: tokens.reasoning,
    requests: event.requests,
    units_images: units.images,
    units_audio_ms: units.audio_ms,
    units_web_search_calls: units.web_search_calls,
    latency_ms: event.latency_ms,
    status: event.status,
    provider_reported_cost_nanos: event.provider_reported_cost_nanos,
    quality_score: event.quality_score,
    tags: sortedTags(event.tags),
    cost_input_nanos: cost.input_nanos,
    cost_cached_input_nanos: cost.cached_input_nanos,
    cost_cache_write_nanos: cost.cache_write_nanos,
    cost_output_nanos: cost.output_nanos,
    cost_reasoning_nanos: cost.reasoning_nanos,
    cost_request_nanos: cost.request_nanos,
    cost_units_nanos: cost.units_nanos,
    cost_total_nanos: cost.total_nanos,
    price_version: resolution.priced ? resolution.price_version : '',
    unpriced: unpriced ? 1 : 0,
    byok: resolution.priced && resolution.byok ? 1 : 0,
    source_topic: meta.topic,
    source_partition: meta.partition,
    source_offset: meta.offset,
    plan_currency: customer.plan?.currency ?? '',
    plan_revenue_nanos: (customer.plan?.revenue_nanos ?? 0n).toString(),
    monthly_budget_nanos: (customer.monthly_budget_nanos ?? 0n).toString(),
    billing_period_start: billingPeriodStart(event.occurred_at, customer.billing_anchor_day),
  };
}
