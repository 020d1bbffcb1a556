import type { BillableUnits, TokenUsage } from '../contract/usage-event.js';
import { ValidationError } from '../errors.js';
import { type Decimal, parseDecimal, pow10 } from '../money/decimal.js';
import { NANOS_PER_USD, toSafeNanos } from '../money/nanos.js';
import { divRoundHalfEven } from '../money/rounding.js';
import { type CompiledFee, type CompiledTokenRates, compileSchedule } from './compile.js';
import { costInSafeIntegers } from './cost-fast.js';
import type { PriceSchedule } from './types.js';

/** The parts of a usage event that cost money. */
export interface CostableUsage {
  tokens: TokenUsage;
  requests: number;
  units: BillableUnits;
}

export interface CostOptions {
  /** Fraction taken off every bucket and fee, as an exact decimal string in [0, 1], e.g. "0.15". */
  discount?: string;
}

/** Unit kinds an event used although the schedule has no fee for them. */
export type UnpricedUnit = 'images' | 'audio_ms' | 'web_search_calls';

/**
 * Cost of one event in nano-USD. Each bucket is its exact rational cost rounded half-to-even to the
 * nano-USD, once; `units_nanos` and `total_nanos` are sums of those rounded values, so the buckets
 * always add up to the total.
 */
export interface CostBreakdown {
  input_nanos: number;
  cached_input_nanos: number;
  cache_write_nanos: number;
  output_nanos: number;
  reasoning_nanos: number;
  request_nanos: number;
  images_nanos: number;
  audio_nanos: number;
  web_search_nanos: number;
  /** images + audio + web search. */
  units_nanos: number;
  total_nanos: number;
  /** The long-context tier applied, or null for the base rates. */
  tier_above_input_tokens: number | null;
  /** Units the event used that the schedule has no fee for; non-empty means the cost is incomplete. */
  unpriced_units: UnpricedUnit[];
}

const TOKENS_PER_PRICE = 1_000_000n;

function count(value: number, field: string): bigint {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new ValidationError(
      field,
      `${field} must be a non-negative integer, got ${value}.`,
      'invalid_event',
    );
  }
  return BigInt(value);
}

/**
 * Computes what `usage` costs under `schedule` (a catalog entry or an override's prices), exactly:
 * BigInt arithmetic throughout, one half-to-even rounding per bucket.
 * @throws ValidationError for negative or fractional counts or a malformed discount;
 *   BurnrateError `money_overflow` if the total passes 2^53 nano-USD (about 9 million USD).
 */
export function computeCost(
  usage: CostableUsage,
  schedule: PriceSchedule,
  options: CostOptions = {},
): CostBreakdown {
  const plan = compileSchedule(schedule);
  if (options.discount === undefined) {
    const fast = costInSafeIntegers(usage, plan);
    if (fast) return fast;
  }
  const { tokens, units } = usage;
  const input = count(tokens.input, 'tokens.input');
  const cachedInput = count(tokens.cached_input, 'tokens.cached_input');
  const cacheWrite = count(tokens.cache_write, 'tokens.cache_write');
  const output = count(tokens.output, 'tokens.output');
  const reasoning = count(tokens.reasoning, 'tokens.reasoning');
  const requests = count(usage.requests, 'requests');
  const images = count(units.images, 'units.images');
  const audioMs = count(units.audio_ms, 'units.audio_ms');
  const webSearches = count(units.web_search_calls, 'units.web_search_calls');

  // The multiplier (1 - discount) is kept as a fraction and folded into each bucket's single rounding.
  const discount: Decimal =
    options.discount === undefined ? { units: 0n, scale: 0 } : parseDecimal(options.discount, 'discount');
  const keepDenominator = pow10(discount.scale);
  const keepNumerator = keepDenominator - discount.units;
  if (keepNumerator < 0n)
    throw new ValidationError('discount', `discount must be at most 1, got ${options.discount}.`);

  const price = (quantity: bigint, rate: Decimal, quantityPerPrice: bigint): bigint =>
    quantity === 0n
      ? 0n
      : divRoundHalfEven(
          quantity * rate.units * NANOS_PER_USD * keepNumerator,
          pow10(rate.scale) * quantityPerPrice * keepDenominator,
        );
  const fee = (quantity: bigint, unitFee: CompiledFee | undefined): bigint =>
    unitFee === undefined ? 0n : price(quantity, unitFee.price, unitFee.unitsPerPrice);

  // Tiers are chosen per request: an event that batches `requests` calls is judged by its average prompt.
  const prompt = input + cachedInput + cacheWrite;
  const perRequest = requests > 0n ? requests : 1n;
  const tier = plan.tiers.find((candidate) => prompt > candidate.aboveInputTokens * perRequest);
  const rates: CompiledTokenRates = tier ? tier.rates : plan.base;

  const buckets = {
    input: price(input, rates.input, TOKENS_PER_PRICE),
    cachedInput: price(cachedInput, rates.cached_input, TOKENS_PER_PRICE),
    cacheWrite: price(cacheWrite, rates.cache_write, TOKENS_PER_PRICE),
    output: price(output, rates.output, TOKENS_PER_PRICE),
    reasoning: price(reasoning, rates.reasoning, TOKENS_PER_PRICE),
    request: fee(requests, plan.request),
    images: fee(images, plan.image),
    audio: fee(audioMs, plan.audio),
    webSearch: fee(webSearches, plan.webSearch),
  };
  const unitsTotal = buckets.images + buckets.audio + buckets.webSearch;
  const total =
    buckets.input +
    buckets.cachedInput +
    buckets.cacheWrite +
    buckets.output +
    buckets.reasoning +
    buckets.request +
    unitsTotal;
  // Checking the total suffices: every bucket is non-negative and at most the total.
  toSafeNanos(total, 'cost_total_nanos');

  const unpriced: UnpricedUnit[] = [];
  if (images > 0n && !plan.image) unpriced.push('images');
  if (audioMs > 0n && !plan.audio) unpriced.push('audio_ms');
  if (webSearches > 0n && !plan.webSearch) unpriced.push('web_search_calls');

  return {
    input_nanos: Number(buckets.input),
    cached_input_nanos: Number(buckets.cachedInput),
    cache_write_nanos: Number(buckets.cacheWrite),
    output_nanos: Number(buckets.output),
    reasoning_nanos: Number(buckets.reasoning),
    request_nanos: Number(buckets.request),
    images_nanos: Number(buckets.images),
    audio_nanos: Number(buckets.audio),
    web_search_nanos: Number(buckets.webSearch),
    units_nanos: Number(unitsTotal),
    total_nanos: Number(total),
    tier_above_input_tokens: tier ? Number(tier.aboveInputTokens) : null,
    unpriced_units: unpriced,
  };
}
