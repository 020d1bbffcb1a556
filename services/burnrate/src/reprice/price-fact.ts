import { type CostBreakdown, computeCost, resolvePrice, ValidationError } from '@burnrate/core';
import type { PricingReference } from '../pricing/reference-files.js';

/**
 * What re-pricing reads of one fact: its identity and rollup keys, everything pricing depends on, and
 * its current pricing. Numbers arrive from ClickHouse JSON as numbers (≤ 32-bit columns) or as
 * decimal strings (64-bit columns, quoted so they stay exact).
 */
export interface FactRow {
  event_id: string;
  occurred_at_ms: string | number;
  billing_period_start: string;
  customer_id: string;
  unmapped: string | number;
  provider: string;
  model: string;
  tokens_input: string | number;
  tokens_cached_input: string | number;
  tokens_cache_write: string | number;
  tokens_output: string | number;
  tokens_reasoning: string | number;
  requests: string | number;
  units_images: string | number;
  units_audio_ms: string | number;
  units_web_search_calls: string | number;
  cost_input_nanos: string | number;
  cost_cached_input_nanos: string | number;
  cost_cache_write_nanos: string | number;
  cost_output_nanos: string | number;
  cost_reasoning_nanos: string | number;
  cost_request_nanos: string | number;
  cost_units_nanos: string | number;
  cost_total_nanos: string | number;
  price_version: string;
  unpriced: string | number;
  byok: string | number;
}

/** The cost columns of a fact, in table order; re-pricing rewrites exactly these plus the flags. */
export const COST_COLUMNS = [
  'cost_input_nanos',
  'cost_cached_input_nanos',
  'cost_cache_write_nanos',
  'cost_output_nanos',
  'cost_reasoning_nanos',
  'cost_request_nanos',
  'cost_units_nanos',
  'cost_total_nanos',
] as const;
export type CostColumn = (typeof COST_COLUMNS)[number];

/** How a fact is priced. Costs are BigInt so comparisons and sums never pass through a float. */
export type FactPricing = Record<CostColumn, bigint> & {
  price_version: string;
  unpriced: 0 | 1;
  byok: 0 | 1;
};

export type { PricingReference };

function count(row: FactRow, field: keyof FactRow): number {
  const value = Number(row[field]);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new ValidationError(field, `${field} of event ${row.event_id} is not a count: ${row[field]}.`);
  }
  return value;
}

function flag(value: string | number): 0 | 1 {
  return Number(value) === 1 ? 1 : 0;
}

/** The pricing the fact carries in ClickHouse. */
export function storedPricing(row: FactRow): FactPricing {
  const costs = {} as Record<CostColumn, bigint>;
  for (const column of COST_COLUMNS) costs[column] = BigInt(row[column]);
  return { ...costs, price_version: row.price_version, unpriced: flag(row.unpriced), byok: flag(row.byok) };
}

/**
 * What enrichment would book for this fact now: the same resolvePrice + computeCost calls with the
 * same rules as enrichEvent (core/src/enrich/enrich.ts), applied to the fact's stored attribution —
 * re-pricing never re-attributes a fact to another customer. A test pins the equivalence.
 * @throws ValidationError for counts computeCost refuses; BurnrateError `money_overflow`.
 */
export function repriceFact(row: FactRow, ref: PricingReference): FactPricing {
  const resolution = resolvePrice(ref.prices, ref.overrides, {
    provider: row.provider,
    model: row.model,
    customerId: flag(row.unmapped) === 1 ? null : row.customer_id,
    occurredAtMs: count(row, 'occurred_at_ms'),
  });
  let cost: CostBreakdown | undefined;
  if (resolution.priced && resolution.schedule) {
    const usage = {
      tokens: {
        input: count(row, 'tokens_input'),
        cached_input: count(row, 'tokens_cached_input'),
        cache_write: count(row, 'tokens_cache_write'),
        output: count(row, 'tokens_output'),
        reasoning: count(row, 'tokens_reasoning'),
      },
      requests: count(row, 'requests'),
      units: {
        images: count(row, 'units_images'),
        audio_ms: count(row, 'units_audio_ms'),
        web_search_calls: count(row, 'units_web_search_calls'),
      },
    };
    cost = computeCost(
      usage,
      resolution.schedule,
      resolution.discount === undefined ? {} : { discount: resolution.discount },
    );
  }
  const n = (value: number | undefined) => BigInt(value ?? 0);
  return {
    cost_input_nanos: n(cost?.input_nanos),
    cost_cached_input_nanos: n(cost?.cached_input_nanos),
    cost_cache_write_nanos: n(cost?.cache_write_nanos),
    cost_output_nanos: n(cost?.output_nanos),
    cost_reasoning_nanos: n(cost?.reasoning_nanos),
    cost_request_nanos: n(cost?.request_nanos),
    cost_units_nanos: n(cost?.units_nanos),
    cost_total_nanos: n(cost?.total_nanos),
    // Unpriced facts keep an empty price_version and zero cost, exactly as enrichment stores them.
    price_version: resolution.priced ? resolution.price_version : '',
    unpriced: !resolution.priced || (cost?.unpriced_units.length ?? 0) > 0 ? 1 : 0,
    byok: resolution.priced && resolution.byok ? 1 : 0,
  };
}

/** True when re-pricing would not change the fact: the check that makes a second run a no-op. */
export function samePricing(a: FactPricing, b: FactPricing): boolean {
  return (
    a.price_version === b.price_version &&
    a.unpriced === b.unpriced &&
    a.byok === b.byok &&
    COST_COLUMNS.every((column) => a[column] === b[column])
  );
}
